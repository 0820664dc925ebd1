"""Who a viewer may see in a cohort's report: staff see everyone, a manager only their own reports."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.reports.kpis import CohortReport
from bot.capabilities.reports.links import ReportGrant, Scope
from bot.core.context import STAFF_ROLES, Ctx
from bot.core.models import Cohort, Enrolment, ManagerLink

# Cohort-wide figures a manager may read: aggregates over many people, never one person's.
MANAGER_KPIS = ("satisfaction",)


@dataclass(frozen=True)
class Audience:
    scope: Scope
    learner_ids: list[int] | None  # None: the whole cohort

    @property
    def is_manager(self) -> bool:
        return self.scope == "manager"


def visible_to(report: CohortReport, audience: Audience) -> CohortReport:
    """A report built for `audience.learner_ids`, less the cohort-wide figures a manager may not read."""
    if not audience.is_manager:
        return report
    return replace(report, kpis={k: v for k, v in report.kpis.items() if k in MANAGER_KPIS})


async def reports_of(session: AsyncSession, cohort_id: int, manager_id: int) -> list[int]:
    """The learners who report to `manager_id` in the cohort."""
    rows = await session.exec(
        select(ManagerLink.learner_id).where(
            ManagerLink.cohort_id == cohort_id, ManagerLink.manager_id == manager_id
        )
    )
    return sorted(rows.all())


async def is_manager_in(session: AsyncSession, cohort_id: int, person_id: int) -> bool:
    return bool(await reports_of(session, cohort_id, person_id))


async def chat_audience(ctx: Ctx, cohort: Cohort) -> Audience | None:
    """What the caller may see of `cohort`'s report (None: nothing)."""
    if await ctx.is_staff(cohort):
        return Audience("staff", None)
    mine = await reports_of(ctx.session, cohort.id or 0, ctx.actor.id or 0)
    return Audience("manager", mine) if mine else None


async def grant_audience(session: AsyncSession, grant: ReportGrant) -> Audience | None:
    """Re-check a link's rights now: a trainer removed or a manager whose team changed sees that."""
    if grant.scope == "manager":
        mine = await reports_of(session, grant.cohort_id, grant.person_id)
        return Audience("manager", mine) if mine else None
    enrolment = (
        await session.exec(
            select(Enrolment).where(
                Enrolment.cohort_id == grant.cohort_id, Enrolment.person_id == grant.person_id
            )
        )
    ).first()
    if enrolment is None:
        # Only a configured admin (vouched by their platform when the link was made) gets a staff
        # link without an enrolment.
        return Audience("staff", None)
    if enrolment.status == "active" and enrolment.role in STAFF_ROLES:
        return Audience("staff", None)
    return None
