"""Shared steps for the attendance tests: a cohort with one session, clicks as a platform sends them."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from sqlmodel import col, select

from bot.app.bootstrap import App
from bot.capabilities.attendance.models import AttendanceRecord
from bot.core.clock import SimulatedClock
from bot.core.inbound import Action, Inbound, Profile
from bot.core.messages import Reply
from bot.core.render_text import render_text
from tests.conftest import Chat

# The cohort is in Paris (UTC+1 in March); "Kick-off" starts 09:00 Paris = 08:00 UTC on Monday 1 March.
STARTS = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
LEARNERS = ("alice", "bob", "carol", "dave", "erin")
_event_ids = itertools.count(1)


def at(hh: int, mm: int, ss: int = 0) -> datetime:
    """A UTC time on the session's day."""
    return datetime(2027, 3, 1, hh, mm, ss, tzinfo=UTC)


async def cohort_with_session(chat: Chat, learners: tuple[str, ...] = LEARNERS) -> int:
    await chat.say("tina", "create spoc tz=Europe/Paris")
    await chat.say("tina", f"enroll spoc {' '.join(learners)}")
    reply = await chat.say("tina", 'session spoc "Kick-off" 2027-03-01 09:00 90m')
    assert "Kick-off" in reply
    return 1


async def click(
    app: App,
    clock: SimulatedClock,
    who: str,
    when: datetime,
    *,
    session_id: int = 1,
    code: str | None = None,
    event_time: datetime | None = None,
    event_id: str | None = None,
    auth: str = "slack-signature",
) -> Reply | None:
    """Press "Check in" as the platform delivers it: its event id, its event time, how it was verified."""
    clock.set(when)
    inputs = {"code": code} if code is not None else {}
    return await app.engine.handle(
        Inbound(
            sender=Profile("console", "", who, who),
            action=Action("attendance.checkin", str(session_id), inputs),
            dedupe_key=event_id or f"evt-{next(_event_ids)}",  # each click is a new platform event
            event_time=event_time or when,
            auth=auth,
        )
    )


def text(reply: Reply | None) -> str:
    assert reply is not None
    return render_text(reply.message)


async def records(app: App, session_id: int = 1) -> list[AttendanceRecord]:
    async with app.store.transaction() as session:
        rows = await session.exec(
            select(AttendanceRecord)
            .where(AttendanceRecord.session_id == session_id)
            .order_by(col(AttendanceRecord.seq))
        )
        return list(rows.all())


async def statuses(app: App, session_id: int = 1) -> dict[str, str]:
    """Learner name -> current status (the latest record)."""
    return {r.person_name: r.status for r in await records(app, session_id)}


async def run_until(app: App, clock: SimulatedClock, when: datetime) -> None:
    """Fire every scheduled event due up to `when`, in order, and deliver the outbox."""
    for event in await app.runner.pending():
        if event.due_at > when:
            break
        clock.set(max(event.due_at, clock.now()))
        await app.runner.fire(event)
    clock.set(when)
    await app.worker.drain()
