"""How challenges are shown: their names, the cards learners answer, the results and each learner's
outcome; and the timing rules those messages state."""

from __future__ import annotations

from datetime import timedelta

from bot.capabilities.challenges.judging import Judgement
from bot.capabilities.challenges.tables import Challenge
from bot.core import texts
from bot.core.messages import Block, Button, Buttons, Fields, Header, Message, Question, Text

GRACE = timedelta(minutes=2)  # clicks made just before the deadline may still be on their way
LONGEST = timedelta(days=90)  # the longest a challenge may run
NAMES = {"quiz": "Quiz", "task": "Task challenge", "streak": "Streak"}


def label(challenge: Challenge) -> str:
    # A streak carries its own number (options[0]); quizzes and tasks go by the id trainers type.
    number = challenge.options[0] if challenge.kind == "streak" and challenge.options else challenge.id
    return f"{NAMES.get(challenge.kind, 'Challenge')} #{number}"


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


def answer_note(challenge: Challenge) -> str:
    return f" The answer was *{challenge.correct}*." if challenge.kind == "quiz" else ""


def result_message(challenge: Challenge, judgement: Judgement, names: dict[int, str]) -> Message:
    """The winners' announcement: the answer, each team's share, who wins and what."""
    blocks: list[Block] = [
        Header(f"Results: {label(challenge)}"),
        Text(f"{challenge.title}{answer_note(challenge)}"),
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
