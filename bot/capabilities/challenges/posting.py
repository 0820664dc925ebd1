"""Posting challenges: the trainer's `challenge` command (quiz and task, and its close and confirm forms),
the card sent to the channel and to every learner, and the `challenges` list."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.capabilities.challenges.cards import LONGEST, challenge_card, label, title_of
from bot.capabilities.challenges.closing import close_verb, confirm_verb
from bot.capabilities.challenges.rules import points_rules
from bot.capabilities.challenges.tables import Challenge
from bot.capabilities.cohorts.commands import end_of_day_utc, to_utc
from bot.core import texts
from bot.core.context import Ctx, EventContext
from bot.core.errors import UserError
from bot.core.grammar import Arg, ArgError, Choice, Many, Number, Slug
from bot.core.i18n import N_, _, _n
from bot.core.messages import Header, Message, Reply, Text, say
from bot.core.models import Cohort, Person
from bot.core.outbox import Recipient
from bot.core.registry import verb

QUIZ_DEFAULT = timedelta(hours=24)
TASK_DEFAULT_DAYS = 7
# Shown with _() where used: the reader's words for the placeholders (the keywords stay).
QUIZ_USAGE = N_(
    'challenge <cohort> quiz "<question>" *<right answer> <wrong answers...> [until=<YYYY-MM-DD[THH:MM]>]'
)
TASK_USAGE = N_('challenge <cohort> task "<what to do>" [until=<YYYY-MM-DD[THH:MM]>] [confirm=yes]')


class WhenArg(Arg):
    """A deadline in cohort time: `YYYY-MM-DD` (end of that day) or `YYYY-MM-DDTHH:MM`."""

    def convert(self, token: str) -> date | datetime:
        try:
            return datetime.strptime(token, "%Y-%m-%dT%H:%M") if "T" in token else date.fromisoformat(token)
        except ValueError:
            raise ArgError(
                _("'{token}' is not a deadline: use YYYY-MM-DD or YYYY-MM-DDTHH:MM", token=token)
            ) from None


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
    row = await ctx.staff_cohort(cohort, N_("run challenges"))
    if what == "close":
        return await close_verb(ctx, row, details)
    if what == "confirm":
        return await confirm_verb(ctx, row, details)
    if what == "quiz":
        if confirm is not None:
            raise UserError(
                _("confirm= is for tasks: a quiz answer is right or wrong by itself."), usage=_(QUIZ_USAGE)
            )
        question, options, correct = parse_quiz(details)
    else:
        if len(details) != 1:
            raise UserError(
                _('Say what to do as one quoted text, e.g. "Share one tip in the channel".'),
                usage=_(TASK_USAGE),
            )
        question, options, correct = details[0].strip(), [], None
        if not question:
            raise UserError(_("The task is empty: say what to do."), usage=_(TASK_USAGE))
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
        _n(
            "Posted {title} to *{cohort}*: {n} learner gets it by DM. It closes {when}; "
            "`challenge {cohort} close {id}` closes it now.",
            "Posted {title} to *{cohort}*: {n} learners get it by DM. It closes {when}; "
            "`challenge {cohort} close {id}` closes it now.",
            len(await ctx.learners(row)),
            title=label(challenge),
            cohort=row.slug,
            when=texts.local_time(closes_at, row.tz),
            id=challenge.id,
        )
    )


def parse_quiz(details: list[str]) -> tuple[str, list[str], str]:
    if not details or not details[0].strip():
        raise UserError(_("Missing the question."), usage=_(QUIZ_USAGE))
    question, answers = details[0].strip(), [a.strip() for a in details[1:]]
    starred = [a for a in answers if a.startswith("*")]
    if len(answers) < 2 or len(starred) != 1:
        raise UserError(
            _("Give at least two answers and mark the right one with a *, e.g. *443 80 8080."),
            usage=_(QUIZ_USAGE),
        )
    options = [a.lstrip("*").strip() for a in answers]
    if any(not o for o in options) or len({o.lower() for o in options}) != len(options):
        raise UserError(_("Answers must be different and not empty."), usage=_(QUIZ_USAGE))
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
        raise UserError(
            _("That deadline ({when}) has already passed.", when=texts.local_time(closes, cohort.tz))
        )
    if closes - now > LONGEST:
        raise UserError(_("A challenge runs for at most 90 days: pick an earlier deadline."))
    return closes


async def post_challenge(ctx: EventContext, cohort: Cohort, challenge: Challenge) -> None:
    """To the cohort channel, and to every active learner by DM in their own time zone."""
    await ctx.post(
        cohort, partial(challenge_card, challenge, cohort.tz), key=f"challenges.post:{challenge.id}"
    )
    learners = await ctx.learners(cohort)
    zones = await _zones(ctx, [e.person_id for e in learners])
    await ctx.dms(
        [
            Recipient(
                e.person_id,
                f"challenges.card:{challenge.id}:{e.person_id}",
                partial(challenge_card, challenge, zones.get(e.person_id) or cohort.tz),
            )
            for e in learners
        ],
        cohort_id=cohort.id,
    )


async def _zones(ctx: EventContext, person_ids: list[int]) -> dict[int, str | None]:
    rows = await ctx.session.exec(select(Person.id, Person.tz).where(col(Person.id).in_(person_ids)))
    return {pid: tz for pid, tz in rows.all() if pid is not None}


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
        raise UserError(_("You are not in '{cohort}'. `list` shows your cohorts.", cohort=row.slug))
    rows = (
        await ctx.session.exec(
            select(Challenge).where(Challenge.cohort_id == row.id).order_by(col(Challenge.id))
        )
    ).all()
    if not rows:
        return say(_("No challenges in *{cohort}* yet.", cohort=row.slug))
    tz = ctx.actor.tz or row.tz
    lines = []
    for c in rows:
        if c.status == "open":
            lines.append(
                "• "
                + _(
                    "{label}: {title} (open until {when})",
                    label=label(c),
                    title=title_of(c),
                    when=texts.local_time(c.closes_at, tz),
                )
            )
        else:
            won = _(" and ").join(c.result.get("teams") or []) or _n(
                "{n} winner", "{n} winners", len(c.result.get("people") or [])
            )
            lines.append(
                "• " + _("{label}: {title} (closed: {won})", label=label(c), title=title_of(c), won=won)
            )
    return Reply(
        Message(
            _("Challenges of {cohort}", cohort=row.slug),
            (Header(_("Challenges of {cohort}", cohort=row.slug)), Text("\n".join(lines))),
        )
    )
