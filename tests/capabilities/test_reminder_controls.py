"""Default reminder rules of a cohort built by verbs, and what learners and trainers control:
late enrolment, done modules, snooze, mute, pause/resume, remind now, the reminder log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.capabilities.reminders.fanout import ReminderLog
from bot.core.clock import SimulatedClock
from bot.core.messages import Button
from bot.core.models import Completion, Module, Person
from tests.conftest import Chat
from tests.schedules.scheduler_helpers import TimedSender, person_in, received, run_until


@pytest.fixture
def sender(clock: SimulatedClock) -> TimedSender:
    return TimedSender(clock)


async def setup(chat: Chat, *learners: str) -> None:
    for name in ("alice", "bob", "carl", *learners):
        await person_in(chat.app, name, "Europe/Paris")
    await chat.say("tina", "create c tz=Europe/Paris start=2027-03-01")
    await chat.say("tina", "enroll c alice bob")
    for week in range(3):
        await chat.say(
            "tina",
            f'session c "Live {week + 1}" 2027-03-{2 + 7 * week:02d} 14:00 90m link=https://meet.example/x',
        )
        await chat.say("tina", f'module c "Module {week + 1}" due 2027-03-{5 + 7 * week:02d}')


def rules(sender: TimedSender, who: str) -> list[str]:
    return [rule for _, rule in received(sender, who, "Europe/Paris")]


async def test_default_rules_and_the_mark_as_done_button(
    chat: Chat, sender: TimedSender, clock: SimulatedClock
) -> None:
    await setup(chat)
    await run_until(chat.app, clock, datetime(2027, 3, 6, tzinfo=UTC))
    assert received(sender, "alice", "Europe/Paris") == [
        ("Mon 01 Mar 14:00", "s1:1d"),
        ("Tue 02 Mar 13:45", "s1:15m"),
        ("Wed 03 Mar 09:00", "m1:d2@0900"),
        ("Fri 05 Mar 09:00", "m1:d0@0900n"),
    ]
    # (alice also gets check-in cards from the attendance capability: look at reminders only.)
    reminders = [m for t, m in sender.sent if t.address == "alice" and t.key.startswith("reminder:")]
    session_reminder, _, module_reminder, nudge = reminders
    assert "Live 1" in session_reminder.summary and "Tue 2 Mar 2027, 14:00" in session_reminder.summary
    assert "https://meet.example/x" in str(session_reminder.blocks)
    assert "due today" in nudge.summary
    for message in (module_reminder, nudge):
        assert message.buttons() == [Button("Mark as done", action="module.done", value="1", style="primary")]
    # The completion capability records the click (after the due date here).
    assert "✓ Module 1 marked done" in await chat.press("alice", "module.done", "1")


async def test_whoever_is_done_is_not_nudged(chat: Chat, sender: TimedSender, clock: SimulatedClock) -> None:
    await setup(chat)
    await run_until(chat.app, clock, datetime(2027, 3, 4, tzinfo=UTC))
    async with chat.app.store.transaction() as session:
        module = (await session.exec(select(Module).where(Module.title == "Module 1"))).one()
        person = (await session.exec(select(Person).where(Person.display_name == "alice"))).one()
        session.add(
            Completion(
                cohort_id=module.cohort_id, module_id=module.id or 0, person_id=person.id or 0, at=clock.now()
            )
        )
    await run_until(chat.app, clock, datetime(2027, 3, 6, tzinfo=UTC))
    assert "m1:d0@0900n" not in rules(sender, "alice")
    assert "m1:d0@0900n" in rules(sender, "bob")
    log = await chat.say("tina", "reminders c alice")
    assert "skipped (done)" in log and "skipped: done" in log


async def test_a_late_enrolment_is_not_reminded_of_the_past(
    chat: Chat, sender: TimedSender, clock: SimulatedClock
) -> None:
    await setup(chat)
    await run_until(chat.app, clock, datetime(2027, 3, 10, 12, tzinfo=UTC))
    await chat.say("tina", "enroll c carl")
    await run_until(chat.app, clock, datetime(2027, 3, 13, tzinfo=UTC))
    # Carl joined on Wednesday of week 2 at noon: nothing of week 1, nor what was due before he came.
    assert rules(sender, "carl") == ["m2:d0@0900n"]
    assert rules(sender, "alice")[-2:] == ["m2:d2@0900", "m2:d0@0900n"]


async def test_late_catch_up_skips_whoever_enrolled_after_the_reminder_was_due(
    chat: Chat, sender: TimedSender, clock: SimulatedClock
) -> None:
    await setup(chat)
    await run_until(chat.app, clock, datetime(2027, 3, 1, 12, tzinfo=UTC))
    clock.set(datetime(2027, 3, 1, 13, 30, tzinfo=UTC))  # the 1d reminder (13:00) has not run: we were down
    await chat.say("tina", "enroll c carl")
    await run_until(chat.app, clock, datetime(2027, 3, 1, 14, tzinfo=UTC))
    assert rules(sender, "alice") == ["s1:1d"] and rules(sender, "carl") == []
    assert "skipped: enrolled_later" in await chat.say("tina", "reminders c")


async def test_snooze_and_mute_silence_optional_reminders_only(
    chat: Chat, sender: TimedSender, clock: SimulatedClock
) -> None:
    await setup(chat)
    assert "snoozed until" in await chat.say("alice", "snooze c 3d")
    assert "not a period" in await chat.say("alice", "snooze c forever")
    await run_until(chat.app, clock, datetime(2027, 3, 6, tzinfo=UTC))
    # Snoozed for 3 days from Monday 08:00: Wednesday's module reminder is skipped, sessions still come,
    # and Friday's nudge comes again.
    assert rules(sender, "alice") == ["s1:1d", "s1:15m", "m1:d0@0900n"]
    assert "muted" in await chat.say("alice", "mute c")
    await run_until(chat.app, clock, datetime(2027, 3, 13, tzinfo=UTC))
    assert rules(sender, "alice")[3:] == ["s2:1d", "s2:15m"]
    assert "back on" in await chat.say("alice", "unmute c")
    await run_until(chat.app, clock, datetime(2027, 3, 20, tzinfo=UTC))
    assert "m3:d2@0900" in rules(sender, "alice")
    assert "not in 'c'" in await chat.say("carl", "mute c")
    log = await chat.say("tina", "reminders c alice")
    assert "skipped (muted)" in log or "skipped: muted" in log


async def test_pause_holds_everything_and_resume_does_not_send_what_fell_due(
    chat: Chat, sender: TimedSender, clock: SimulatedClock
) -> None:
    await setup(chat)
    assert "Only admins and trainers" in await chat.say("alice", "pause c")
    assert "paused" in await chat.say("tina", "pause c")
    await run_until(chat.app, clock, datetime(2027, 3, 6, tzinfo=UTC))
    assert rules(sender, "alice") == []
    reply = await chat.say("tina", "resume c")
    assert "running again" in reply and "skipped" in reply
    await run_until(chat.app, clock, datetime(2027, 3, 10, tzinfo=UTC))
    assert rules(sender, "alice") == ["s2:1d", "s2:15m"]
    assert "events skipped: cohort paused" in await chat.say("tina", "reminders c")


async def test_remind_now(chat: Chat, sender: TimedSender, clock: SimulatedClock) -> None:
    await setup(chat)
    reply = await chat.say("tina", 'remind c "module 2"')
    assert "sent to 2 learners" in reply
    await chat.app.worker.drain()
    assert [m.summary for m in sender.to("bob")][-1].startswith("Reminder: *Module 2*")
    assert 'Did you mean "Module 2"' in await chat.say("tina", 'remind c "Modle 2"')
    assert "Only admins and trainers" in await chat.say("alice", 'remind c "Module 2"')
    clock.advance(timedelta(minutes=1))
    await chat.say("tina", 'remind c "Live 2"')
    await chat.app.worker.drain()
    assert sender.to("alice")[-1].summary.startswith("Reminder: *Live 2*")


async def test_the_reminder_log_is_queryable_evidence(
    chat: Chat, sender: TimedSender, clock: SimulatedClock
) -> None:
    await setup(chat)
    await run_until(chat.app, clock, datetime(2027, 3, 6, tzinfo=UTC))
    async with chat.app.store.transaction() as session:
        rows = (await session.exec(select(ReminderLog).where(ReminderLog.status == "queued"))).all()
    assert len(rows) == 8 and {r.rule for r in rows} == {"1d", "15m", "d2@0900", "d0@0900n"}
    log = await chat.say("tina", "reminders c")
    assert "sent" in log and "8" in log
    assert "Only admins and trainers" in await chat.say("alice", "reminders c")
