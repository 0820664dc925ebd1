"""The APScheduler runner: one in-memory job per planned cohort event, rebuilt from the database.

The database is the source of truth. At start, and every `resync` seconds, the runner asks the
planners for the pending events and makes the job set match: a job per event, its id the event's
key (`replace_existing`, so a restart or a moved session never doubles a job), jobs of events no
longer planned removed. A job only holds the event's key and cohort id; when it runs, the event
is planned again and fired through `EventRunner.fire`, which records it once and applies the
event's own grace window: events missed while the process was down are caught up if still useful,
and recorded as late otherwise (a "starts in 15 minutes" never goes out after the start).

Only one process may run this (PlatformFacts: a job store cannot be shared): it runs inside the
event source's election (a PostgreSQL advisory lock; on SQLite there is a single instance anyway).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from schedules.events import EventSource, PlannedEvent

log = logging.getLogger(__name__)

RESYNC_SECONDS = 60.0  # the safety net: writes that change the plan replan at once
RESYNC_JOB = "scheduler:resync"
CHANGE_POLL_SECONDS = 2.0  # how often another instance's plan change is looked for
JOB_DEFAULTS = {
    # Our own grace windows (per event, in EventRunner.fire) decide whether a late event is still
    # worth sending, so APScheduler must always hand it over rather than drop it after 1 s.
    "misfire_grace_time": None,
    "coalesce": True,
    "max_instances": 1,
}


class SchedulerRunner:
    def __init__(self, events: EventSource, *, resync_seconds: float = RESYNC_SECONDS) -> None:
        self.events = events
        self.resync_seconds = resync_seconds
        self.scheduler = AsyncIOScheduler(timezone=UTC, job_defaults=JOB_DEFAULTS)
        self.outcomes: list[tuple[str, str]] = []  # (event key, outcome) of what fired, newest last

    async def start(self) -> None:
        """Build the jobs from the database, then start firing them (call inside the event loop)."""
        self.scheduler.start()
        await self.sync()
        self.scheduler.add_job(
            self.sync,
            IntervalTrigger(seconds=self.resync_seconds, timezone=UTC),
            id=RESYNC_JOB,
            replace_existing=True,
        )

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def event_jobs(self) -> dict[str, Any]:
        return {job.id: job for job in self.scheduler.get_jobs() if job.id != RESYNC_JOB}

    async def sync(self) -> int:
        """Make the jobs match the pending events; returns how many jobs there are."""
        try:
            pending = await self.events.pending()
        except Exception:  # keep the jobs we have; the next resync tries again
            log.exception("scheduler resync failed")
            return len(self.event_jobs())
        wanted = {event.key: event for event in pending}
        for key, job in self.event_jobs().items():
            if key not in wanted:
                job.remove()
        current = self.event_jobs()
        for event in pending:
            job = current.get(event.key)
            if job is not None and job.next_run_time == event.due_at:
                continue
            self._add(event)
        return len(wanted)

    def _add(self, event: PlannedEvent) -> None:
        self.scheduler.add_job(
            self._fire,
            DateTrigger(run_date=event.due_at, timezone=UTC),
            id=event.key,
            name=f"{event.kind} {event.key}",
            args=[event.key, event.cohort_id],
            replace_existing=True,
        )

    async def _fire(self, key: str, cohort_id: int | None) -> None:
        event = await self.events.pending_event(key, cohort_id)
        if event is None:
            return  # fired meanwhile, cohort paused, or the session was removed
        outcome = await self.events.fire(event)
        self.outcomes.append((key, outcome))
        log.info("event %s: %s", key, outcome)


async def run(
    events: EventSource,
    *,
    resync_seconds: float = RESYNC_SECONDS,
    on_elected: Callable[[SchedulerRunner], None] | None = None,
) -> None:
    """Run the scheduler for as long as the task lives, once elected (one per database: the
    engine's election holds a PostgreSQL advisory lock, so a dead instance hands over)."""
    async with events.election(resync_seconds):
        await _run_elected(events, resync_seconds, on_elected)


async def _run_elected(
    events: EventSource, resync_seconds: float, on_elected: Callable[[SchedulerRunner], None] | None
) -> None:
    runner = SchedulerRunner(events, resync_seconds=resync_seconds)
    await runner.start()
    if on_elected is not None:
        on_elected(runner)
    log.info("scheduler started with %d event jobs at %s", len(runner.event_jobs()), datetime.now(UTC))
    try:
        await replan_on_change(events, runner)
    finally:
        runner.shutdown()


async def replan_on_change(events: EventSource, runner: SchedulerRunner) -> None:
    """Resync as soon as a write changes the plan (a session added, moved or cancelled)."""
    while True:
        try:
            if await events.plan_changed(CHANGE_POLL_SECONDS):
                await runner.sync()
        except asyncio.CancelledError:
            raise
        except Exception:  # the periodic resync still runs; try again at the next poll
            log.exception("watching for plan changes failed")
            await asyncio.sleep(CHANGE_POLL_SECONDS)
