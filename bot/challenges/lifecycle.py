"""Quiz and task challenges from post to winners: trainers create, confirm and close them; learners
answer in chat; a scheduled event closes each at its deadline and announces the winners.

Late answers: what counts is when the learner clicked (the platform's event time). A click made before
the deadline that reaches us within GRACE after it still counts (the close waits for it); a click made
after the deadline, or arriving once the winners are announced, is refused with the reason.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import outbox, texts
from bot.challenges.judging import Attempt, Judgement, judge
from bot.challenges.names import display_names
from bot.challenges.rules import points_rules
from bot.challenges.tables import Challenge, ChallengeEntry
from bot.cohorts import end_of_day_utc, to_utc
from bot.context import Ctx, EventContext
from bot.errors import UserError
from bot.grammar import Arg, ArgError, Choice, Many, Number, Slug
from bot.messages import Block, Button, Buttons, Fields, Header, Message, Question, Reply, Text, say
from bot.models import Cohort, Enrolment, Person
from bot.outbox import Recipient, Update
from bot.registry import action, on_event, planner, verb
from bot.scheduling import PlannedEvent

GRACE = timedelta(minutes=2)  # clicks made just before the deadline may still be on their way
QUIZ_DEFAULT = timedelta(hours=24)
TASK_DEFAULT_DAYS = 7
LONGEST = timedelta(days=90)
QUIZ_USAGE = (
    'challenge <cohort> quiz "<question>" *<right answer> <wrong answers...> [until=<YYYY-MM-DD[THH:MM]>]'
)
TASK_USAGE = 'challenge <cohort> task "<what to do>" [until=<YYYY-MM-DD[THH:MM]>] [confirm=yes]'
CHALLENGE_ID_RE = re.compile(r"^#?(\d{1,9})$")
NAMES = {"quiz": "Quiz", "task": "Task challenge", "streak": "Streak"}


class WhenArg(Arg):
    """A deadline in cohort time: `YYYY-MM-DD` (end of that day) or `YYYY-MM-DDTHH:MM`."""

    def convert(self, token: str) -> date | datetime:
        try:
            return datetime.strptime(token, "%Y-%m-%dT%H:%M") if "T" in token else date.fromisoformat(token)
        except ValueError:
            raise ArgError(f"'{token}' is not a deadline: use YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None


def label(challenge: Challenge) -> str:
    return f"{NAMES.get(challenge.kind, 'Challenge')} #{challenge.id}"


# -- creating --------------------------------------------------------------------------------------------


@verb(
    "challenge",
    Slug("cohort"),
    Choice("what", ("quiz", "task", "close", "confirm")),
    Many("details", minimum=0),
    summary="post a quiz or a task challenge, confirm learners' tasks, or close a challenge now",
    options={
        "until": WhenArg("YYYY-MM-DD[THH:MM]"),
        "points": Number("points", low=0, high=1000),
        "scoring": Choice("scoring", ("team", "person")),
        "confirm": Choice("confirm", ("yes", "no")),
    },
    example='challenge spring-onboarding quiz "Which port is HTTPS?" *443 80 8080 until=2026-03-12T17:00',
    staff_only=True,
)
async def challenge_verb(
    ctx: Ctx,
    cohort: str,
    what: str,
    details: list[str],
    until: date | datetime | None,
    points: int | None,
    scoring: str | None,
    confirm: str | None,
) -> Reply:
    row = await ctx.cohort(cohort)
    await ctx.require_staff(row, "run challenges")
    if what == "close":
        return await close_verb(ctx, row, details)
    if what == "confirm":
        return await confirm_verb(ctx, row, details)
    if what == "quiz":
        if confirm is not None:
            raise UserError(
                "confirm= is for tasks: a quiz answer is right or wrong by itself.", usage=QUIZ_USAGE
            )
        question, options, correct = parse_quiz(details)
    else:
        if len(details) != 1:
            raise UserError(
                'Say what to do as one quoted text, e.g. "Share one tip in the channel".', usage=TASK_USAGE
            )
        question, options, correct = details[0].strip(), [], None
        if not question:
            raise UserError("The task is empty: say what to do.", usage=TASK_USAGE)
    closes_at = deadline(row, what, until, ctx.now)
    challenge = Challenge(
        cohort_id=row.id or 0,
        kind=what,
        title=question,
        options=options,
        correct=correct,
        points=points if points is not None else points_rules(row)["challenge_win"],
        scoring=scoring or "team",
        needs_confirm=confirm == "yes",
        opens_at=ctx.now,
        closes_at=closes_at,
        created_by=ctx.actor.id,
    )
    ctx.session.add(challenge)
    await ctx.session.flush()
    await ctx.log(
        "challenge.created",
        cohort_id=row.id,
        actor_id=ctx.actor.id,
        challenge_id=challenge.id,
        challenge_kind=what,
    )
    await post_challenge(ctx, row, challenge)
    return say(
        f"Posted {label(challenge)} to *{row.slug}*: {len(await ctx.learners(row))} learners get it by DM. "
        f"It closes {texts.local_time(closes_at, row.tz)}; "
        f"`challenge {row.slug} close {challenge.id}` closes it now."
    )


def parse_quiz(details: list[str]) -> tuple[str, list[str], str]:
    if not details or not details[0].strip():
        raise UserError("Missing the question.", usage=QUIZ_USAGE)
    question, answers = details[0].strip(), [a.strip() for a in details[1:]]
    starred = [a for a in answers if a.startswith("*")]
    if len(answers) < 2 or len(starred) != 1:
        raise UserError(
            "Give at least two answers and mark the right one with a *, e.g. *443 80 8080.", usage=QUIZ_USAGE
        )
    options = [a.lstrip("*").strip() for a in answers]
    if any(not o for o in options) or len({o.lower() for o in options}) != len(options):
        raise UserError("Answers must be different and not empty.", usage=QUIZ_USAGE)
    return question, options, starred[0].lstrip("*").strip()


def deadline(cohort: Cohort, kind: str, until: date | datetime | None, now: datetime) -> datetime:
    if until is None:
        if kind == "quiz":
            return now + QUIZ_DEFAULT
        return end_of_day_utc(
            (now + timedelta(days=TASK_DEFAULT_DAYS)).astimezone(ZoneInfo(cohort.tz)).date(), cohort.tz
        )
    closes = to_utc(until, cohort.tz) if isinstance(until, datetime) else end_of_day_utc(until, cohort.tz)
    if closes <= now:
        raise UserError(f"That deadline ({texts.local_time(closes, cohort.tz)}) has already passed.")
    if closes - now > LONGEST:
        raise UserError("A challenge runs for at most 90 days: pick an earlier deadline.")
    return closes


def how_to_win(challenge: Challenge) -> str:
    if challenge.scoring == "person":
        succeeds = "gets it right" if challenge.kind == "quiz" else "does it in time"
        return texts.t("challenges.scoring.person", succeeds=succeeds, points=challenge.points)
    succeed = "get it right" if challenge.kind == "quiz" else "do it in time"
    return texts.t("challenges.scoring.team", succeed=succeed, points=challenge.points)


def challenge_card(challenge: Challenge, tz: str | None) -> Message:
    """The card learners answer: a Question for a quiz, a primary "Mark as done" button for a task."""
    closes = texts.t("challenges.closes", when=texts.local_time(challenge.closes_at, tz))
    blocks: list[Block] = [Header(label(challenge))]
    if challenge.kind == "quiz":
        blocks += [
            Text(f"{how_to_win(challenge)} {closes}"),
            Question(
                question_id=f"challenge-{challenge.id}",
                prompt=challenge.title,
                question_kind="single",
                action="challenges.answer",
                options=tuple(challenge.options),
                value=str(challenge.id),
            ),
        ]
    else:
        blocks += [
            Text(f"*{challenge.title}*\n{how_to_win(challenge)} {closes}"),
            Buttons((Button("Mark as done", "challenges.done", str(challenge.id), "primary"),)),
        ]
    return Message(f"{label(challenge)}: {challenge.title}", tuple(blocks))


async def post_challenge(ctx: EventContext, cohort: Cohort, challenge: Challenge) -> None:
    """To the cohort channel, and to every active learner by DM in their own time zone."""
    await ctx.post(cohort, challenge_card(challenge, cohort.tz), key=f"challenges.post:{challenge.id}")
    learners = await ctx.learners(cohort)
    zones = await _zones(ctx, [e.person_id for e in learners])
    await ctx.dms(
        [
            Recipient(
                e.person_id,
                f"challenges.card:{challenge.id}:{e.person_id}",
                challenge_card(challenge, zones.get(e.person_id) or cohort.tz),
            )
            for e in learners
        ],
        cohort_id=cohort.id,
    )


async def _zones(ctx: EventContext, person_ids: list[int]) -> dict[int, str | None]:
    rows = await ctx.session.exec(select(Person.id, Person.tz).where(col(Person.id).in_(person_ids)))
    return {pid: tz for pid, tz in rows.all() if pid is not None}


# -- answering -------------------------------------------------------------------------------------------


async def _playable(ctx: Ctx, value: str) -> tuple[Challenge, Cohort, Enrolment] | Reply:
    """The challenge a click is about and the learner's enrolment, or the polite reason it can't count."""
    challenge = await ctx.session.get(Challenge, int(value)) if value.isdigit() else None
    if challenge is None:
        return say("This challenge no longer exists.")
    cohort = await ctx.session.get_one(Cohort, challenge.cohort_id)
    enrolment = await ctx.enrolment(cohort, ctx.actor.id or 0)
    if enrolment is None or enrolment.role != "learner" or enrolment.status != "active":
        return say(texts.t("challenges.refused.not_learner", cohort=cohort.slug))
    when = texts.local_time(challenge.closes_at, ctx.actor.tz or cohort.tz)
    if challenge.status == "closed":
        return say(texts.t("challenges.refused.closed", when=when) + _answer_note(challenge))
    if clicked_at(ctx) > challenge.closes_at or ctx.now > challenge.closes_at + GRACE:
        return say(texts.t("challenges.refused.late", when=when))
    return challenge, cohort, enrolment


def _answer_note(challenge: Challenge) -> str:
    return f" The answer was *{challenge.correct}*." if challenge.kind == "quiz" else ""


def clicked_at(ctx: Ctx) -> datetime:
    """When the learner clicked: the platform's event time, never later than now (and never trusted
    to be in the future)."""
    event_time = ctx.inbound.event_time
    return min(event_time, ctx.now) if event_time is not None else ctx.now


async def _entry(ctx: EventContext, challenge_id: int, person_id: int) -> ChallengeEntry | None:
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
        f"{label(challenge)}: {text}", (Header(label(challenge)), Text(f"{challenge.title}\n{text}"))
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
    existing = await _entry(ctx, challenge.id or 0, enrolment.person_id)
    if existing is not None:
        return say(texts.t("challenges.quiz.already", answer=existing.answer, when=when))
    choice = inputs.get(f"challenge-{challenge.id}", "").strip()
    if choice not in challenge.options:
        return say(f"Pick one of the answers: {', '.join(challenge.options)}.")
    await _enter(ctx, challenge, enrolment, choice, choice == challenge.correct)
    return _answered(ctx, challenge, texts.t("challenges.quiz.thanks", answer=choice, when=when))


@action("challenges.done")
async def mark_task_done(ctx: Ctx, value: str, inputs: dict[str, str]) -> Reply:
    found = await _playable(ctx, value)
    if isinstance(found, Reply):
        return found
    challenge, cohort, enrolment = found
    if challenge.kind != "task":
        return say("This challenge is not a task.")
    when = texts.local_time(challenge.closes_at, ctx.actor.tz or cohort.tz)
    if await _entry(ctx, challenge.id or 0, enrolment.person_id) is not None:
        return say(texts.t("challenges.task.already", when=when))
    await _enter(ctx, challenge, enrolment, "done", not challenge.needs_confirm)
    key = "challenges.task.thanks_confirm" if challenge.needs_confirm else "challenges.task.thanks"
    return _answered(ctx, challenge, texts.t(key, when=when))


async def _enter(ctx: Ctx, challenge: Challenge, enrolment: Enrolment, answer: str, succeeded: bool) -> None:
    ctx.session.add(
        ChallengeEntry(
            challenge_id=challenge.id or 0,
            person_id=enrolment.person_id,
            team=enrolment.team,
            answer=answer,
            correct=succeeded,
            clicked_at=clicked_at(ctx),
            received_at=ctx.now,
        )
    )
    await ctx.log(
        "challenge.answered",
        cohort_id=challenge.cohort_id,
        person_id=enrolment.person_id,
        challenge_id=challenge.id,
        team=enrolment.team,
    )


# -- confirming and closing -------------------------------------------------------------------------------


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
        entry = await _entry(ctx, challenge.id or 0, person.id or 0)
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
            Text(f"{challenge.title}\nClosed: see the results in the channel.{_answer_note(challenge)}"),
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


def result_message(challenge: Challenge, judgement: Judgement, names: dict[int, str]) -> Message:
    """The winners' announcement: the answer, each team's share, who wins and what."""
    blocks: list[Block] = [
        Header(f"Results: {label(challenge)}"),
        Text(f"{challenge.title}{_answer_note(challenge)}"),
    ]
    if judgement.rates:
        blocks.append(
            Fields(
                tuple(
                    (team, f"{right}/{n} ({right * 100 // n}%)")
                    for team, (right, n) in judgement.rates.items()
                    if n
                )
            )
        )
    if not judgement.people:
        blocks.append(Text("No winner this time: nobody succeeded."))
        summary = f"{label(challenge)} closed: no winner"
    elif challenge.scoring == "team":
        teams = " and ".join(judgement.teams)
        verb_ = "share the win" if len(judgement.teams) > 1 else "wins"
        who = ", ".join(sorted(names.get(p, "?") for p in judgement.people))
        earn = "earns" if len(judgement.people) == 1 else "earn"
        each = "" if len(judgement.people) == 1 else " each"
        blocks.append(Text(f"*{teams}* {verb_}: {who} {earn} {challenge.points} points{each}."))
        summary = f"{label(challenge)}: {teams} {verb_}"
    else:
        who = ", ".join(sorted(names.get(p, "?") for p in judgement.people))
        blocks.append(Text(f"{len(judgement.people)} winner(s) earn {challenge.points} points each: {who}."))
        summary = f"{label(challenge)}: {len(judgement.people)} winner(s)"
    return Message(summary, tuple(blocks))


def outcome_message(challenge: Challenge, judgement: Judgement, person_id: int, team: str | None) -> Message:
    if person_id in judgement.people:
        text = texts.t("challenges.outcome.won", points=challenge.points, title=label(challenge))
    else:
        if challenge.scoring == "team" and judgement.teams and team not in judgement.teams:
            why = f"{' and '.join(judgement.teams)} had the best share of members who succeeded."
        else:
            why = f"The answer was *{challenge.correct}*." if challenge.kind == "quiz" else ""
        text = texts.t("challenges.outcome.lost", title=label(challenge), why=why).strip()
    return Message(text, (Text(text),))


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


# -- listing ---------------------------------------------------------------------------------------------


@verb(
    "challenges",
    Slug("cohort"),
    summary="the cohort's challenges: open ones and past winners",
    example="challenges spring-onboarding",
)
async def list_verb(ctx: Ctx, cohort: str) -> Reply:
    row = await ctx.cohort(cohort)
    if not await ctx.is_staff(row) and await ctx.role_in(row) is None:
        raise UserError(f"You are not in '{row.slug}'. `list` shows your cohorts.")
    rows = (
        await ctx.session.exec(
            select(Challenge).where(Challenge.cohort_id == row.id).order_by(col(Challenge.id))
        )
    ).all()
    if not rows:
        return say(f"No challenges in *{row.slug}* yet.")
    tz = ctx.actor.tz or row.tz
    lines = []
    for c in rows:
        if c.status == "open":
            lines.append(f"• {label(c)}: {c.title} (open until {texts.local_time(c.closes_at, tz)})")
        else:
            won = (
                " and ".join(c.result.get("teams") or []) or f"{len(c.result.get('people') or [])} winner(s)"
            )
            lines.append(f"• {label(c)}: {c.title} (closed: {won})")
    return Reply(
        Message(f"Challenges of {row.slug}", (Header(f"Challenges of {row.slug}"), Text("\n".join(lines))))
    )
