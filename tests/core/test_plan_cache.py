"""Plans are kept per cohort between resyncs and replanned when a write changes them: a moved
session, a cohort paused, a write by another process, a new day. Unchanged cohorts are not
replanned."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from bot.app.bootstrap import App
from bot.core import registry
from bot.core.clock import SimulatedClock
from bot.core.models import Cohort, LiveSession
from tests.conftest import START


async def two_cohorts(app: App) -> tuple[int, int]:
    ids = []
    async with app.store.transaction() as session:
        for slug in ("north", "south"):
            cohort = Cohort(slug=slug, created_at=START)
            session.add(cohort)
            await session.flush()
            assert cohort.id is not None
            session.add(
                LiveSession(
                    cohort_id=cohort.id,
                    title="Kick-off",
                    starts_at=START + timedelta(days=2),
                    duration_min=60,
                )
            )
            ids.append(cohort.id)
    return ids[0], ids[1]


async def opening_of(app: App, session_id: int) -> object:
    return next(e.due_at for e in await app.runner.pending() if e.key == f"attendance:open:{session_id}")


@pytest.fixture
def planned(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The cohorts the planners ran for, in order."""
    seen: list[int] = []

    async def counting(session, cohort, now):  # type: ignore[no-untyped-def]
        seen.append(cohort.id)
        return []

    monkeypatch.setattr(registry, "PLANNERS", [*registry.PLANNERS, counting])
    import bot.core.scheduling

    monkeypatch.setattr(bot.core.scheduling, "PLANNERS", registry.PLANNERS)
    return seen


async def test_a_moved_session_is_replanned_and_only_its_cohort(app: App, planned: list[int]) -> None:
    north, _south = await two_cohorts(app)
    before = await opening_of(app, 1)
    planned.clear()
    assert await opening_of(app, 1) == before and planned == []  # nothing changed: nothing replanned

    async with app.store.transaction() as session:
        moved = (await session.exec(select(LiveSession).where(LiveSession.cohort_id == north))).one()
        moved.starts_at += timedelta(hours=2)
        session.add(moved)
    assert await opening_of(app, 1) == before + timedelta(hours=2)  # type: ignore[operator]
    assert planned == [north]


async def test_a_paused_cohort_and_a_bulk_update_are_seen(app: App) -> None:
    _north, south = await two_cohorts(app)
    await app.runner.pending()
    async with app.store.transaction() as session:
        await session.exec(update(Cohort).where(Cohort.id == south).values(status="paused"))  # type: ignore[call-overload]
    keys = {e.key for e in await app.runner.pending()}
    assert "attendance:open:1" in keys and "attendance:open:2" not in keys

    before = await opening_of(app, 1)
    async with app.store.transaction() as session:  # a Core statement: which cohorts is not said
        later = START + timedelta(days=3)
        await session.exec(update(LiveSession).values(starts_at=later))  # type: ignore[call-overload]
    assert await opening_of(app, 1) == before + timedelta(days=1)  # type: ignore[operator]


async def test_another_process_writing_is_seen(app: App) -> None:
    await two_cohorts(app)
    before = await opening_of(app, 2)
    path = app.store.engine.url.database
    assert path is not None
    with sqlite3.connect(path) as other:  # a CLI command, say
        other.execute("UPDATE live_session SET starts_at = datetime(starts_at, '+1 day') WHERE id = 2")
    assert await opening_of(app, 2) == before + timedelta(days=1)  # type: ignore[operator]


async def test_a_new_day_replans(app: App, clock: SimulatedClock) -> None:
    await two_cohorts(app)
    first = {e.key for e in await app.runner.pending() if e.key.startswith("evidence:checkpoint:")}
    clock.advance(timedelta(days=1))
    later = {e.key for e in await app.runner.pending() if e.key.startswith("evidence:checkpoint:")}
    assert first != later and "evidence:checkpoint:2027-03-03" in later


async def test_fired_events_leave_the_pending_list_whoever_fired_them(app: App) -> None:
    await two_cohorts(app)
    pending = {e.key: e for e in await app.runner.pending()}
    first, second = pending["attendance:open:1"], pending["attendance:open:2"]
    await app.runner.fire(first)
    keys = {e.key for e in await app.runner.pending()}
    assert first.key not in keys and second.key in keys
    path = app.store.engine.url.database
    assert path is not None
    with sqlite3.connect(path) as other:  # another process skipped it
        other.execute(
            "INSERT INTO fired_event (key, kind, due_at, fired_at, outcome) VALUES (?, ?, ?, ?, 'skipped')",
            (second.key, second.kind, str(second.due_at), str(START)),
        )
    assert second.key not in {e.key for e in await app.runner.pending()}
