"""Benchmark: the training report plus every manager digest for 10,000 learners x 20 modules x 12 sessions.

Builds the cohort in a temporary SQLite file by bulk insert (~180k completions, ~120k attendance
records, ~300k activity rows), then measures, in the same process:
  1. the computation: load (a few set-based queries) + KPIs + the report message + 1,000 digests;
  2. the production path: the staff digest and each zone's manager-digest event, outbox rows included;
  3. the chart (matplotlib) on its own.
Prints wall and CPU time, peak traced Python memory (tracemalloc, a separate run) and the peak
RSS of the measuring process (the database is built in a child process).
Target (DESIGN.md): the computation in at most 1 s and 300 MB.

Run: python benchmarks/bench_reports.py [--learners 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import func, select

# Import this checkout's `bot`, not an installed copy.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.capabilities.reports.config import DigestConfig
from bot.capabilities.reports.digests import MANAGER_DIGEST, STAFF_DIGEST, manager_digests, manager_zones
from bot.capabilities.reports.kpis import compute_report
from bot.capabilities.reports.load import load_rows, manager_links
from bot.capabilities.reports.render import report_message
from bot.capabilities.reports.service import write_report_chart
from bot.capabilities.reports.summary import rebuild
from bot.core.context import EventContext
from bot.core.models import (
    Activity,
    Cohort,
    Completion,
    Enrolment,
    Identity,
    LiveSession,
    ManagerLink,
    Module,
    OutboxMessage,
    Person,
)
from bot.core.outbox import compose
from bot.core.registry import EVENT_HANDLERS
from bot.core.settings import Settings
from bot.core.store import Store
from schedules.events import PlannedEvent

START = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
NOW = START + timedelta(weeks=10, days=2)  # 10 of 12 sessions held, 18 of 20 modules due
SITES = ("Paris", "Lyon", "Berlin", "Madrid", "Remote")
DEPARTMENTS = ("Sales", "Ops", "Finance", "HR", "IT", "Legal", "Support", "R&D")
SENIORITY = ("junior", "mid", "senior")
ZONES = ("Europe/Paris", "America/New_York", "Asia/Kolkata")
PER_MANAGER = 10
MODULES = 20
SESSIONS = 12


async def insert(conn: sa.ext.asyncio.AsyncConnection, model: type, rows: list[dict]) -> None:
    for i in range(0, len(rows), 20_000):
        await conn.execute(sa.insert(model), rows[i : i + 20_000])  # type: ignore[arg-type]


async def build(store: Store, learners: int, rng: random.Random) -> tuple[int, int]:
    """Bulk-insert the cohort; returns (cohort id, completions)."""
    managers = learners // PER_MANAGER
    async with store.engine.begin() as conn:
        # executemany takes its columns from the first row: give every row the same keys.
        person = {"site": None, "department": None, "seniority": None, "tz": None, "created_at": START}
        await insert(
            conn,
            Person,
            [{**person, "id": 1, "display_name": "admin"}]
            + [
                {**person, "id": 2 + i, "display_name": f"manager{i}", "tz": ZONES[i % len(ZONES)]}
                for i in range(managers)
            ]
            + [
                {
                    **person,
                    "id": 2 + managers + i,
                    "display_name": f"learner{i:05d}",
                    "site": rng.choice(SITES) if rng.random() < 0.9 else None,
                    "department": rng.choice(DEPARTMENTS),
                    "seniority": rng.choice(SENIORITY) if rng.random() < 0.7 else None,
                }
                for i in range(learners)
            ],
        )
        people = 1 + managers + learners
        await insert(
            conn,
            Identity,
            [
                {"person_id": p, "platform": "console", "workspace": "", "user_id": f"u{p}"}
                for p in range(1, people + 1)
            ],
        )
        await conn.execute(
            sa.insert(Cohort).values(
                id=1, slug="big", tz="Europe/Paris", start_date="2027-01-04", created_at=START
            )
        )
        learner_ids = list(range(2 + managers, 2 + managers + learners))
        await insert(
            conn,
            Enrolment,
            [{"cohort_id": 1, "person_id": 1, "role": "admin", "enrolled_at": START}]
            + [
                {"cohort_id": 1, "person_id": p, "role": "learner", "enrolled_at": START} for p in learner_ids
            ],
        )
        await insert(
            conn,
            ManagerLink,
            [
                {"cohort_id": 1, "manager_id": 2 + i // PER_MANAGER, "learner_id": p}
                for i, p in enumerate(learner_ids)
            ],
        )
        await insert(
            conn,
            Module,
            [
                {
                    "id": m + 1,
                    "cohort_id": 1,
                    "title": f"Module {m + 1}",
                    "due_at": START + timedelta(days=3 + 4 * m),
                }
                for m in range(MODULES)
            ],
        )
        await insert(
            conn,
            LiveSession,
            [
                {
                    "id": s + 1,
                    "cohort_id": 1,
                    "title": f"Session {s + 1}",
                    "starts_at": START + timedelta(weeks=s, hours=6),
                    "duration_min": 90,
                }
                for s in range(SESSIONS)
            ],
        )
        completions, activities = [], []
        for p in learner_ids:
            # Most learners keep up; a quarter fade out along the modules (the drop-off to see).
            fading = rng.random() < 0.25
            for m in range(MODULES):
                if rng.random() < (0.05 + 0.05 * m if fading else 0.004):
                    continue
                at = START + timedelta(days=2 + 4 * m, hours=rng.randint(0, 60))
                status = "failed" if rng.random() < 0.01 else rng.choice(("completed", "passed"))
                score = round(rng.uniform(40, 100), 1) if rng.random() < 0.6 else None
                completions.append(
                    {
                        "cohort_id": 1,
                        "module_id": m + 1,
                        "person_id": p,
                        "status": status,
                        "score": score,
                        "at": at,
                    }
                )
                data = {
                    "module_id": m + 1,
                    "status": status,
                    "score": score,
                    "on_time": True,
                    "source": "chat",
                }
                activities.append(
                    {
                        "at": at,
                        "cohort_id": 1,
                        "person_id": p,
                        "actor_id": p,
                        "kind": "module.completed",
                        "data": data,
                    }
                )
            for s in range(SESSIONS):
                at = START + timedelta(weeks=s, hours=6, minutes=rng.randint(0, 30))
                status = rng.choices(("present", "late", "absent", "excused"), (80, 8, 8, 4))[0]
                activities.append(
                    {
                        "at": at,
                        "cohort_id": 1,
                        "person_id": p,
                        "actor_id": p,
                        "kind": "attendance.recorded",
                        "data": {"session_id": s + 1, "status": status, "correction": False},
                    }
                )
                if status == "absent" and rng.random() < 0.1:  # corrected later by a trainer
                    activities.append(
                        {
                            "at": at + timedelta(hours=3),
                            "cohort_id": 1,
                            "person_id": p,
                            "actor_id": 1,
                            "kind": "attendance.recorded",
                            "data": {"session_id": s + 1, "status": "present", "correction": True},
                        }
                    )
        await insert(conn, Completion, completions)
        activities.sort(key=lambda a: a["at"])
        await insert(conn, Activity, activities)
    return 1, len(completions)


async def compute_everything(store: Store) -> tuple[int, int, int]:
    """The report and every manager digest, from one load: returns (at risk, digests, segments)."""
    async with store.transaction() as session:
        cohort = await session.get_one(Cohort, 1)
        rows = await load_rows(session, cohort, NOW)
        links = await manager_links(session, 1)
        zones = await manager_zones(session, cohort)
    report = compute_report(rows, DigestConfig.of(cohort))
    report_message(report, "http://localhost:3000/reports/bench")
    digests = manager_digests(report, links, zones, "2027-W11")
    # Digests are composed by the outbox in each reader's language: compose them here too.
    for digest in digests:
        compose(digest.message, "en")
    return len(report.at_risk), len(digests), len(report.segments)


async def run_events(store: Store, export_dir: str) -> int:
    """What the scheduler runs each week: the staff digest and one manager-digest event per zone."""
    settings = Settings(database_url="sqlite://", export_dir=export_dir)
    events = [
        PlannedEvent(f"{MANAGER_DIGEST}:1:bench:{z}", MANAGER_DIGEST, NOW, 1, {"zone": z, "week": "bench"})
        for z in ZONES
    ]
    events.append(
        PlannedEvent(
            f"{STAFF_DIGEST}:1:bench", STAFF_DIGEST, NOW, 1, {"zone": "Europe/Paris", "week": "bench"}
        )
    )
    for event in events:
        async with store.transaction() as session:
            await EVENT_HANDLERS[event.kind](EventContext(session=session, now=NOW, settings=settings), event)
    async with store.transaction() as session:
        return int((await session.exec(select(func.count()).select_from(OutboxMessage))).one())


async def build_database(path: Path, learners: int) -> None:
    """Create and fill the database (run in a child process, so its memory does not count)."""
    store = await Store.open(f"sqlite:///{path}", schema="create")
    started = time.perf_counter()
    _, completions = await build(store, learners, random.Random(9))
    async with store.transaction() as session:
        n_activities = (await session.exec(select(func.count()).select_from(Activity))).one()
    print(
        f"built {learners:,} learners x {MODULES} modules x {SESSIONS} sessions: "
        f"{completions:,} completions, {n_activities:,} activity rows "
        f"in {time.perf_counter() - started:.1f}s"
    )
    started = time.perf_counter()
    async with store.transaction() as session:
        await rebuild(session, 1)  # the bulk insert bypassed ctx.log: build the summaries once
    print(f"summaries rebuilt from the activity log (one-off backfill): {time.perf_counter() - started:.1f}s")
    await store.close()


async def measure(path: Path, export_dir: str) -> None:
    store = await Store.open(f"sqlite:///{path}", schema="none")
    await compute_everything(store)  # warm-up: imports, SQLite page cache, statement caches
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    timings, cpu = [], []
    for _ in range(5):
        started, started_cpu = time.perf_counter(), time.process_time()
        at_risk, digests, segments = await compute_everything(store)
        timings.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    print(
        f"report ({segments} segments, {at_risk:,} at risk) + {digests:,} manager digests: "
        f"wall best {min(timings):.3f}s, median {sorted(timings)[2]:.3f}s; "
        f"CPU best {min(cpu):.3f}s, median {sorted(cpu)[2]:.3f}s "
        "(5 runs; CPU time is what other load on a shared machine does not inflate)"
    )
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    await compute_everything(store)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"peak memory of the computation: {peak / 2**20:.1f} MB traced by tracemalloc; process peak RSS "
        f"{rss_after / 1024:.0f} MB (imports and warm-up {rss_before / 1024:.0f} MB)"
    )

    started, started_cpu = time.perf_counter(), time.process_time()
    queued = await run_events(store, export_dir)
    print(
        f"production path (staff digest with page links + {len(ZONES)} zone events, outbox writes): "
        f"wall {time.perf_counter() - started:.3f}s, CPU {time.process_time() - started_cpu:.3f}s, "
        f"{queued:,} outbox rows"
    )
    async with store.transaction() as session:
        report = compute_report(
            await load_rows(session, await session.get_one(Cohort, 1), NOW), DigestConfig()
        )
    started = time.perf_counter()
    await write_report_chart(report, export_dir)
    print(f"chart PNG alone: {time.perf_counter() - started:.3f}s")
    await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--build-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_only:
        asyncio.run(build_database(args.build_only, args.learners))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        command = [sys.executable, __file__, "--learners", str(args.learners), "--build-only", str(path)]
        subprocess.run(command, check=True)
        asyncio.run(measure(path, tmp))


if __name__ == "__main__":
    main()
