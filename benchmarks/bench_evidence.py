"""Attendance evidence at scale: appending keyed records, verifying every chain, signing a checkpoint.

Prints figures side by side with bare baselines in the same run, never pass/fail:
- append: closing windows (one executemany per session) with keyed hashes; the keyed hashing
  alone vs the unkeyed SHA-256 of the same rows (what the chain cost before);
- verify: `verification.verify` over every record, vs reading the same rows and nothing else;
- checkpoint: `checkpoints.take` (every head, signed and written).
Usage:

    python -m benchmarks.bench_evidence [--sessions 12] [--learners 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import select

from bot.app.plugins import load_all
from bot.capabilities.attendance import checkpoints
from bot.capabilities.attendance.evidence import (
    GENESIS,
    LEGACY_FIELDS,
    Fact,
    append,
    canonical,
    chain_for,
    seal,
    session_state,
)
from bot.capabilities.attendance.keys import chain_secret
from bot.capabilities.attendance.models import AttendanceRecord
from bot.capabilities.attendance.verification import verify
from bot.core.models import Cohort, LiveSession, Person
from bot.core.settings import Settings
from bot.core.store import Store

START = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


def facts(people: list[int], session_id: int) -> list[Fact]:
    return [
        Fact(
            person_id=p,
            person_name=f"learner {p}",
            platform="slack",
            workspace="T1",
            platform_user_id=f"U{p:08d}",
            status="present" if p % 5 else "absent",
            auth="system:window-close",
            idempotency_key=f"close:{session_id}:{p}",
            reason=None if p % 5 else "no check-in before the window closed",
        )
        for p in people
    ]


async def run(sessions: int, learners: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite:///{Path(tmp) / 'bench.db'}", export_dir=str(Path(tmp) / "out")
        )
        load_all()
        store = await Store.open(settings.database_url, schema="create")
        secret = chain_secret(settings)
        async with store.transaction() as session:
            cohort = Cohort(slug="bench", created_at=START)
            session.add(cohort)
            await session.flush()
            lives = [
                LiveSession(
                    cohort_id=cohort.id or 0,
                    title=f"S{i}",
                    starts_at=START + timedelta(days=i),
                    duration_min=90,
                )
                for i in range(sessions)
            ]
            session.add_all(lives)
            connection = await session.connection()
            await connection.execute(
                insert(Person.__table__),  # type: ignore[attr-defined]
                [{"display_name": f"learner {i}", "created_at": START} for i in range(learners)],
            )
            people = list((await session.exec(select(Person.id))).all())
            await session.flush()

        started = time.perf_counter()
        for live in lives:
            async with store.transaction() as session:
                state = await session_state(session, live.id or 0)
                await append(
                    session, state, chain_for(secret, cohort, live), facts(people, live.id or 0), START
                )  # type: ignore[arg-type]
        keyed = time.perf_counter() - started
        total = sessions * learners

        # The hashing alone, keyed (what append does) vs unkeyed (version 1), on the same rows.
        async with store.transaction() as session:
            rows = list((await session.exec(select(AttendanceRecord))).all())
        started = time.perf_counter()
        for row in rows:
            seal(secret, row)  # salt, keyed personal digest, keyed record hash
        keyed_hash = time.perf_counter() - started
        started = time.perf_counter()
        prev = GENESIS
        for row in rows:
            prev = hashlib.sha256(canonical({n: getattr(row, n) for n in LEGACY_FIELDS})).hexdigest()
        plain_hash = time.perf_counter() - started
        assert prev

        started = time.perf_counter()
        async with store.transaction() as session:
            result = await verify(session, secret)
        verifying = time.perf_counter() - started
        assert result.ok and result.records == total, result.problems[:3]

        started = time.perf_counter()
        async with store.transaction() as session:
            list((await session.exec(select(AttendanceRecord))).all())
        reading = time.perf_counter() - started

        started = time.perf_counter()
        async with store.transaction() as session:
            taken = await checkpoints.take(session, settings, START, "bench")
        signing = time.perf_counter() - started
        assert taken is not None
        await store.close()

    print(f"evidence: {sessions} sessions x {learners} learners = {total} records (SQLite)")
    print(f"  append (keyed, close windows)  {keyed:7.2f} s   {total / keyed:9.0f} records/s")
    print(f"  keyed hashing alone (seal)     {keyed_hash:7.2f} s   {total / keyed_hash:9.0f} records/s")
    print(f"  baseline: unkeyed SHA-256      {plain_hash:7.2f} s   {total / plain_hash:9.0f} records/s")
    print(f"  keyed / unkeyed hashing        {keyed_hash / plain_hash:7.2f}x")
    print(f"  verify every chain             {verifying:7.2f} s   {total / verifying:9.0f} records/s")
    print(f"  baseline: read the rows only   {reading:7.2f} s   {total / reading:9.0f} records/s")
    print(f"  verify / read ratio            {verifying / reading:7.2f}x")
    print(f"  checkpoint ({sessions} heads, signed)  {signing * 1000:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=12)
    parser.add_argument("--learners", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(run(args.sessions, args.learners))


if __name__ == "__main__":
    main()
