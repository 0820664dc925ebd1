"""Check-in windows on the simulated clock: cards, Present/Late/Absent/Excused boundaries, duplicates."""

from __future__ import annotations

from sqlmodel import select

from bot.app.bootstrap import App
from bot.capabilities.attendance.rules import validate_section
from bot.capabilities.attendance.status import attendance_kpi
from bot.core.clock import SimulatedClock
from bot.core.models import Activity, Cohort
from tests.capabilities.attendance_helpers import (
    at,
    click,
    cohort_with_session,
    records,
    run_until,
    statuses,
    text,
)
from tests.conftest import Chat, RecordingSender


async def test_window_opens_with_a_card_per_learner_and_a_channel_post(
    app: App, chat: Chat, clock: SimulatedClock, sender: RecordingSender
) -> None:
    await cohort_with_session(chat)
    await run_until(app, clock, at(7, 49))
    assert not [m for m in sender.to("alice") if "Check-in" in m.summary]
    await run_until(app, clock, at(7, 50))
    cards = [m for m in sender.to("alice") if m.buttons()]
    assert len(cards) == 1
    primary = [b for b in cards[0].buttons() if b.style == "primary"]
    assert [(b.label, b.action, b.value) for b in primary] == [("Check in", "attendance.checkin", "1")]
    assert "I can't attend" in [b.label for b in cards[0].buttons()]
    assert "after 09:05 it counts as late" in cards[0].summary  # shown in the cohort's time (Paris)
    assert any("Check-in is open for *Kick-off*" in m.summary for m in sender.to("#spoc"))
    assert sum(1 for t, m in sender.sent if m.buttons() and not t.address.startswith("#")) == 5


async def test_present_late_absent_boundaries(app: App, chat: Chat, clock: SimulatedClock) -> None:
    await cohort_with_session(chat)
    assert "opens at" in text(await click(app, clock, "alice", at(7, 49, 59)))
    assert await records(app) == []
    assert "✓ Checked in at 08:50 (Present)" in text(await click(app, clock, "alice", at(7, 50)))
    assert "(Present)" in text(await click(app, clock, "bob", at(8, 4, 59)))
    assert "✓ Checked in at 09:05 (Late)" in text(await click(app, clock, "carol", at(8, 5)))
    assert "(Late)" in text(await click(app, clock, "dave", at(8, 14, 59)))
    after = await click(app, clock, "erin", at(8, 15))
    assert "closed at 09:15" in text(after)
    await run_until(app, clock, at(8, 16))
    assert await statuses(app) == {
        "alice": "present",
        "bob": "present",
        "carol": "late",
        "dave": "late",
        "erin": "absent",
    }
    # After the close, a click answers with the recorded status and records nothing.
    assert "already recorded *Absent*" in text(await click(app, clock, "erin", at(8, 20)))
    assert len(await records(app)) == 5


async def test_the_platform_time_decides_unless_it_is_implausible(
    app: App, chat: Chat, clock: SimulatedClock
) -> None:
    await cohort_with_session(chat)
    # Clicked at 08:04:50 (Slack's time), reached us 30 s later: still Present.
    reply = await click(app, clock, "alice", at(8, 5, 20), event_time=at(8, 4, 50))
    assert "(Present)" in text(reply)
    # A timestamp an hour old is not believed: the server's time decides.
    assert "(Late)" in text(await click(app, clock, "bob", at(8, 6), event_time=at(7, 6)))
    [alice, bob] = await records(app)
    assert (alice.event_time, alice.received_at) == (at(8, 4, 50), at(8, 5, 20))
    assert (bob.event_time, bob.received_at) == (at(7, 6), at(8, 6))


async def test_double_click_and_retried_delivery_record_once(
    app: App, chat: Chat, clock: SimulatedClock, sender: RecordingSender
) -> None:
    await cohort_with_session(chat)
    first = await click(app, clock, "alice", at(7, 55), event_id="E1")
    assert first is not None and first.visibility == "replace"
    again = await click(app, clock, "alice", at(7, 56), event_id="E2")  # a second click: a new event
    assert "already checked in at 08:55 (Present). Nothing changed." in text(again)
    retried = await click(app, clock, "alice", at(7, 57), event_id="E1")  # Slack retries the same event
    assert retried is None
    assert len(await records(app)) == 1
    async with app.store.transaction() as session:
        logged = (await session.exec(select(Activity).where(Activity.kind == "attendance.recorded"))).all()
    assert [(a.data["status"], a.data["correction"]) for a in logged] == [("present", False)]


async def test_reminder_goes_once_to_the_unmarked_only(
    app: App, chat: Chat, clock: SimulatedClock, sender: RecordingSender
) -> None:
    await cohort_with_session(chat)
    await run_until(app, clock, at(7, 50))
    await click(app, clock, "alice", at(7, 51))
    assert "can't attend" in await chat.say("erin", "absent spoc sick today")
    await run_until(app, clock, at(8, 10))
    reminded = sorted(t.address for t, m in sender.sent if t.key.startswith("checkin-reminder:"))
    assert reminded == ["bob", "carol", "dave"]
    await run_until(app, clock, at(9, 0))
    assert len([t for t, _ in sender.sent if t.key.startswith("checkin-reminder:")]) == 3


