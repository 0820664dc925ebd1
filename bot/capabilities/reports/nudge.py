"""The digest's "Nudge" button: a friendly DM to a learner, once a week at most, by their manager or staff."""

from __future__ import annotations

from collections.abc import Collection
from functools import partial

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.reports.links import person_link
from bot.capabilities.reports.render import NUDGE_ACTION, digest_message, reasons
from bot.capabilities.reports.service import build_report, week_label
from bot.core.context import Ctx
from bot.core.errors import PermissionDenied, UserError
from bot.core.i18n import N_, _
from bot.core.messages import Message, Reply, Text, say
from bot.core.models import Cohort, ManagerLink, OutboxMessage, Person
from bot.core.registry import action


def nudge_message(name: str, by: str, cohort: str, stats: object) -> Message:
    """The nudge, in the learner's language (the outbox calls this for each reader)."""
    from bot.capabilities.reports.kpis import LearnerStats

    todo = (
        reasons(stats)
        if isinstance(stats, LearnerStats) and stats.risks
        else _("a few things are waiting for you")
    )
    text = _(
        "Hi {name}, a friendly nudge from {by} about *{cohort}*: {todo}. "
        "Type `status {cohort}` to see what's next. You've got this!",
        name=name,
        by=by,
        cohort=cohort,
        todo=todo,
    )
    return Message(text, (Text(text),))


def nudge_key(cohort_id: int, person_id: int, week: str) -> str:
    return f"{NUDGE_ACTION}:{cohort_id}:{person_id}:{week}"


async def nudged(session: AsyncSession, cohort_id: int, people: Collection[int], week: str) -> set[int]:
    """Who among `people` was already nudged this week (their nudge is in the outbox)."""
    keys = [nudge_key(cohort_id, pid, week) for pid in people]
    rows = await session.exec(select(OutboxMessage.person_id).where(col(OutboxMessage.key).in_(keys)))
    return {pid for pid in rows.all() if pid is not None}


NOT_YOURS = N_("This nudge button is not valid any more, or it is not yours to press.")


def _parse(value: str) -> tuple[int, int]:
    cohort, _sep, person = value.partition(":")
    if not (cohort.isdigit() and person.isdigit()):
        raise PermissionDenied(_(NOT_YOURS))
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
        raise PermissionDenied(_(NOT_YOURS))
    enrolment = await ctx.enrolment(cohort, person_id)
    if enrolment is None or enrolment.role != "learner" or enrolment.status != "active":
        raise UserError(
            _(
                "{name} is not an active learner of '{cohort}': nobody was nudged.",
                name=learner.display_name,
                cohort=cohort.slug,
            )
        )
    week = week_label(ctx.now, cohort.tz)
    # The card to redraw is the digest of the learner's manager (the one holding this button).
    manager_id = link.manager_id if link is not None else None
    team = await _team(ctx, cohort_id, manager_id) if manager_id is not None else [person_id]
    report = await build_report(ctx.session, cohort, ctx.now, person_ids=team, with_kpis=False)
    stats = report.learner(person_id)
    if person_id not in await nudged(ctx.session, cohort_id, [person_id], week):
        compose = partial(nudge_message, learner.display_name, ctx.actor.display_name, cohort.slug, stats)
        key = nudge_key(cohort_id, person_id, week)
        if await ctx.dm(person_id, compose, key=key, cohort_id=cohort_id):
            await ctx.log(
                "reports.nudged", cohort_id=cohort_id, person_id=person_id, actor_id=ctx.actor.id, week=week
            )
        elif person_id not in await nudged(ctx.session, cohort_id, [person_id], week):
            # Not a concurrent double click that queued it first: they have no chat identity.
            raise UserError(
                _("{name} cannot be reached in chat yet: nobody was nudged.", name=learner.display_name)
            )
    if manager_id is None:
        return say(_("{name}: Nudged ✓", name=learner.display_name))
    manager = await ctx.session.get_one(Person, manager_id)
    done = await nudged(ctx.session, cohort_id, team, week)
    page = (
        person_link(ctx.settings, cohort_id, manager_id, "manager", ctx.now)
        if manager_id == ctx.actor.id
        else None
    )
    message = digest_message(report, report.learners, tz=manager.tz or cohort.tz, nudged=done, link=page)
    return Reply(message, "replace")


async def _team(ctx: Ctx, cohort_id: int, manager_id: int) -> list[int]:
    rows = await ctx.session.exec(
        select(ManagerLink.learner_id).where(
            ManagerLink.cohort_id == cohort_id, ManagerLink.manager_id == manager_id
        )
    )
    return list(rows.all())
