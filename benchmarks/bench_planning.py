"""Planning benchmark: the scheduler's resync over 100 cohorts x 1,000 learners.

Every `RESYNC_SECONDS` the APScheduler runner asks the engine for the pending events of every
active cohort. Prints, in one run, on one SQLite file:
  1. a full replan (every planner over every cohort: what each resync cost before plans were
     cached, and what the first resync after a start still costs);
  2. a resync when nothing changed (cached plans reused);
  3. a resync after one write that changes one cohort's plan (a session moved);
and the scheduler's CPU per hour at one resync a minute when nothing changes, before and after.
Figures only, never pass/fail.

    python -m benchmarks.bench_planning [--cohorts 100] [--learners 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlmodel import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.core.clock import SimulatedClock
from bot.core.models import Cohort, Enrolment, LiveSession, Module, Person
from bot.core.scheduling import EventRunner
from bot.core.settings import Settings
from bot.core.store import Store
from schedules.runner import RESYNC_SECONDS

START = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)
SESSIONS, MODULES = 12, 10


async def fill(store: Store, cohorts: int, learners: int) -> None:
    """Cohorts with a programme of live sessions and modules, each with its own learners."""
    async with store.engine.begin() as conn:
        await conn.execute(
            insert(Cohort.__table__),  # type: ignore[attr-defined]
            [
                {
                    "slug": f"c{c}",
                    "tz": "Europe/Paris",
                    "status": "active",
                    "programme": {},
                    "created_at": START,
                    "channel_workspace": "",
                    "lang": "en",
                    "start_date": START.date().isoformat(),
                }
                for c in range(1, cohorts + 1)
            ],
        )
        people = [
            {
                "display_name": f"learner{i}",
                "email": f"l{i}@corp.example",
                "created_at": START,
                "lang_chosen": False,
            }
            for i in range(cohorts * learners)
        ]
        await conn.execute(insert(Person.__table__), people)  # type: ignore[attr-defined]
        await conn.execute(
            insert(Enrolment.__table__),  # type: ignore[attr-defined]
            [
                {
                    "cohort_id": 1 + i // learners,
                    "person_id": 1 + i,
                    "role": "learner",
                    "status": "active",
                    "enrolled_at": START,
                }
                for i in range(cohorts * learners)
            ],
        )
        for c in range(1, cohorts + 1):
            await conn.execute(
                insert(LiveSession.__table__),  # type: ignore[attr-defined]
                [
                    {
                        "cohort_id": c,
                        "title": f"Session {s}",
                        "starts_at": START + timedelta(days=2 + 3 * s, hours=6),
                        "duration_min": 90,
                    }
                    for s in range(SESSIONS)
                ],
            )
            await conn.execute(
                insert(Module.__table__),  # type: ignore[attr-defined]
                [
                    {
                        "cohort_id": c,
                        "title": f"Module {m}",
                        "release_at": START + timedelta(days=4 * m),
                        "due_at": START + timedelta(days=4 * m + 7),
                    }
                    for m in range(MODULES)
                ],
            )


async def timed(step: Callable[[], Awaitable[Any]], repeat: int) -> tuple[float, float, Any]:
    """Median wall seconds and CPU seconds of `step` over `repeat` runs, and its last result."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = await step()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohorts", type=int, default=100)
    parser.add_argument("--learners", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(f"sqlite:///{Path(tmp) / 'plan.db'}", schema="create")
        started = time.perf_counter()
        await fill(store, args.cohorts, args.learners)
        print(
            f"{args.cohorts} cohorts x {args.learners} learners, "
            f"{SESSIONS} sessions and {MODULES} modules each "
            f"(built in {time.perf_counter() - started:.1f} s)\n"
        )
        runner = EventRunner(store, SimulatedClock(START), Settings(database_url="sqlite://"))

        async def full() -> Any:
            assert runner.plans is not None
            runner.plans.forget_all()
            return await runner.pending()

        full_wall, full_cpu, events = await timed(full, args.repeat)
        await runner.pending()  # every plan cached
        same_wall, same_cpu, _ = await timed(runner.pending, args.repeat * 4)

        async def one_cohort_changed() -> Any:
            async with store.transaction() as session:  # a trainer moves one session, as the bot does
                moved = (await session.exec(select(LiveSession).where(LiveSession.cohort_id == 7))).first()
                assert moved is not None
                moved.starts_at += timedelta(minutes=30)
                session.add(moved)
            return await runner.pending()

        one_wall, one_cpu, _ = await timed(one_cohort_changed, args.repeat)
        await store.close()
    per_hour = 3600 / RESYNC_SECONDS
    rows = (
        ("full replan (before: every resync)", full_wall, full_cpu),
        ("resync, nothing changed (after)", same_wall, same_cpu),
        ("resync, one cohort's session moved", one_wall, one_cpu),
    )
    print(f"{len(events)} pending events\n")
    for name, wall, cpu in rows:
        print(f"{name:<38} {wall * 1000:9.1f} ms   {cpu * 1000:9.1f} ms CPU")
    print(
        f"\nscheduler CPU per hour with nothing changing (one resync every {RESYNC_SECONDS:.0f} s): "
        f"before {full_cpu * per_hour:.1f} s, after {same_cpu * per_hour:.2f} s"
    )
    print(f"resync with no changes / full replan: {same_wall / full_wall:.2%} (target < 5%)")


if __name__ == "__main__":
    asyncio.run(main())