async def test_close_marks_absent_and_closes_the_open_cards(
    app: App, chat: Chat, clock: SimulatedClock, sender: RecordingSender
) -> None:
    await cohort_with_session(chat, ("alice", "bob", "carol"))
    await run_until(app, clock, at(7, 50))
    await click(app, clock, "alice", at(7, 52))
    await run_until(app, clock, at(8, 5))  # bob and carol are reminded
    await click(app, clock, "bob", at(8, 6))  # bob answers on the reminder: his first card is still open
    await run_until(app, clock, at(8, 20))
    assert await statuses(app) == {"alice": "present", "bob": "late", "carol": "absent"}
    closed: dict[str, list[str]] = {}
    for target, _, message in sender.updated:
        closed.setdefault(target.address, []).append(message.summary)
    assert closed["carol"] == ["Check-in for *Kick-off* is closed. You are recorded *Absent*."] * 2
    assert closed["bob"] == ["Check-in for *Kick-off* is closed. You are recorded *Late*."] * 2
    assert "alice" not in closed  # her click already replaced her only card
    assert any("1 present, 1 late, 1 absent" in m.summary for m in sender.to("#spoc"))
    carol = (await records(app))[-1]
    assert (carol.auth, carol.idempotency_key, carol.actor_id) == ("system:window-close", "close:1:4", None)


async def test_an_open_event_past_its_window_does_not_fire(
    app: App, chat: Chat, clock: SimulatedClock, sender: RecordingSender
) -> None:
    await cohort_with_session(chat)
    clock.set(at(10, 0))  # the bot was down through the whole window
    outcomes = {e.kind: outcome for e, outcome in await app.runner.tick() if e.kind.startswith("attendance.")}
    await app.worker.drain()
    assert outcomes == {"attendance.open": "late", "attendance.remind": "late", "attendance.close": "fired"}
    assert not [m for m in sender.to("alice") if m.buttons()]  # no check-in card after the session
    assert set((await statuses(app)).values()) == {"absent"}


async def test_trainer_opens_early_and_closes_now(
    app: App, chat: Chat, clock: SimulatedClock, sender: RecordingSender
) -> None:
    await cohort_with_session(chat, ("alice", "bob"))
    clock.set(at(7, 30))
    assert "Only admins and trainers" in await chat.say("alice", "window spoc open #1")
    assert "is open: 2 cards sent" in await chat.say("tina", "window spoc open #1")
    assert "(Present)" in text(await click(app, clock, "alice", at(7, 31)))
    clock.set(at(7, 40))
    assert "is closed: 1 present, 0 late, 1 absent, 0 excused" in await chat.say("tina", "window spoc close")
    assert "already recorded *Absent*" in text(await click(app, clock, "bob", at(7, 41)))
    await run_until(app, clock, at(9, 0))
    assert len(await records(app)) == 2
    assert len([m for m in sender.to("alice") if m.buttons()]) == 1  # the schedule did not open it again


async def test_missing_lists_who_has_not_checked_in(app: App, chat: Chat, clock: SimulatedClock) -> None:
    await cohort_with_session(chat)
    await click(app, clock, "alice", at(7, 55))
    await click(app, clock, "bob", at(8, 6))
    answer = await chat.say("tina", "missing spoc")
    assert "2/5 recorded: 1 present, 1 late" in answer
    assert "Missing: carol, dave, erin" in answer


async def test_window_settings_from_the_programme_and_per_session(
    app: App, chat: Chat, clock: SimulatedClock
) -> None:
    await cohort_with_session(chat)
    async with app.store.transaction() as session:
        cohort = (await session.exec(select(Cohort))).one()
        cohort.programme = {"attendance": {"opens_before_min": 30, "late_after_min": 0}}
        session.add(cohort)
    assert "(Present)" in text(await click(app, clock, "alice", at(7, 31)))
    assert "(Late)" in text(await click(app, clock, "bob", at(8, 0, 1)))
    assert "late from 09:10, closes 09:30" in await chat.say("tina", "window spoc set #1 late=10 after=30")
    assert "(Present)" in text(await click(app, clock, "carol", at(8, 9)))
    assert "(Late)" in text(await click(app, clock, "dave", at(8, 29)))
    assert "Late can't start after" in await chat.say("tina", "window spoc set #1 late=40")


async def test_a_cohort_can_turn_attendance_off(
    app: App, chat: Chat, clock: SimulatedClock, sender: RecordingSender
) -> None:
    await cohort_with_session(chat, ("alice",))
    async with app.store.transaction() as session:
        cohort = (await session.exec(select(Cohort))).one()
        cohort.programme = {"attendance": {"enabled": False}}
        session.add(cohort)
    assert "not tracked" in text(await click(app, clock, "alice", at(7, 55)))
    await run_until(app, clock, at(9, 0))
    assert await records(app) == [] and not [m for m in sender.to("alice") if m.buttons()]


def test_programme_section_is_validated() -> None:
    assert validate_section({"opens_before_min": 10, "require_code": True}) == []
    errors = dict(validate_section({"opens_before_min": -1, "reminder": "yes", "colour": 1}))
    assert set(errors) == {"opens_before_min", "reminder", "colour"}
    assert validate_section({"late_after_min": 20, "closes_after_min": 15})[0][0] == "late_after_min"


async def test_status_and_kpi_show_attendance(app: App, chat: Chat, clock: SimulatedClock) -> None:
    await cohort_with_session(chat, ("alice", "bob"))
    await click(app, clock, "alice", at(8, 6))
    await run_until(app, clock, at(8, 30))
    assert "*Attendance*: 1/1 session (1 late)" in await chat.say("alice", "status spoc")
    assert "#1: 1 late, 1 absent" in await chat.say("tina", "status spoc")
    async with app.store.transaction() as session:
        cohort = (await session.exec(select(Cohort))).one()
        figures = await attendance_kpi(session, cohort)
    assert (figures["attendance_records"], figures["attendance_late"], figures["attendance_rate"]) == (
        2,
        1,
        0.5,
    )
