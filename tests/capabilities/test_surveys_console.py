"""Surveys through the console adapter's renderer: the card renders as numbered choices, and
pressing them (`press N`, `press N <text>`) reaches the answer action and is stored."""

from __future__ import annotations

import io
import re

from sqlmodel import select

from adapters.console.chat import ConsoleChat, handle_line
from bot.capabilities.surveys.models import SurveyBallot
from bot.core.render_text import render_text
from tests.capabilities.surveys_fixtures import cohort_with_learners, send_now, survey_cards
from tests.conftest import Chat, RecordingSender


def number_of(rendered: str, label: str) -> int:
    """The number the console shows in front of a choice, e.g. `[7] yes` -> 7."""
    match = re.search(rf"\[(\d+)\] {re.escape(label)}(?:\s|$)", rendered)
    assert match, f"no choice {label!r} in:\n{rendered}"
    return int(match.group(1))


async def test_console_learner_answers_by_pressing_numbers(chat: Chat, sender: RecordingSender) -> None:
    await cohort_with_learners(chat)
    sid = await send_now(
        chat, 'new "Week 1" "nps:Recommend us?" "multi:Useful parts?|Labs|Talks|Quiz" "text:Comments?"'
    )
    (card,) = survey_cards(sender, "alice")
    console = ConsoleChat(out=io.StringIO())
    rendered = console.render_for("alice", card)
    assert "== Week 1 ==" in rendered
    assert "Recommend us?\n  [1] 0  [2] 1" in rendered and "[11] 10" in rendered
    assert "Useful parts? (several: press N M ...)" in rendered
    assert re.search(r"Comments\?\n  \[(\d+)\] answer with: press \1 <your text>", rendered)

    nine = number_of(rendered, "9")
    await handle_line(chat.app.engine, console, "alice", f"press {nine}")
    labs, quiz = number_of(rendered, "Labs"), number_of(rendered, "Quiz")
    await handle_line(chat.app.engine, console, "alice", f"press {labs} {quiz}")
    comment = int(re.search(r"\[(\d+)\] answer with", rendered).group(1))  # type: ignore[union-attr]
    reply = await handle_line(chat.app.engine, console, "alice", f"press {comment} Labs were the best part")
    assert reply is not None and reply.visibility == "replace"

    shown = console.out.getvalue()  # type: ignore[attr-defined]
    assert "updated card for alice" in shown and "Thank you! Your answers are recorded." in shown
    assert "(your answer: 9)" in shown and "(your answer: Labs, Quiz)" in shown
    async with chat.app.store.transaction() as session:
        (ballot,) = (await session.exec(select(SurveyBallot))).all()
    assert ballot.answers == {"q1": 9, "q2": ["Labs", "Quiz"], "q3": "Labs were the best part"}

    results = render_text((await chat.reply("tina", f"survey spoc results {sid}")).message)  # type: ignore[union-attr]
    assert "NPS +100 (1 answer: 1 promoters at 9-10, 0 detractors at 0-6)" in results
    assert "Labs ▓▓▓▓▓▓▓▓▓▓ 1/1" in results and "Talks ░░░░░░░░░░ 0/1" in results
    assert "• Labs were the best part (alice)" in results


async def test_console_text_answer_needs_text_and_stores_nothing_without(
    chat: Chat, sender: RecordingSender
) -> None:
    await cohort_with_learners(chat)
    await send_now(chat, 'new "Open" "text:Anything to say?"')
    (card,) = survey_cards(sender, "bob")
    console = ConsoleChat(out=io.StringIO())
    rendered = console.render_for("bob", card)
    n = int(re.search(r"\[(\d+)\] answer with", rendered).group(1))  # type: ignore[union-attr]
    assert await handle_line(chat.app.engine, console, "bob", f"press {n}") is None
    assert "Type your answer after the number" in console.out.getvalue()  # type: ignore[attr-defined]
    async with chat.app.store.transaction() as session:
        assert (await session.exec(select(SurveyBallot))).all() == []
