"""Confirming and closing challenges: judged at the deadline (or when a trainer says), winners paid through
the activity log, results posted, answer cards retired, each participant told their outcome."""

from __future__ import annotations

import re
from datetime import datetime
from functools import partial

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
    title_of,
)
from bot.capabilities.challenges.judging import Attempt, Judgement, judge
from bot.capabilities.challenges.names import display_names
from bot.capabilities.challenges.tables import Challenge, ChallengeEntry
from bot.core import outbox
from bot.core.context import Ctx, EventContext
from bot.core.errors import UserError
from bot.core.i18n import _
from bot.core.messages import Header, Message, Reply, Text, say
from bot.core.models import Cohort, Person
from bot.core.outbox import Recipient, Update
from bot.core.registry import on_event, planner
from schedules.events import PlannedEvent

CHALLENGE_ID_RE = re.compile(r"^#?(\d{1,9})$")


async def _challenge_of(ctx: Ctx, cohort: Cohort, token: str | None, usage: str) -> Challenge:
    match = CHALLENGE_ID_RE.match(token or "")
    if not match:
        raise UserError(
            _("Say which challenge by its number, e.g. 3 (`challenges <cohort>` lists them)."), usage=usage
        )
    challenge = await ctx.session.get(Challenge, int(match.group(1)))
    if challenge is None or challenge.cohort_id != cohort.id:
        raise UserError(
            _(
                "'{cohort}' has no challenge #{id}. `challenges {cohort}` lists them.",
                cohort=cohort.slug,
                id=match.group(1),
            )
        )
    return challenge


async def confirm_verb(ctx: Ctx, cohort: Cohort, details: list[str]) -> Reply:
    usage = "challenge <cohort> confirm <number> <people...>"
    challenge = await _challenge_of(ctx, cohort, details[0] if details else None, usage)
    if challenge.kind != "task":
        raise UserError(_("{title} is not a task: only tasks are confirmed.", title=label(challenge)))
    if challenge.status == "closed":
        raise UserError(
            _(
                "{title} is closed. To reward someone now: `award {cohort} <learner> <points> <reason>`.",
                title=label(challenge),
                cohort=cohort.slug,
            )
        )
    if len(details) < 2:
        raise UserError(_("Say whose task to confirm."), usage=usage)
    confirmed = []
    for token in details[1:]:
        person = await ctx.person(token)
        enrolment = await ctx.enrolment(cohort, person.id or 0)
        if enrolment is None or enrolment.role != "learner" or enrolment.status != "active":
            raise UserError(
                _(
                    "{name} is not an active learner of '{cohort}'. Nothing was confirmed.",
                    name=person.display_name,
                    cohort=cohort.slug,
                )
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
    return say(_("Confirmed {title} for {people}.", title=label(challenge), people=", ".join(confirmed)))


async def close_verb(ctx: Ctx, cohort: Cohort, details: list[str]) -> Reply:
    challenge = await _challenge_of(
        ctx, cohort, details[0] if details else None, "challenge <cohort> close <number>"
    )
    if len(details) > 1:
        raise UserError(_("Unexpected '{words}' after the challenge number.", words=" ".join(details[1:])))
    if challenge.status == "closed":
        raise UserError(_("{title} is already closed.", title=label(challenge)))
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
    result = partial(result_message, challenge, judgement, names)
    await ctx.post(cohort, result, key=f"challenges.result:{challenge.id}")
    langs = await reader_languages(ctx, cohort, [e.person_id for e in learners])
    closed = {
        lang: outbox.compose(partial(_closed_card, challenge), lang)
        for lang in {cohort.lang, *langs.values()}
    }
    cards = [(f"challenges.post:{challenge.id}", cohort.lang)] + [
        (f"challenges.card:{challenge.id}:{e.person_id}", langs[e.person_id]) for e in learners
    ]
    await outbox.enqueue_updates(
        ctx.session, [Update(k, f"{k}:closed", closed[lang]) for k, lang in cards], now=ctx.now
    )
    await ctx.dms(
        [
            Recipient(
                e.person_id,
                f"challenges.outcome:{challenge.id}:{e.person_id}",
                partial(outcome_message, challenge, judgement, e.person_id, e.team),
            )
            for e in entries
            if e.person_id in active
        ],
        cohort_id=cohort.id,
    )
    return judgement


def _closed_card(challenge: Challenge) -> Message:
    return Message(
        _("{title} is closed", title=label(challenge)),
        (
            Header(label(challenge)),
            Text(
                f"{title_of(challenge)}\n"
                + _("Closed: see the results in the channel.")
                + answer_note(challenge)
            ),
        ),
    )


async def reader_languages(ctx: EventContext, cohort: Cohort, person_ids: list[int]) -> dict[int, str]:
    """Each person's reading language (their own, else the cohort's), for messages updated in place."""
    rows = await ctx.session.exec(select(Person.id, Person.lang).where(col(Person.id).in_(person_ids)))
    own = {pid: lang for pid, lang in rows.all() if pid is not None}
    return {pid: own.get(pid) or cohort.lang for pid in person_ids}


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
    await ctx.dm(
        challenge.created_by,
        partial(_confirm_request, challenge, cohort.slug, waiting),
        key=event.key,
        cohort_id=cohort.id,
    )


def _confirm_request(challenge: Challenge, cohort: str, waiting: list[str]) -> Message:
    text = _(
        "{title} in {cohort} reached its deadline. Waiting for your confirmation: {people}. "
        "Confirm with `challenge {cohort} confirm {id} <people...>`, "
        "then `challenge {cohort} close {id}` announces the winners.",
        title=label(challenge),
        cohort=cohort,
        people=", ".join(waiting) or _("nobody"),
        id=challenge.id,
    )
    return Message(text, (Text(text),))
