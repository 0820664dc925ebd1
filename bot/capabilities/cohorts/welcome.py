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
from bot.core.registry import on_activity


def welcome_message(cohort_slug: str, team: str | None) -> Message:
    text = texts.t("welcome", cohort=cohort_slug)
    if team:
        text += " " + texts.t("welcome.team", team=team)
    return Message(text, (Text(text),))


def welcome_key(cohort_id: int, person_id: int) -> str:
    return f"welcome:{cohort_id}:{person_id}"


@on_activity(LINKED)
async def welcome_on_link(ctx: EventContext, activity: Activity) -> None:
    person_id = activity.person_id
    if person_id is None:
        return
    rows = await ctx.session.exec(
        select(Enrolment, Cohort)
        .join(Cohort, col(Cohort.id) == Enrolment.cohort_id)
        .where(
            Enrolment.person_id == person_id,
            Enrolment.role == "learner",
            Enrolment.status == "active",
            Cohort.status != "archived",
        )
    )
    # A merged record may have been welcomed under its old id: the outbox row followed the person.
    welcomed = set(
        (
            await ctx.session.exec(
                select(OutboxMessage.cohort_id).where(
                    OutboxMessage.person_id == person_id, col(OutboxMessage.key).startswith("welcome:")
                )
            )
        ).all()
    )
    for enrolment, cohort in rows.all():
        if cohort.id in welcomed:
            continue
        key = welcome_key(cohort.id or 0, person_id)
        await ctx.dms(
            [Recipient(person_id, key, welcome_message(cohort.slug, enrolment.team))], cohort_id=cohort.id
        )
