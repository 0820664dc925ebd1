"""Confirming and closing challenges: judged at the deadline (or when a trainer says), winners paid through
the activity log, results posted, answer cards retired, each participant told their outcome."""

from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.challenges.answers import entry_of
from bot.capabilities.challenges.cards import (
    GRACE,
    LONGEST,
    answer_note,
    label,
    outcome_message,
    result_message,
)
from bot.capabilities.challenges.judging import Attempt, Judgement, judge
from bot.capabilities.challenges.names import display_names
from bot.capabilities.challenges.tables import Challenge, ChallengeEntry
from bot.core import outbox
from bot.core.context import Ctx, EventContext
from bot.core.errors import UserError
from bot.core.messages import Header, Message, Reply, Text, say
from bot.core.models import Cohort
from bot.core.outbox import Recipient, Update
from bot.core.registry import on_event, planner
from schedules.events import PlannedEvent

CHALLENGE_ID_RE = re.compile(r"^#?(\d{1,9})$")


async def _challenge_of(ctx: Ctx, cohort: Cohort, token: str | None, usage: str) -> Challenge:
    match = CHALLENGE_ID_RE.match(token or "")
    if not match:
        raise UserError(
            "Say which challenge by its number, e.g. 3 (`challenges <cohort>` lists them).", usage=usage
        )
    challenge = await ctx.session.get(Challenge, int(match.group(1)))
    if challenge is None or challenge.cohort_id != cohort.id:
        raise UserError(
            f"'{cohort.slug}' has no challenge #{match.group(1)}. `challenges {cohort.slug}` lists them."
        )
    return challenge


async def confirm_verb(ctx: Ctx, cohort: Cohort, details: list[str]) -> Reply:
    usage = "challenge <cohort> confirm <number> <people...>"
    challenge = await _challenge_of(ctx, cohort, details[0] if details else None, usage)
    if challenge.kind != "task":
        raise UserError(f"{label(challenge)} is not a task: only tasks are confirmed.")
    if challenge.status == "closed":
        raise UserError(
            f"{label(challenge)} is closed. To reward someone now: "
            f"`award {cohort.slug} <learner> <points> <reason>`."
        )
    if len(details) < 2:
        raise UserError("Say whose task to confirm.", usage=usage)
    confirmed = []
    for token in details[1:]:
        person = await ctx.person(token)
        enrolment = await ctx.enrolment(cohort, person.id or 0)
        if enrolment is None or enrolment.role != "learner" or enrolment.status != "active":
            raise UserError(
                f"{person.display_name} is not an active learner of '{cohort.slug}'. Nothing was confirmed."
            )
        entry = await entry_of(ctx, challenge.id or 0, person.id or 0)
        if entry is None:  # the trainer saw it done: that counts as their "done"
            entry = ChallengeEntry(
                challenge_id=challenge.id or 0,
                person_id=person.id or 0,
                team=enrolment.team,
                answer="done",
                clicked_at=ctx.now,
                received_at=ctx.now,
            )
        entry.correct, entry.confirmed_by = True, ctx.actor.id
        ctx.session.add(entry)
        confirmed.append(person.display_name)
    await ctx.log(
        "challenge.confirmed",
        cohort_id=cohort.id,
        actor_id=ctx.actor.id,
        challenge_id=challenge.id,
        people=confirmed,
    )
    return say(f"Confirmed {label(challenge)} for {', '.join(confirmed)}.")


async def close_verb(ctx: Ctx, cohort: Cohort, details: list[str]) -> Reply:
    challenge = await _challenge_of(
        ctx, cohort, details[0] if details else None, "challenge <cohort> close <number>"
    )
    if len(details) > 1:
        raise UserError(f"Unexpected '{' '.join(details[1:])}' after the challenge number.")
    if challenge.status == "closed":
        raise UserError(f"{label(challenge)} is already closed.")
    judgement = await close_challenge(ctx, cohort, challenge, closed_by=ctx.actor.id)
    return Reply(
        result_message(challenge, judgement, await display_names(ctx.session, list(judgement.people)))
    )


