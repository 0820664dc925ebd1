"""The welcome DM, and the late welcome: someone enrolled by email gets no DM until one of their
platform accounts is known; when it is linked, they get the welcome of each cohort they are in."""

from __future__ import annotations

from sqlmodel import col, select

from bot.core import texts
from bot.core.context import EventContext
from bot.core.linking import LINKED
from bot.core.messages import Message, Text
from bot.core.models import Activity, Cohort, Enrolment, OutboxMessage
from bot.core.outbox import Recipient
from bot.core.registry import on_activities


def welcome_message(cohort_slug: str, team: str | None) -> Message:
    text = texts.t("welcome", cohort=cohort_slug)
    if team:
        text += " " + texts.t("welcome.team", team=team)
    return Message(text, (Text(text),))


def welcome_key(cohort_id: int, person_id: int) -> str:
    return f"welcome:{cohort_id}:{person_id}"


@on_activities(LINKED)
async def welcome_on_link(ctx: EventContext, activities: list[Activity]) -> None:
    person_ids = sorted({a.person_id for a in activities if a.person_id is not None})
    for start in range(0, len(person_ids), CHUNK):
        await _welcome(ctx, person_ids[start : start + CHUNK])


CHUNK = 500  # people per query: well under every database's bound-parameter limit


async def _welcome(ctx: EventContext, person_ids: list[int]) -> None:
    rows = await ctx.session.exec(
        select(Enrolment.person_id, Enrolment.team, Cohort.id, Cohort.slug)
        .join(Cohort, col(Cohort.id) == Enrolment.cohort_id)
        .where(
            col(Enrolment.person_id).in_(person_ids),
            Enrolment.role == "learner",
            Enrolment.status == "active",
            Cohort.status != "archived",
        )
    )
    # A merged record may have been welcomed under its old id: the outbox row followed the person.
    welcomed = set(
        (
            await ctx.session.exec(
                select(OutboxMessage.person_id, OutboxMessage.cohort_id).where(
                    col(OutboxMessage.person_id).in_(person_ids),
                    col(OutboxMessage.key).startswith("welcome:"),
                )
            )
        ).all()
    )
    per_cohort: dict[int, list[Recipient]] = {}
    messages: dict[tuple[str, str | None], Message] = {}  # one message object per cohort and team
    for person_id, team, cohort_id, slug in rows.all():
        if (person_id, cohort_id) in welcomed:
            continue
        message = messages.setdefault((slug, team), welcome_message(slug, team))
        per_cohort.setdefault(cohort_id, []).append(
            Recipient(person_id, welcome_key(cohort_id, person_id), message)
        )
    for cohort_id, recipients in per_cohort.items():
        await ctx.dms(recipients, cohort_id=cohort_id)
