"""`report <cohort>` (staff: the cohort; a manager: their own reports) and `digest [<cohort>]`
(a manager's digest now), each with a private link to the report page."""

from __future__ import annotations

from sqlmodel import col, select

from bot.capabilities.reports.audience import Audience, chat_audience, reports_of, visible_to
from bot.capabilities.reports.kpis import CohortReport
from bot.capabilities.reports.links import person_link
from bot.capabilities.reports.nudge import nudged
from bot.capabilities.reports.render import digest_message, report_message
from bot.capabilities.reports.service import build_report, week_label
from bot.core.context import Ctx
from bot.core.errors import PermissionDenied, UserError
from bot.core.grammar import Slug
from bot.core.i18n import _
from bot.core.messages import Divider, Header, Message, Reply
from bot.core.models import Cohort, ManagerLink
from bot.core.registry import manager_view, verb


def report_link(ctx: Ctx, cohort: Cohort, audience: Audience) -> str:
    return person_link(ctx.settings, cohort.id or 0, ctx.actor.id or 0, audience.scope, ctx.now)


async def scoped_report(ctx: Ctx, cohort: Cohort, audience: Audience) -> CohortReport:
    """The report as this viewer may see it: a manager gets only their people and cohort-wide aggregates."""
    report = await build_report(ctx.session, cohort, ctx.now, person_ids=audience.learner_ids)
    return visible_to(report, audience)


@verb(
    "report",
    Slug("cohort"),
    summary="the training report with a link to its page (staff: the cohort; managers: their people)",
    example="report spring-onboarding",
    for_managers=True,
)
async def report(ctx: Ctx, cohort: str) -> Reply:
    row = await ctx.cohort(cohort)
    audience = await chat_audience(ctx, row)
    if audience is None:
        raise PermissionDenied(
            _(
                "Only admins and trainers of '{cohort}', and managers of its learners, can see its report. "
                "Ask one of them, or see `status {cohort}`.",
                cohort=row.slug,
            )
        )
    computed = await scoped_report(ctx, row, audience)
    return Reply(report_message(computed, report_link(ctx, row, audience), scoped=audience.is_manager))


async def managed_cohorts(ctx: Ctx) -> list[Cohort]:
    rows = await ctx.session.exec(
        select(Cohort)
        .join(ManagerLink, col(ManagerLink.cohort_id) == Cohort.id)
        .where(ManagerLink.manager_id == ctx.actor.id)
        .distinct()
        .order_by(col(Cohort.slug))
    )
    return list(rows.all())


@manager_view
async def manager_digest(ctx: Ctx, cohort: Cohort) -> Message | None:
    """The caller's digest for one cohort, now: only their own reports (None: nobody reports to them)."""
    team = await reports_of(ctx.session, cohort.id or 0, ctx.actor.id or 0)
    if not team:
        return None
    report = await build_report(ctx.session, cohort, ctx.now, person_ids=team, with_kpis=False)
    done = await nudged(ctx.session, cohort.id or 0, team, week_label(ctx.now, cohort.tz))
    link = report_link(ctx, cohort, Audience("manager", team))
    return digest_message(report, report.learners, tz=ctx.actor.tz or cohort.tz, nudged=done, link=link)


@verb(
    "digest",
    Slug("cohort", optional=True),
    summary="your people's digest now (managers): progress, who is at risk, Nudge",
    example="digest spring-onboarding",
    for_managers=True,
)
async def digest(ctx: Ctx, cohort: str | None) -> Reply:
    if cohort is not None:
        row = await ctx.cohort(cohort)
        message = await manager_digest(ctx, row)
        if message is None:
            raise UserError(
                _(
                    "Nobody reports to you in '{cohort}', so there is no digest for you. "
                    "Trainers: `report {cohort}`.",
                    cohort=row.slug,
                )
            )
        return Reply(message)
    mine = await managed_cohorts(ctx)
    if not mine:
        raise UserError(_("Nobody reports to you in any cohort, so there is no digest for you."))
    messages = [m for c in mine if (m := await manager_digest(ctx, c)) is not None]
    if len(messages) == 1:
        return Reply(messages[0])
    title = _("Your people's digests")
    blocks: list = [Header(title)]
    for message in messages:
        blocks.extend((Divider(), *message.blocks))
    return Reply(Message(title, tuple(blocks)))
