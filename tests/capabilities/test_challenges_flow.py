"""A whole challenge on the simulated clock: posted to the channel and by DM, answered, closed by its
scheduled event, winners announced and paid; ties, team changes and late answers handled fairly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.core import outbox
from bot.core.clock import SimulatedClock
from bot.core.inbound import Action, Inbound, Profile
from bot.core.messages import Buttons, Message, Question, Text
from bot.core.models import Activity, Enrolment, Person
from bot.core.outbox import Update
from bot.core.render_text import render_text
from tests.capabilities.challenges_support import (
    both_totals,
    person_id,
    person_points,
    setup_cohort,
    team_points,
)
from tests.conftest import Chat, RecordingSender

DEADLINE = datetime(2027, 3, 2, 17, 0, tzinfo=UTC)  # 18:00 in Paris
QUIZ = 'challenge spoc quiz "Which port does HTTPS use?" *443 80 8080 until=2027-03-02T18:00'


async def answer(
    chat: Chat, who: str, choice: str, *, clicked: datetime | None = None, challenge: int = 1
) -> str:
    reply = await chat.app.engine.handle(
        Inbound(
            sender=Profile("console", "", who, who),
            action=Action("challenges.answer", str(challenge), {f"challenge-{challenge}": choice}),
            event_time=clicked,
        )
    )
    return render_text(reply.message) if reply else ""


async def test_a_quiz_from_the_post_to_the_winners_announcement(
    chat: Chat, sender: RecordingSender, clock: SimulatedClock
) -> None:
    await setup_cohort(chat, {"red": ["alice", "bob"], "blue": ["carl", "dora", "emil"]})
    assert "Only admins and trainers" in await chat.say("alice", QUIZ)
    posted = await chat.say("tina", QUIZ)
    assert "Posted Quiz #1 to *spoc*: 5 learners get it by DM" in posted
    await chat.app.worker.drain()
    card = sender.to("alice")[-1]
    question = next(b for b in card.blocks if isinstance(b, Question))
    assert question.options == ("443", "80", "8080") and question.action == "challenges.answer"
    assert "Tue 2 Mar 18:00" in render_text(card)
    assert any(m.summary.startswith("Quiz #1") for m in sender.to("#spoc"))

    clock.advance(timedelta(hours=2))
    assert "Your answer *443* is in" in await answer(chat, "alice", "443")
    assert "already in: the first answer counts" in await answer(chat, "alice", "80")
    assert "Pick one of the answers" in await answer(chat, "bob", "442")
    await answer(chat, "bob", "80")
    await answer(chat, "carl", "443")
    # dora clicked a minute before the deadline; her click reached us a minute after it: it counts.
    clock.set(DEADLINE + timedelta(minutes=1))
    assert "is in" in await answer(chat, "dora", "443", clicked=DEADLINE - timedelta(minutes=1))
    # emil clicked after the deadline: refused with the reason, even before the results are out.
    refused = await answer(chat, "emil", "443", clicked=DEADLINE + timedelta(seconds=30))
    assert "your answer came after the deadline" in refused

    assert await chat.app.runner.tick() == []  # the close waits for clicks still on their way
    clock.set(DEADLINE + timedelta(minutes=2))
    fired = await chat.app.runner.tick()
    assert [(e.kind, outcome) for e, outcome in fired] == [("challenges.close", "fired")]
    await chat.app.worker.drain()

    result = render_text(sender.to("#spoc")[-1])
    assert "Results: Quiz #1" in result and "The answer was *443*" in result
    assert "red  : 1/2 (50%)" in result and "blue : 2/3 (66%)" in result
    assert "*blue* wins: carl, dora earn 20 points each." in result
    assert sender.to("carl")[-1].summary == "You won *20 points* in Quiz #1."
    assert "blue had the best share" in sender.to("alice")[-1].summary
    assert not sender.to("emil") or "won" not in sender.to("emil")[-1].summary
    # Every answer card was replaced by a closed one, so nobody clicks a dead button.
    assert sum("is closed" in m.summary for _, _, m in sender.updated) == 6
    assert await team_points(chat.app) == {"blue": 40}

    late = await answer(chat, "bob", "443")
    assert "winners were announced" in late and "The answer was *443*" in late
    assert await person_points(chat.app, "bob") == 0
    listing = await chat.say("alice", "challenges spoc")
    assert "Quiz #1: Which port does HTTPS use? (closed: blue)" in listing
    running, replayed = await both_totals(chat.app)
    assert running == replayed


async def test_a_tie_is_a_shared_win_and_a_mover_plays_for_the_team_they_answered_for(
    chat: Chat, sender: RecordingSender
) -> None:
    await setup_cohort(chat, {"red": ["alice", "bob"], "blue": ["carl", "dora", "emil", "fay"]})
    await chat.say("tina", QUIZ + " points=10")
    await answer(chat, "alice", "443")  # red: 1 of 2
    await answer(chat, "carl", "443")
    await answer(chat, "dora", "443")  # blue: 2 of 4
    await answer(chat, "bob", "80")
    await chat.say("tina", "team spoc bob blue")  # bob answered for red: he still counts there, once
    closed = await chat.say("tina", "challenge spoc close 1")
    assert "red  : 1/2 (50%)" in closed and "blue : 2/4 (50%)" in closed
    assert "*blue and red* share the win: alice, carl, dora earn 10 points each." in closed
    assert await team_points(chat.app) == {"red": 10, "blue": 20}
    # Closed by the trainer: the deadline event no longer exists, nothing is paid twice.
    assert all(e.kind != "challenges.close" for e in await chat.app.runner.pending())
    assert "already closed" in await chat.say("tina", "challenge spoc close 1")
    running, replayed = await both_totals(chat.app)
    assert running == replayed


async def test_a_task_a_trainer_confirms(chat: Chat, sender: RecordingSender, clock: SimulatedClock) -> None:
    await setup_cohort(chat, {"red": ["alice", "bob"], "blue": ["carl"]})
    posted = await chat.say(
        "tina", 'challenge spoc task "Share one tip" until=2027-03-05 confirm=yes scoring=person'
    )
    assert "Posted Task challenge #1" in posted
    await chat.app.worker.drain()
    button = next(b for blk in sender.to("bob")[-1].blocks if isinstance(blk, Buttons) for b in blk.buttons)
    assert (button.action, button.style) == ("challenges.done", "primary")
    assert "A trainer will confirm it" in await chat.press("alice", "challenges.done", "1")
    assert "already marked it done" in await chat.press("alice", "challenges.done", "1")
    await chat.press("bob", "challenges.done", "1")
    clock.set(datetime(2027, 3, 5, 23, 5, tzinfo=UTC))
    assert [e.kind for e, _ in await chat.app.runner.tick()] == ["challenges.confirm_due"]
    await chat.app.worker.drain()
    assert "Waiting for your confirmation: alice, bob" in sender.to("tina")[-1].summary
    assert "after the deadline" in await chat.press("carl", "challenges.done", "1")
    assert "Confirmed Task challenge #1 for alice, carl" in await chat.say(
        "tina", "challenge spoc confirm 1 alice carl"
    )
    closed = await chat.say("tina", "challenge spoc close 1")
    assert "2 winners earn 20 points each: alice, carl." in closed
    assert await person_points(chat.app, "bob") == 0
    assert "is closed" in await chat.say("tina", "challenge spoc confirm 1 bob")


async def test_bad_challenge_commands_get_one_clear_line_and_change_nothing(chat: Chat) -> None:
    await setup_cohort(chat, {"red": ["alice"]})
    no_star = await chat.say("tina", 'challenge spoc quiz "2+2?" 4 5')
    assert "mark the right one with a *" in no_star and "Usage:" in no_star
    assert "already passed" in await chat.say("tina", 'challenge spoc quiz "2+2?" *4 5 until=2027-02-01')
    assert "is not a deadline" in await chat.say("tina", 'challenge spoc quiz "2+2?" *4 5 until=tomorrow')
    assert "no challenge #9" in await chat.say("tina", "challenge spoc close 9")
    assert "one quoted text" in await chat.say("tina", "challenge spoc task share a tip")
    assert "No challenges in *spoc* yet" in await chat.say("tina", "challenges spoc")


async def test_channel_clicks_answer_privately_and_strangers_are_refused(
    chat: Chat, clock: SimulatedClock
) -> None:
    await setup_cohort(chat, {"red": ["alice", "bob"]})
    await chat.say("tina", QUIZ)
    reply = await chat.app.engine.handle(
        Inbound(
            sender=Profile("console", "", "alice", "alice"),
            action=Action("challenges.answer", "1", {"challenge-1": "443"}),
            source_key="challenges.post:1",
        )
    )
    assert reply is not None and reply.visibility == "private"  # the channel's card stays for the others
    dm = await chat.app.engine.handle(
        Inbound(
            sender=Profile("console", "", "bob", "bob"),
            action=Action("challenges.answer", "1", {"challenge-1": "80"}),
            source_key="challenges.card:1:3",
        )
    )
    assert dm is not None and dm.visibility == "replace"
    assert "Only learners of spoc" in await answer(chat, "mallory", "443")
    assert "no longer exists" in await answer(chat, "alice", "443", challenge=99)
    assert "no longer exists" in await chat.press("alice", "challenges.answer", "1; drop table", {})


async def test_a_learner_who_joins_after_the_post_only_counts_if_they_take_part(
    chat: Chat, clock: SimulatedClock
) -> None:
    await setup_cohort(chat, {"red": ["alice", "bob"], "blue": ["carl", "dora"]})
    await chat.say("tina", QUIZ)
    await answer(chat, "alice", "443")
    await answer(chat, "carl", "443")
    clock.advance(timedelta(hours=1))
    await chat.say("tina", "enroll spoc emil gus team=red")  # never got the question
    await chat.say("tina", "enroll spoc hana team=blue")
    await answer(chat, "hana", "80")  # but took part from the channel: she counts
    closed = await chat.say("tina", "challenge spoc close 1")
    assert "red  : 1/2 (50%)" in closed and "blue : 1/3 (33%)" in closed
    assert "*red* wins: alice earns 20 points." in closed


async def test_card_updates_are_queued_once_and_only_for_cards_that_were_sent(chat: Chat) -> None:
    await setup_cohort(chat, {"red": ["alice"]})
    await chat.say("tina", QUIZ)
    closed = Message("closed", (Text("closed"),))
    updates = [Update("challenges.card:1:2", "k1", closed), Update("challenges.card:1:999", "k2", closed)]
    async with chat.app.store.transaction() as session:
        assert await outbox.enqueue_updates(session, updates, now=chat.app.clock.now()) == 1
        assert await outbox.enqueue_updates(session, updates, now=chat.app.clock.now()) == 0


async def test_a_double_click_racing_on_two_instances_records_one_answer(chat: Chat) -> None:
    """Two instances may both pass the "already answered?" check; the database keeps the first."""
    from bot.capabilities.challenges.answers import _enter
    from bot.capabilities.challenges.tables import Challenge
    from bot.core.context import Ctx

    await setup_cohort(chat, {"red": ["alice"]})
    await chat.say("tina", QUIZ)
    alice = await person_id(chat.app, "alice")
    async with chat.app.store.transaction() as session:
        challenge = await session.get_one(Challenge, 1)
        enrolment = (await session.exec(select(Enrolment).where(Enrolment.person_id == alice))).one()
        actor = await session.get_one(Person, alice)
        inbound = Inbound(sender=Profile("console", "", "alice", "alice"))
        ctx = Ctx(
            session=session,
            now=chat.app.clock.now(),
            settings=chat.app.settings,
            inbound=inbound,
            actor=actor,
        )
        assert await _enter(ctx, challenge, enrolment, "443", True) is True
        assert await _enter(ctx, challenge, enrolment, "80", False) is False
    assert "already in" in await answer(chat, "alice", "80")
    async with chat.app.store.transaction() as session:
        answers = (await session.exec(select(Activity).where(Activity.kind == "challenge.answered"))).all()
    assert len(answers) == 1
