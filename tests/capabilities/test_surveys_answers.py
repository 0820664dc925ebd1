"""Answering a survey through the engine: partial and whole-card answers, replacement, and the
invalid answers that are refused with a clear message and leave nothing stored."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import select

from bot.capabilities.surveys.models import SurveyBallot, SurveyParticipation
from bot.capabilities.surveys.questions import QuestionSpec, normalise_answer
from bot.core.clock import SimulatedClock
from bot.core.errors import UserError
from bot.core.messages import Question, TextInput
from bot.core.models import Activity, Cohort
from bot.core.registry import KPIS
from tests.capabilities.surveys_fixtures import cohort_with_learners, send_now, survey_cards
from tests.conftest import Chat, RecordingSender

PULSE = 'new "Pulse" "rating:How is it going?" "single:Best part?|Labs|Talks|Q&A" "text:Anything else?"'


async def ballots(chat: Chat) -> list[SurveyBallot]:
    async with chat.app.store.transaction() as session:
        return list((await session.exec(select(SurveyBallot))).all())


async def answered_log(chat: Chat) -> list[Activity]:
    async with chat.app.store.transaction() as session:
        return list((await session.exec(select(Activity).where(Activity.kind == "survey.answered"))).all())


async def test_learners_get_a_card_of_neutral_question_blocks(chat: Chat, sender: RecordingSender) -> None:
    await cohort_with_learners(chat)
    sid = await send_now(chat, PULSE)
    (card,) = survey_cards(sender, "alice")
    questions = [b for b in card.blocks if isinstance(b, Question)]
    inputs = [b for b in card.blocks if isinstance(b, TextInput)]
    assert [(q.question_id, q.question_kind, q.value) for q in questions] == [
        ("q1", "rating", str(sid)),
        ("q2", "single", str(sid)),
    ]
    assert questions[1].options == ("Labs", "Talks", "Q&A")
    assert [(i.input_id, i.action) for i in inputs] == [("q3", "surveys.answer")]
    assert survey_cards(sender, "tina") == []  # trainers are not asked


async def test_one_question_per_click_is_kept_until_the_ballot_is_complete(chat: Chat) -> None:
    await cohort_with_learners(chat)
    sid = str(await send_now(chat, PULSE))
    first = await chat.press("alice", "surveys.answer", sid, {"q1": "4"})
    assert "1 question still to answer" in first
    assert "your answer: 4" in first
    assert await answered_log(chat) == []
    second = await chat.press("alice", "surveys.answer", sid, {"q2": "Labs"})
    assert "Thank you" in second and "your answer: Labs" in second and "your answer: 4" in second
    (ballot,) = await ballots(chat)
    assert ballot.answers == {"q1": 4, "q2": "Labs"} and ballot.complete
    (logged,) = await answered_log(chat)
    assert logged.data == {"survey_id": int(sid)}


async def test_a_whole_card_submit_is_one_answer(chat: Chat) -> None:
    await cohort_with_learners(chat)
    sid = str(await send_now(chat, PULSE))
    # A Teams card submit: every input at once, blank ones empty, plus the card's own data.
    reply = await chat.press(
        "bob", "surveys.answer", sid, {"q1": "5", "q2": "talks", "q3": "", "action": "surveys.answer"}
    )
    assert "Thank you" in reply
    (ballot,) = await ballots(chat)
    assert ballot.answers == {"q1": 5, "q2": "Talks"}


async def test_a_changed_answer_replaces_the_old_one_and_is_logged_once(chat: Chat) -> None:
    await cohort_with_learners(chat)
    sid = str(await send_now(chat, PULSE))
    await chat.press("alice", "surveys.answer", sid, {"q1": "2", "q2": "Labs", "q3": "Too fast"})
    await chat.press("alice", "surveys.answer", sid, {"q1": "5", "q3": "Fine after all"})
    (ballot,) = await ballots(chat)
    assert ballot.answers == {"q1": 5, "q2": "Labs", "q3": "Fine after all"}
    assert len(await answered_log(chat)) == 1
    results = await chat.say("tina", f"survey spoc results {sid}")
    assert "average 5.0 / 5 (1 answer)" in results
    assert "Too fast" not in results and "Fine after all" in results


async def test_invalid_answers_are_refused_clearly_and_nothing_is_stored(
    chat: Chat, clock: SimulatedClock
) -> None:
    await cohort_with_learners(chat)
    sid = str(await send_now(chat, PULSE))
    out_of_range = await chat.press("alice", "surveys.answer", sid, {"q1": "7"})
    assert "'7' is not a valid answer" in out_of_range and "from 1 to 5" in out_of_range
    not_an_option = await chat.press("alice", "surveys.answer", sid, {"q1": "3", "q2": "Lunch"})
    assert "'Lunch' is not an option" in not_an_option and "Labs, Talks, Q&A" in not_an_option
    assert "Pick an answer first" in await chat.press("alice", "surveys.answer", sid, {"q3": "  "})
    stranger = await chat.press("zed", "surveys.answer", sid, {"q1": "5", "q2": "Labs"})
    assert "Only learners of 'spoc'" in stranger
    trainer = await chat.press("tina", "surveys.answer", sid, {"q1": "5", "q2": "Labs"})
    assert "Only learners of 'spoc'" in trainer
    assert "no longer exists" in await chat.press("alice", "surveys.answer", "999", {"q1": "5"})
    assert await ballots(chat) == [] and await answered_log(chat) == []

    clock.advance(timedelta(days=3, minutes=1))  # past the deadline, even before the close event runs
    late = await chat.press("alice", "surveys.answer", sid, {"q1": "5", "q2": "Labs"})
    assert "closed" in late and "not recorded" in late
    await chat.app.runner.tick()
    after_close = await chat.press("bob", "surveys.answer", sid, {"q1": "5", "q2": "Labs"})
    assert "closed" in after_close and "not recorded" in after_close
    assert await ballots(chat) == []
    async with chat.app.store.transaction() as session:
        answered = (await session.exec(select(SurveyParticipation.answered))).all()
    assert answered == [False, False, False]


async def test_multi_choice_answers_are_comma_joined_and_validated(chat: Chat) -> None:
    await cohort_with_learners(chat)
    sid = str(await send_now(chat, 'new "Topics" "multi:What should we cover?|APIs|Security|Testing"'))
    assert "Thank you" in await chat.press("carol", "surveys.answer", sid, {"q1": "testing,APIs"})
    (ballot,) = await ballots(chat)
    assert ballot.answers == {"q1": ["APIs", "Testing"]}
    refused = await chat.press("carol", "surveys.answer", sid, {"q1": "APIs,Cooking"})
    assert "'Cooking' is not an option" in refused
    (ballot,) = await ballots(chat)
    assert ballot.answers == {"q1": ["APIs", "Testing"]}


@given(raw=st.text(max_size=4))
def test_a_rating_is_stored_only_when_it_is_a_whole_number_from_1_to_5(raw: str) -> None:
    rating = QuestionSpec("q1", "rating", "How was it?")
    try:
        stored = normalise_answer(rating, raw)
    except UserError as e:
        assert "pick a number from 1 to 5" in e.message
        assert raw.strip() not in ("1", "2", "3", "4", "5")
    else:
        assert stored in (1, 2, 3, 4, 5) and int(raw) == stored


async def test_a_learner_enrolled_after_the_survey_opened_can_still_answer(chat: Chat) -> None:
    await cohort_with_learners(chat)
    sid = str(await send_now(chat, 'new "Pulse" "yesno:All good?"'))
    await chat.say("tina", "enroll spoc dora")
    assert "Thank you" in await chat.press("dora", "surveys.answer", sid, {"q1": "yes"})
    assert "Responses : 1/4 (25%)" in await chat.say("tina", f"survey spoc results {sid}")


async def test_anonymous_figures_wait_for_three_answers_even_in_the_kpi(chat: Chat) -> None:
    await cohort_with_learners(chat)
    sid = str(await send_now(chat, 'new "Quiet" "rating:Score?" anonymous=yes'))
    for who, score in (("alice", "1"), ("bob", "5")):
        await chat.press(who, "surveys.answer", sid, {"q1": score})
    async with chat.app.store.transaction() as session:
        cohort = (await session.exec(select(Cohort))).one()
        assert (await KPIS["satisfaction"](session, cohort))["satisfaction_avg"] is None
    await chat.press("carol", "surveys.answer", sid, {"q1": "3"})
    async with chat.app.store.transaction() as session:
        assert (await KPIS["satisfaction"](session, cohort))["satisfaction_avg"] == 3.0


async def test_help_explains_the_survey_command(chat: Chat) -> None:
    text = await chat.say("tina", "help survey")
    assert "survey <cohort> [new|list|send|results|close|export]" in text
    assert "template=session-feedback after=session" in text
