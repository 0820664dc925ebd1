"""Scheduled events: capabilities plan them from stored data, the runner fires each exactly once.

A planner is a pure-ish function of the database and the clock; firing an event records a
FiredEvent row in the same transaction as the handler's effects (outbox rows, log entries),
so an event can never fire twice, even across restarts or several instances.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.clock import Clock
from bot.core.context import EventContext
from bot.core.models import Cohort, FiredEvent
from bot.core.plan_cache import PlanCache
from bot.core.registry import EVENT_HANDLERS, PLANNERS, load_capabilities
from bot.core.replanning import PlanWatch, install
from bot.core.settings import Settings
from bot.core.store import Store, insert_for
from schedules.events import PlannedEvent

log = logging.getLogger(__name__)

ADVISORY_LOCK_ID = 0x636F686F  # "coho": one scheduler per database


TEAMS_TENANT_RATE = 30.0  # Teams: 30 requests/s per app per tenant (documented)
DEADLINE_MARGIN = 0.85  # a 429 lowers the rate to 90% of the refused one: count on a bit less


FIRST_429_PAUSE = 1.0  # the pacer meets the real limit once, and Slack's Retry-After is ~1 s
MIN_LEAD_SECONDS = 1.0  # below this, starting early gains nothing (firing itself takes about that)


def deadline_rate(settings: Settings) -> float:
    """Sends per second a deadline can count on: the setting, else the slowest enabled platform
    (0: no platform caps sends, e.g. the console)."""
    if settings.deadline_rate > 0:
        return settings.deadline_rate
    ceilings = []
    if settings.slack_enabled and settings.slack_workspace_rate > 0:
        ceilings.append(settings.slack_workspace_rate)
    if settings.teams_enabled:
        ceilings.append(TEAMS_TENANT_RATE)
    return DEADLINE_MARGIN * min(ceilings, default=0.0)


class EventRunner:
    """The engine's side of scheduling: plans events from the database and fires each once."""

    def __init__(self, store: Store, clock: Clock, settings: Settings) -> None:
        load_capabilities()
        self.store = store
        self.clock = clock
        self.settings = settings
        # Plans per cohort, reused until a write may change them (see plan_cache.py). Only where
        # this process sees every write: SQLite (another process's commits are noticed too).
        self.plans = (
            PlanCache(store.engine.sync_engine, watch_other_processes=True) if store.is_sqlite else None
        )
        self._watch: PlanWatch | None = None
        install()  # every instance announces its plan changes, elected or not

    async def plan_changed(self, poll_seconds: float) -> bool:
        """Wait for a write that changes the plan (here, or seen in `plan_version`)."""
        if self._watch is None:
            self._watch = PlanWatch(self._plan_version)
        return await self._watch.changed(poll_seconds)

    async def _plan_version(self) -> int:
        async with self.store.transaction() as session:
            row = (await session.exec(text("SELECT version FROM plan_version WHERE id = 1"))).first()  # type: ignore[call-overload]
        return int(row[0]) if row else 0

    @asynccontextmanager
    async def election(self, retry_seconds: float) -> AsyncIterator[None]:
        """Wait until this instance may run the scheduler. On PostgreSQL an advisory lock lives as
        long as its connection, so a dead instance hands over; SQLite has one instance anyway."""
        if self.store.is_sqlite:
            yield
            return
        async with self.store.engine.connect() as conn:
            while not (
                await conn.execute(text("SELECT pg_try_advisory_lock(:id)"), {"id": ADVISORY_LOCK_ID})
            ).scalar():
                await conn.commit()
                await asyncio.sleep(retry_seconds)  # another instance schedules; take over if it dies
            await conn.commit()
            try:
                yield
            finally:
                # The pool would keep this connection, and the lock with it: drop the connection
                # so another instance takes over at once.
                await conn.invalidate()

    async def plan(self) -> list[PlannedEvent]:
        """Every event of every active cohort, fired or not, sorted by time."""
        async with self.store.transaction() as session:
            return await self._plan(session)

    async def pending_event(self, key: str, cohort_id: int | None) -> PlannedEvent | None:
        """The current form of one event if it is still planned and has not fired (what a
        scheduler job runs: it holds only the key and cohort id, the database holds the rest)."""
        async with self.store.transaction() as session:
            if await session.get(FiredEvent, key) is not None:
                return None
            events = await self._plan(session, cohort_id)
        return next((e for e in events if e.key == key), None)

    async def _plan(self, session: AsyncSession, cohort_id: int | None = None) -> list[PlannedEvent]:
        now = self.clock.now()
        query = select(Cohort).where(Cohort.status == "active")
        if cohort_id is not None:
            query = query.where(Cohort.id == cohort_id)
        cohorts = (await session.exec(query)).all()
        today = now.astimezone(UTC).date()
        plans, replanned = [], False
        for cohort in cohorts:
            cached = self.plans.get(cohort.id or 0, today) if self.plans is not None else None
            if cached is None:
                replanned, cached = True, []
                for planner in PLANNERS:
                    cached.extend(await planner(session, cohort, now))
                # Big fan-outs start early enough for the last message to be sent by its due time.
                cached = [self._early_enough(e) for e in cached]
                cached.sort(key=_in_time_order)
                if self.plans is not None:
                    self.plans.put(cohort.id or 0, cached)
            plans.append(cached)
        if cohort_id is None and self.plans is not None:
            # Unchanged cohorts, unchanged plans: the merged list too (sorting it was most of a resync).
            merged = self.plans.merged([c.id or 0 for c in cohorts], replanned)
            if merged is not None:
                return list(merged)  # callers may sort or trim theirs
        events = list(heapq.merge(*plans, key=_in_time_order))
        if cohort_id is None and self.plans is not None:
            self.plans.put_merged([c.id or 0 for c in cohorts], events)
        return events

    def _early_enough(self, event: PlannedEvent) -> PlannedEvent:
        """Fire a fan-out of N time-critical messages N / rate seconds before it is due, so the last
        one is sent by then (the platforms cap sends per workspace and tenant)."""
        rate = deadline_rate(self.settings)
        if event.audience <= 0 or rate <= 0 or event.audience / rate < MIN_LEAD_SECONDS:
            return event
        lead = event.audience / rate + FIRST_429_PAUSE
        return replace(event, due_at=event.due_at - timedelta(seconds=lead))

    async def pending(self) -> list[PlannedEvent]:
        """Planned events that have not fired (nor been skipped) yet."""
        async with self.store.transaction() as session:
            events = await self._plan(session)
            if not events:
                return []
            if self.plans is not None:
                fired = await self.plans.fired_keys(session)
            else:
                fired = set(
                    (
                        await session.exec(
                            select(FiredEvent.key).where(col(FiredEvent.key).in_([e.key for e in events]))
                        )
                    ).all()
                )
        return [e for e in events if e.key not in fired]

    async def tick(self) -> list[tuple[PlannedEvent, str]]:
        """Fire whatever is due now; returns (event, outcome) for each one handled."""
        now = self.clock.now()
        done = []
        for event in await self.pending():
            if event.due_at > now:
                break
            done.append((event, await self.fire(event)))
        return done

    async def next_due(self) -> datetime | None:
        upcoming = await self.pending()
        return upcoming[0].due_at if upcoming else None

    async def fire(self, event: PlannedEvent) -> str:
        """Run one event once: "fired", "late" (past its grace, recorded and skipped) or "duplicate"."""
        now = self.clock.now()
        outcome = "late" if now - event.due_at > event.grace else "fired"
        async with self.store.transaction() as session:
            insert = insert_for(session.get_bind().dialect.name)
            stmt = (
                insert(FiredEvent)
                .values(
                    key=event.key,
                    kind=event.kind,
                    cohort_id=event.cohort_id,
                    due_at=event.due_at,
                    fired_at=now,
                    outcome=outcome,
                )
                .on_conflict_do_nothing(index_elements=["key"])
            )
            result = await session.exec(stmt)  # type: ignore[call-overload]
            if not result.rowcount:
                return "duplicate"
            if outcome == "fired":
                handler = EVENT_HANDLERS[event.kind]
                await handler(EventContext(session=session, now=now, settings=self.settings), event)
            else:
                log.warning("event %s missed its grace window (due %s), skipped", event.key, event.due_at)
        return outcome


def _in_time_order(event: PlannedEvent) -> tuple[datetime, str]:
    return event.due_at, event.key