async def close_challenge(
    ctx: EventContext, cohort: Cohort, challenge: Challenge, *, closed_by: int | None
) -> Judgement:
    """Judge, award the winners (through the activity log), announce, and retire the answer cards."""
    learners = await ctx.learners(cohort)
    entries = (
        await ctx.session.exec(select(ChallengeEntry).where(ChallengeEntry.challenge_id == challenge.id))
    ).all()
    # Learners who joined after the post count only if they took part: nobody's team is
    # penalised for a member who never got the question.
    took_part = {e.person_id for e in entries}
    members = {
        e.person_id: e.team
        for e in learners
        if e.enrolled_at <= challenge.opens_at or e.person_id in took_part
    }
    judgement = judge(challenge.scoring, members, [Attempt(e.person_id, e.team, e.correct) for e in entries])
    challenge.status, challenge.closed_at, challenge.closed_by = "closed", ctx.now, closed_by
    challenge.result = judgement.as_json()
    ctx.session.add(challenge)
    played_for = {e.person_id: e.team for e in entries}
    active = {e.person_id for e in learners}
    for person_id in judgement.people:
        await ctx.log(
            "challenge.won",
            cohort_id=cohort.id,
            person_id=person_id,
            challenge_id=challenge.id,
            team=played_for.get(person_id),
            points=challenge.points,
        )
    names = await display_names(ctx.session, list(judgement.people))
    result = result_message(challenge, judgement, names)
    await ctx.post(cohort, result, key=f"challenges.result:{challenge.id}")
    closed_card = Message(
        f"{label(challenge)} is closed",
        (
            Header(label(challenge)),
            Text(f"{challenge.title}\nClosed: see the results in the channel.{answer_note(challenge)}"),
        ),
    )
    cards = [f"challenges.post:{challenge.id}"] + [
        f"challenges.card:{challenge.id}:{e.person_id}" for e in learners
    ]
    await outbox.enqueue_updates(
        ctx.session, [Update(k, f"{k}:closed", closed_card) for k in cards], now=ctx.now
    )
    await ctx.dms(
        [
            Recipient(
                e.person_id,
                f"challenges.outcome:{challenge.id}:{e.person_id}",
                outcome_message(challenge, judgement, e.person_id, e.team),
            )
            for e in entries
            if e.person_id in active
        ],
        cohort_id=cohort.id,
    )
    return judgement


@planner
async def plan_closes(session: AsyncSession, cohort: Cohort, now: datetime) -> list[PlannedEvent]:
    """Close each open challenge GRACE after its deadline; a task that needs confirmation is not closed
    automatically: its creator is asked to confirm and close it."""
    rows = await session.exec(
        select(Challenge).where(
            Challenge.cohort_id == cohort.id,
            Challenge.status == "open",
            col(Challenge.kind).in_(("quiz", "task")),
        )
    )
    events = []
    for challenge in rows.all():
        kind = "challenges.confirm_due" if challenge.needs_confirm else "challenges.close"
        events.append(
            PlannedEvent(
                key=f"{kind}:{challenge.id}",
                kind=kind,
                due_at=challenge.closes_at + GRACE,
                cohort_id=cohort.id,
                payload={"challenge_id": challenge.id},
                grace=LONGEST,  # back from an outage: close late rather than never
            )
        )
    return events


@on_event("challenges.close")
async def close_at_deadline(ctx: EventContext, event: PlannedEvent) -> None:
    challenge = await ctx.session.get(Challenge, event.payload["challenge_id"])
    if challenge is None or challenge.status == "closed":
        return
    cohort = await ctx.session.get_one(Cohort, challenge.cohort_id)
    await close_challenge(ctx, cohort, challenge, closed_by=None)


@on_event("challenges.confirm_due")
async def ask_to_confirm(ctx: EventContext, event: PlannedEvent) -> None:
    challenge = await ctx.session.get(Challenge, event.payload["challenge_id"])
    if challenge is None or challenge.status == "closed" or challenge.created_by is None:
        return
    cohort = await ctx.session.get_one(Cohort, challenge.cohort_id)
    entries = (
        await ctx.session.exec(select(ChallengeEntry).where(ChallengeEntry.challenge_id == challenge.id))
    ).all()
    waiting = sorted(
        (await display_names(ctx.session, [e.person_id for e in entries if not e.correct])).values()
    )
    text = (
        f"{label(challenge)} in {cohort.slug} reached its deadline. Waiting for your confirmation: "
        f"{', '.join(waiting) or 'nobody'}. "
        f"Confirm with `challenge {cohort.slug} confirm {challenge.id} <people...>`, "
        f"then `challenge {cohort.slug} close {challenge.id}` announces the winners."
    )
    await ctx.dm(challenge.created_by, Message(text, (Text(text),)), key=event.key, cohort_id=cohort.id)
