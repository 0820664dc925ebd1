"""How much the points ledger adds to logging a scoring activity, and how fast the log replays.

Prints figures, never pass/fail: check-ins per second logged one transaction each (as a click is),
with the challenges listener and without it, then the replay time of the whole log.
Run: python -m benchmarks.challenges_points [--n 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.challenges.ledger import recomputed_totals, running_totals
from bot.context import EventContext
from bot.models import Cohort, Enrolment, Person
from bot.registry import ACTIVITY_LISTENERS, load_capabilities
from bot.settings import Settings
from bot.store import Store

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
LEARNERS = 200


async def seed(store: Store, slug: str) -> tuple[int, list[int]]:
    async with store.transaction() as session:
        cohort = Cohort(slug=slug, created_at=NOW)
        session.add(cohort)
        await session.flush()
        people = [Person(display_name=f"p{i}", created_at=NOW) for i in range(LEARNERS)]
        session.add_all(people)
        await session.flush()
        for i, p in enumerate(people):
            session.add(
                Enrolment(cohort_id=cohort.id or 0, person_id=p.id or 0, team=f"t{i % 4}", enrolled_at=NOW)
            )
        return cohort.id or 0, [p.id or 0 for p in people]


async def check_ins(
    store: Store, settings: Settings, cohort_id: int, people: list[int], n: int, base: int
) -> float:
    started = time.perf_counter()
    for i in range(n):
        async with store.transaction() as session:
            ctx = EventContext(session=session, now=NOW, settings=settings)
            await ctx.log(
                "attendance.recorded",
                cohort_id=cohort_id,
                person_id=people[i % len(people)],
                session_id=base + i // len(people),
                status="present",
                correction=False,
            )
    return n / (time.perf_counter() - started)


async def main(n: int) -> None:
    load_capabilities()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{Path(tmp) / 'bench.db'}")
        store = await Store.open(settings.database_url, schema="create")
        cohort_id, people = await seed(store, "points")
        bare_id, bare_people = await seed(store, "bare")
        saved = list(ACTIVITY_LISTENERS)
        ACTIVITY_LISTENERS.clear()
        without = await check_ins(store, settings, bare_id, bare_people, n, 0)
        ACTIVITY_LISTENERS.extend(saved)
        with_listener = await check_ins(store, settings, cohort_id, people, n, 0)
        async with store.transaction() as session:
            cohort = await session.get_one(Cohort, cohort_id)
            started = time.perf_counter()
            replayed = await recomputed_totals(session, cohort)
            replay_s = time.perf_counter() - started
            running = await running_totals(session, cohort_id)
        await store.close()
    print(f"check-ins logged, one transaction each ({n}):")
    print(f"  without the points listener  {without:8.0f}/s")
    print(f"  with the points listener     {with_listener:8.0f}/s  ({with_listener / without:.2f}x)")
    same = replayed.nonzero() == running.nonzero()
    print(f"replay of the {n} activities: {replay_s * 1000:.0f} ms; matches the running totals: {same}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    asyncio.run(main(parser.parse_args().n))
