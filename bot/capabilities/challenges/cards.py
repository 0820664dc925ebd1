"""How challenges are shown: their names, the cards learners answer, the results and each learner's
outcome; and the timing rules those messages state."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from babel.dates import format_date

from bot.capabilities.challenges.judging import Judgement
from bot.capabilities.challenges.tables import Challenge
from bot.core import i18n, texts
from bot.core.i18n import N_, _, _n
from bot.core.messages import Block, Button, Buttons, Fields, Header, Message, Question, Text

GRACE = timedelta(minutes=2)  # clicks made just before the deadline may still be on their way
LONGEST = timedelta(days=90)  # the longest a challenge may run
NAMES = {"quiz": N_("Quiz #{id}"), "task": N_("Task challenge #{id}"), "streak": N_("Streak #{id}")}


def label(challenge: Challenge) -> str:
    # A streak carries its own number (options[0]); quizzes and tasks go by the id trainers type.
    number = challenge.options[0] if challenge.kind == "streak" and challenge.options else challenge.id
    return _(NAMES.get(challenge.kind, N_("Challenge #{id}")), id=number)


STREAK_TITLE = re.compile(r"week of (\d{1,2}) ([A-Z][a-z]{2})$")  # as streaks.py stores it, in English


def title_of(challenge: Challenge) -> str:
    """The challenge's title; a weekly streak's (stored in English) in the reader's language."""
    found = STREAK_TITLE.search(challenge.title) if challenge.kind == "streak" else None
    if found is None:
        return challenge.title
    try:
        day = datetime.strptime(f"{found[1]} {found[2]} {challenge.opens_at.year}", "%d %b %Y").date()
    except ValueError:
        return challenge.title
    week = format_date(day, _("d MMM"), locale=i18n.babel_locale(i18n.current()))
    return _("Every module on time, week of {week}", week=week)


def how_to_win(challenge: Challenge) -> str:
    if challenge.scoring == "person":
        succeeds = _("gets it right") if challenge.kind == "quiz" else _("does it in time")
        return texts.t("challenges.scoring.person", succeeds=succeeds, points=challenge.points)
    succeed = _("get it right") if challenge.kind == "quiz" else _("do it in time")
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
            Text(f"*{title_of(challenge)}*\n{how_to_win(challenge)} {closes}"),
            Buttons((Button(_("Mark as done"), "challenges.done", str(challenge.id), "primary"),)),
        ]
    return Message(_("{label}: {title}", label=label(challenge), title=title_of(challenge)), tuple(blocks))


def answer_note(challenge: Challenge) -> str:
    return " " + _("The answer was *{answer}*.", answer=challenge.correct) if challenge.kind == "quiz" else ""


def result_message(challenge: Challenge, judgement: Judgement, names: dict[int, str]) -> Message:
    """The winners' announcement: the answer, each team's share, who wins and what."""
    blocks: list[Block] = [
        Header(_("Results: {title}", title=label(challenge))),
        Text(f"{title_of(challenge)}{answer_note(challenge)}"),
    ]
    if judgement.rates:
        blocks.append(
            Fields(
                tuple(
                    (team, f"{right}/{n} ({i18n.percent((right * 100 // n) / 100)})")
                    for team, (right, n) in judgement.rates.items()
                    if n
                )
            )
        )
    if not judgement.people:
        blocks.append(Text(_("No winner this time: nobody succeeded.")))
        summary = _("{title} closed: no winner", title=label(challenge))
    elif challenge.scoring == "team":
        teams = _(" and ").join(judgement.teams)
        verb_ = _("share the win") if len(judgement.teams) > 1 else _("wins")
        who = ", ".join(sorted(names.get(p, "?") for p in judgement.people))
        points = _n("{n} point", "{n} points", challenge.points)
        earned = _n(
            "{who} earns {points}.",
            "{who} earn {points} each.",
            len(judgement.people),
            who=who,
            points=points,
        )
        # "A: B" is a message too: French puts a space before the colon.
        winners, outcome = "*" + teams + "* " + verb_, teams + " " + verb_
        blocks.append(Text(_("{label}: {title}", label=winners, title=earned)))
        summary = _("{label}: {title}", label=label(challenge), title=outcome)
    else:
        who = ", ".join(sorted(names.get(p, "?") for p in judgement.people))
        points = _n("{n} point", "{n} points", challenge.points)
        blocks.append(
            Text(
                _n(
                    "{n} winner earns {points}: {who}.",
                    "{n} winners earn {points} each: {who}.",
                    len(judgement.people),
                    points=points,
                    who=who,
                )
            )
        )
        summary = _n(
            "{title}: {n} winner", "{title}: {n} winners", len(judgement.people), title=label(challenge)
        )
    return Message(summary, tuple(blocks))


def outcome_message(challenge: Challenge, judgement: Judgement, person_id: int, team: str | None) -> Message:
    if person_id in judgement.people:
        text = texts.t("challenges.outcome.won", points=challenge.points, title=label(challenge))
    else:
        if challenge.scoring == "team" and judgement.teams and team not in judgement.teams:
            why = _(
                "{teams} had the best share of members who succeeded.", teams=_(" and ").join(judgement.teams)
            )
        else:
            why = (
                _("The answer was *{answer}*.", answer=challenge.correct) if challenge.kind == "quiz" else ""
            )
        text = texts.t("challenges.outcome.lost", title=label(challenge), why=why).strip()
    return Message(text, (Text(text),))
