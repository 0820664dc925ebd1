"""The digest's "Nudge" button: a friendly DM to a learner, once a week at most, by their manager or staff."""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.reports.render import NUDGE_ACTION, digest_message
from bot.capabilities.reports.service import build_report, week_label
from bot.core import texts
from bot.core.context import Ctx
from bot.core.errors import PermissionDenied, UserError
from bot.core.messages import Message, Reply, Text, say
from bot.core.models import Cohort, ManagerLink, OutboxMessage, Person
from bot.core.registry import action

texts.register(
    {
        "reports.nudge": (
            "Hi {name}, a friendly nudge from {by} about *{cohort}*: {todo}. "
            "Type `status {cohort}` to see what's next. You've got this!"
        ),
        "reports.nudge.todo": "a few things are waiting for you",
    }
)


def nudge_key(cohort_id: int, person_id: int, week: str) -> str:
    return f"{NUDGE_ACTION}:{cohort_id}:{person_id}:{week}"


async def nudged(session: AsyncSession, cohort_id: int, people: Collection[int], week: str) -> set[int]:
    """Who among `people` was already nudged this week (their nudge is in the outbox)."""
    keys = [nudge_key(cohort_id, pid, week) for pid in people]
    rows = await session.exec(select(OutboxMessage.person_id).where(col(OutboxMessage.key).in_(keys)))
    return {pid for pid in rows.all() if pid is not None}


NOT_YOURS = "This nudge button is not valid any more, or it is not yours to press."


def _parse(value: str) -> tuple[int, int]:
    cohort, _, person = value.partition(":")
    if not (cohort.isdigit() and person.isdigit()):
        raise PermissionDenied(NOT_YOURS)
    return int(cohort), int(person)


@action(NUDGE_ACTION)
async def nudge(ctx: Ctx, value: str, inputs: dict[str, str]) -> Reply:
    cohort_id, person_id = _parse(value)
    cohort = await ctx.session.get(Cohort, cohort_id)
    learner = await ctx.session.get(Person, person_id)
    link = (
        await ctx.session.exec(
            select(ManagerLink).where(ManagerLink.cohort_id == cohort_id, ManagerLink.learner_id == person_id)
        )
    ).first()
    # Who may press it is checked before anything about the learner is said: a forged button
    # gets the same answer whether or not the cohort, the person or the enrolment exists.
    allowed = link is not None and link.manager_id == ctx.actor.id
    if cohort is None or learner is None or not (allowed or await ctx.is_staff(cohort)):
        raise PermissionDenied(NOT_YOURS)
    enrolment = await ctx.enrolment(cohort, person_id)
    if enrolment is None or enrolment.role != "learner" or enrolment.status != "active":
        raise UserError(
            f"{learner.display_name} is not an active learner of '{cohort.slug}': nobody was nudged."
        )
    week = week_label(ctx.now, cohort.tz)
    # The card to redraw is the digest of the learner's manager (the one holding this button).
    manager_id = link.manager_id if link is not None else None
    team = await _team(ctx, cohort_id, manager_id) if manager_id is not None else [person_id]
    report = await build_report(ctx.session, cohort, ctx.now, person_ids=team, with_kpis=False)
    stats = report.learner(person_id)
    if person_id not in await nudged(ctx.session, cohort_id, [person_id], week):
        todo = ", ".join(stats.risks) if stats and stats.risks else texts.t("reports.nudge.todo")
        text = texts.t(
            "reports.nudge",
            name=learner.display_name,
            by=ctx.actor.display_name,
            cohort=cohort.slug,
            todo=todo,
        )
        key = nudge_key(cohort_id, person_id, week)
        if await ctx.dm(person_id, Message(text, (Text(text),)), key=key, cohort_id=cohort_id):
            await ctx.log(
                "reports.nudged", cohort_id=cohort_id, person_id=person_id, actor_id=ctx.actor.id, week=week
            )
        elif person_id not in await nudged(ctx.session, cohort_id, [person_id], week):
            # Not a concurrent double click that queued it first: they have no chat identity.
            raise UserError(f"{learner.display_name} cannot be reached in chat yet: nobody was nudged.")
    if manager_id is None:
        return say(f"{learner.display_name}: Nudged ✓")
    manager = await ctx.session.get_one(Person, manager_id)
    done = await nudged(ctx.session, cohort_id, team, week)
    return Reply(digest_message(report, report.learners, tz=manager.tz or cohort.tz, nudged=done), "replace")


async def _team(ctx: Ctx, cohort_id: int, manager_id: int) -> list[int]:
    rows = await ctx.session.exec(
        select(ManagerLink.learner_id).where(
            ManagerLink.cohort_id == cohort_id, ManagerLink.manager_id == manager_id
        )
    )
    return list(rows.all())
