"""One DM where there would be two: a session reminder that falls when the check-in window opens
is not sent on its own; the learner's one DM is the check-in card (title, start time, Check in)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.app.bootstrap import App
from bot.capabilities.reminders.fanout import ReminderLog
from bot.core.clock import SimulatedClock
from bot.core.messages import Buttons
from bot.core.models import Cohort
from tests.capabilities.attendance_helpers import STARTS, cohort_with_session
from tests.conftest import Chat, RecordingSender
from tests.schedules.scheduler_helpers import run_until


async def _with_programme(app: App, opens_before_min: int) -> None:
    async with app.store.transaction() as session:
        cohort = (await session.exec(select(Cohort))).one()
        cohort.programme = {
            "attendance": {"opens_before_min": opens_before_min},
            "reminders": [{"of": "session", "before": "15m", "quiet_hours": "ignore"}],
        }
        session.add(cohort)


async def _dms_to_alice(chat: Chat, clock: SimulatedClock, sender: RecordingSender) -> list[str]:
    await chat.app.worker.drain()  # the welcome DMs
    sender.sent.clear()
    clock.set(STARTS - timedelta(hours=1))
    await run_until(chat.app, clock, STARTS - timedelta(minutes=1))
    return [m.summary for m in sender.to("alice")]


async def test_a_reminder_at_the_window_opening_is_the_check_in_card(
    chat: Chat, clock: SimulatedClock, sender: RecordingSender
) -> None:
    await cohort_with_session(chat, ("alice", "bob"))
    await _with_programme(chat.app, opens_before_min=15)
    summaries = await _dms_to_alice(chat, clock, sender)
    (card,) = sender.to("alice")
    assert len(summaries) == 1
    assert any(isinstance(b, Buttons) and b.buttons[0].action == "attendance.checkin" for b in card.blocks)
    async with chat.app.store.transaction() as session:
        reasons = {r.reason for r in (await session.exec(select(ReminderLog))).all()}
    assert reasons == {"checkin_card"}  # logged as carried by the card, for the audit trail


async def test_a_reminder_well_before_the_window_is_still_sent(
    chat: Chat, clock: SimulatedClock, sender: RecordingSender
) -> None:
    await cohort_with_session(chat, ("alice", "bob"))
    await _with_programme(chat.app, opens_before_min=5)
    summaries = await _dms_to_alice(chat, clock, sender)
    assert len(summaries) == 2 and summaries[0].startswith("Reminder")
