"""Answering challenges: a quiz answer or a task's "done", with the late-answer rule.

What counts is when the learner clicked (the platform's event time). A click made before the deadline that
reaches us within GRACE after it still counts (the close waits for it); a click made after the deadline, or
arriving once the winners are announced, is refused with the reason. The first answer counts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot.capabilities.challenges.cards import GRACE, answer_note, label
from bot.capabilities.challenges.tables import Challenge, ChallengeEntry
from bot.core import texts
from bot.core.context import Ctx, EventContext
from bot.core.i18n import _
from bot.core.messages import Header, Message, Reply, Text, say
from bot.core.models import Cohort, Enrolment
from bot.core.registry import action


async def _playable(ctx: Ctx, value: str) -> tuple[Challenge, Cohort, Enrolment] | Reply:
    """The challenge a click is about and the learner's enrolment, or the polite reason it can't count."""
    challenge = await ctx.session.get(Challenge, int(value)) if value.isdigit() else None
    if challenge is None:
        return say(_("This challenge no longer exists."))
    cohort = await ctx.session.get_one(Cohort, challenge.cohort_id)
    enrolment = await ctx.enrolment(cohort, ctx.actor.id or 0)
    if enrolment is None or enrolment.role != "learner" or enrolment.status != "active":
        return say(texts.t("challenges.refused.not_learner", cohort=cohort.slug))
    when = texts.local_time(challenge.closes_at, ctx.actor.tz or cohort.tz)
    if challenge.status == "closed":
        return say(texts.t("challenges.refused.closed", when=when) + answer_note(challenge))
    if clicked_at(ctx) > challenge.closes_at or ctx.now > challenge.closes_at + GRACE:
        return say(texts.t("challenges.refused.late", when=when))
    return challenge, cohort, enrolment


def clicked_at(ctx: Ctx) -> datetime:
    """When the learner clicked: the platform's event time, never later than now (and never trusted
    to be in the future)."""
    event_time = ctx.inbound.event_time
    return min(event_time, ctx.now) if event_time is not None else ctx.now


async def entry_of(ctx: EventContext, challenge_id: int, person_id: int) -> ChallengeEntry | None:
    rows = await ctx.session.exec(
        select(ChallengeEntry).where(
            ChallengeEntry.challenge_id == challenge_id, ChallengeEntry.person_id == person_id
        )
    )
    return rows.first()


def _answered(ctx: Ctx, challenge: Challenge, text: str) -> Reply:
    """Replace the learner's own card; a click on the channel's card is answered privately, or one
    learner's answer would replace the card everyone else still has to answer."""
    card = Message(
        _("{label}: {title}", label=label(challenge), title=text),
        (Header(label(challenge)), Text(f"{challenge.title}\n{text}")),
    )
    from_channel = (ctx.inbound.source_key or "").startswith("challenges.post:")
    return Reply(card, "private" if from_channel else "replace")


@action("challenges.answer")
async def answer_quiz(ctx: Ctx, value: str, inputs: dict[str, str]) -> Reply:
    found = await _playable(ctx, value)
    if isinstance(found, Reply):
        return found
    challenge, cohort, enrolment = found
    when = texts.local_time(challenge.closes_at, ctx.actor.tz or cohort.tz)
    existing = await entry_of(ctx, challenge.id or 0, enrolment.person_id)
    if existing is not None:
        return say(texts.t("challenges.quiz.already", answer=existing.answer, when=when))
    choice = inputs.get(f"challenge-{challenge.id}", "").strip()
    if choice not in challenge.options:
        return say(_("Pick one of the answers: {answers}.", answers=", ".join(challenge.options)))
    if not await _enter(ctx, challenge, enrolment, choice, choice == challenge.correct):
        first = await entry_of(ctx, challenge.id or 0, enrolment.person_id)
        return say(texts.t("challenges.quiz.already", answer=first.answer if first else choice, when=when))
    return _answered(ctx, challenge, texts.t("challenges.quiz.thanks", answer=choice, when=when))


@action("challenges.done")
async def mark_task_done(ctx: Ctx, value: str, inputs: dict[str, str]) -> Reply:
    found = await _playable(ctx, value)
    if isinstance(found, Reply):
        return found
    challenge, cohort, enrolment = found
    if challenge.kind != "task":
        return say(_("This challenge is not a task."))
    when = texts.local_time(challenge.closes_at, ctx.actor.tz or cohort.tz)
    if await entry_of(ctx, challenge.id or 0, enrolment.person_id) is not None:
        return say(texts.t("challenges.task.already", when=when))
    if not await _enter(ctx, challenge, enrolment, "done", not challenge.needs_confirm):
        return say(texts.t("challenges.task.already", when=when))
    key = "challenges.task.thanks_confirm" if challenge.needs_confirm else "challenges.task.thanks"
    return _answered(ctx, challenge, texts.t(key, when=when))


async def _enter(ctx: Ctx, challenge: Challenge, enrolment: Enrolment, answer: str, succeeded: bool) -> bool:
    """Record the learner's first answer; False when another click of theirs got in first (two
    instances taking a double click at once: the unique (challenge, person) row decides)."""
    entry = ChallengeEntry(
        challenge_id=challenge.id or 0,
        person_id=enrolment.person_id,
        team=enrolment.team,
        answer=answer,
        correct=succeeded,
        clicked_at=clicked_at(ctx),
        received_at=ctx.now,
    )
    try:
        async with ctx.session.begin_nested():
            ctx.session.add(entry)
            await ctx.session.flush()
    except IntegrityError:
        return False
    await ctx.log(
        "challenge.answered",
        cohort_id=challenge.cohort_id,
        person_id=enrolment.person_id,
        challenge_id=challenge.id,
        team=enrolment.team,
    )
    return True
