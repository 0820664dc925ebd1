"""The APScheduler runner on the real clock: one job per planned event (id = event key), rebuilt
from the database at start; missed events are caught up only within their grace; a restart
doubles nothing; a resync gives newly added sessions their jobs."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from bot.app.bootstrap import build
from bot.core.clock import SystemClock
from bot.core.models import Cohort, Enrolment, LiveSession, OutboxMessage
from bot.core.settings import Settings
from schedules.runner import JOB_DEFAULTS, SchedulerRunner
from tests.conftest import Chat, RecordingSender
from tests.schedules.scheduler_helpers import person_in

NEVER_QUIET = {"quiet_hours": {"from": "00:00", "to": "00:00"}}


async def wait_for(condition, attempts: int = 200) -> None:  # type: ignore[no-untyped-def]
    for _ in range(attempts):
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def test_jobs_from_the_database_catch_up_within_grace_and_survive_a_restart(tmp_path: Path) -> None:
    clock = SystemClock()
    sender = RecordingSender()
    app = await build(
        Settings(database_url=f"sqlite:///{tmp_path / 'r.db'}"), {"console": sender}, clock, schema="create"
    )
    chat = Chat(app)
    await person_in(app, "alice", "UTC")
    await chat.say("tina", "create live tz=UTC")
    await chat.say("tina", "enroll live alice")
    now = clock.now()
    async with app.store.transaction() as session:
        cohort = (await session.exec(select(Cohort))).one()
        cohort.programme = NEVER_QUIET
        session.add(cohort)
        for enrolment in (await session.exec(select(Enrolment))).all():
            enrolment.enrolled_at = now - timedelta(hours=1)  # enrolled before any of this was due
            session.add(enrolment)
        for title, starts in (
            ("soon", now + timedelta(minutes=10)),  # its 15-minute reminder was missed 5 min ago: catch up
            ("started", now - timedelta(minutes=5)),  # too late for anything: never "starts in 15 min"
            ("next", now + timedelta(minutes=15, seconds=1.5)),  # its 15-minute reminder is due in 1.5 s
        ):
            session.add(LiveSession(cohort_id=cohort.id or 0, title=title, starts_at=starts, duration_min=30))

    runner = SchedulerRunner(app.runner, resync_seconds=0.3)
    assert runner.scheduler._job_defaults == JOB_DEFAULTS  # misfires are ours to judge, not dropped after 1 s
    pending = await app.runner.pending()
    await runner.start()
    assert set(runner.event_jobs()) <= {e.key for e in pending}
    await wait_for(lambda: _outcome(runner, "s3:15m"))
    outcomes = dict(runner.outcomes)
    assert outcomes["rem:1:s1:15m:UTC"] == "fired"
    assert outcomes["rem:1:s2:15m:UTC"] == "late" and outcomes["rem:1:s1:1d:UTC"] == "late"
    await app.worker.drain()
    assert [m.summary.split("*")[1] for m in sender.to("alice") if m.summary.startswith("Reminder")] == [
        "soon",
        "next",
    ]

    # A session added while running gets its job at the next resync, under its event key.
    async with app.store.transaction() as session:
        session.add(
            LiveSession(cohort_id=1, title="added", starts_at=now + timedelta(days=3), duration_min=30)
        )
    await wait_for(lambda: _has_job(runner, "rem:1:s4:1d:UTC"))
    runner.shutdown()

    # Restart: the jobs are rebuilt from the database; what fired does not fire again.
    again = SchedulerRunner(app.runner)
    await again.start()
    reminder_jobs = {key for key in again.event_jobs() if key.startswith("rem:")}  # digests etc. have theirs
    assert reminder_jobs == {"rem:1:s4:1d:UTC", "rem:1:s4:15m:UTC"}
    await asyncio.sleep(0.2)
    again.shutdown()
    await app.worker.drain()
    async with app.store.transaction() as session:
        keys = (await session.exec(select(OutboxMessage.key))).all()
    assert len(keys) == len(set(keys))
    # welcome + 2 reminders (check-in cards from the attendance capability aside)
    assert (
        len(
            [
                t
                for t, _ in sender.sent
                if t.address == "alice" and not t.key.startswith(("checkin", "attendance"))
            ]
        )
        == 3
    )
    await app.close()


async def _outcome(runner: SchedulerRunner, fragment: str) -> bool:
    return any(fragment in key for key, _ in runner.outcomes)


async def _has_job(runner: SchedulerRunner, key: str) -> bool:
    return key in runner.event_jobs()


async def test_a_session_added_by_a_command_is_planned_at_once(tmp_path: Path) -> None:
    """No waiting for the resync: the command's commit wakes the scheduler, which replans."""
    from schedules.runner import _run_elected

    clock = SystemClock()
    app = await build(
        Settings(database_url=f"sqlite:///{tmp_path / 'n.db'}"),
        {"console": RecordingSender()},
        clock,
        schema="create",
    )
    chat = Chat(app)
    await chat.say("tina", "create live tz=UTC")
    runners: list[SchedulerRunner] = []
    task = asyncio.create_task(_run_elected(app.runner, 3600.0, runners.append))
    try:
        await wait_for(lambda: asyncio.sleep(0, bool(runners)))
        assert not [k for k in runners[0].event_jobs() if k.startswith("attendance:open:")]
        starts = (clock.now() + timedelta(days=2)).strftime("%Y-%m-%d %H:%M")
        assert "added" in await chat.say("tina", f'session live "Kick-off" {starts} 60m')
        await wait_for(
            lambda: asyncio.sleep(0, any(k.startswith("attendance:open:") for k in runners[0].event_jobs())),
            attempts=20,  # within a second, not the hour-long resync
        )
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await app.close()
