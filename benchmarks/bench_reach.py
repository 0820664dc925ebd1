"""Reach benchmark: one session reminder, due at T, to N learners on Slack, through real
`cohortbot run` processes (one or two, on SQLite or PostgreSQL) and the Web API stand-in, which
enforces 1 post/s per channel and a workspace limit (`--limit` posts/s, 429 + Retry-After).

The processes are configured with a ceiling 10% above the stand-in's limit, so the adaptive
pacer has to find the limit from 429s, as it would on Slack. Prints, per run: time from the first
to the last delivery against the bound the limit allows (N / limit), lateness of every delivery
against the due time T (p50, p99, max; negative is early), 429 answers and duplicates.

Run from the repository root:
  python benchmarks/bench_reach.py --learners 10000 --db sqlite --instances 1
  python benchmarks/bench_reach.py --matrix            (the README's table)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app.bootstrap import build  # noqa: E402
from bot.core.clock import SystemClock  # noqa: E402
from bot.core.models import Cohort, LiveSession  # noqa: E402
from bot.core.settings import Settings  # noqa: E402
from tests.delivery.reach_helpers import enrol_slack_learners  # noqa: E402
from tests.postgres import throwaway_postgres  # noqa: E402
from tests.standins.slack_api import SlackApiStandIn  # noqa: E402

SIGNING_SECRET = "bench-signing-secret"
CEILING_ABOVE_LIMIT = 1.1  # the configured ceiling overshoots: the pacer must find the limit
STARTUP = 20.0  # seconds for the processes to start before the reminder must begin


@dataclass
class Result:
    learners: int
    db: str
    instances: int
    limit: float
    span: float  # first to last delivery, s
    bound: float  # N / limit, s
    lateness: list[float]  # per delivery, s after the due time (negative: early)
    limited: int
    posts: int
    duplicates: int
    delivered: int

    def row(self) -> str:
        late = sorted(self.lateness)
        p = lambda q: late[min(len(late) - 1, int(q * len(late)))]  # noqa: E731
        return (
            f"| {self.learners:,} | {self.db} | {self.instances} | {self.delivered:,} | "
            f"{self.span:.1f} s / {self.bound:.1f} s = {self.span / self.bound:.3f} | "
            f"{p(0.5):+.1f} / {p(0.99):+.1f} / {late[-1]:+.1f} s | "
            f"{self.limited} ({100 * self.limited / max(1, self.posts):.2f}%) | {self.duplicates} |"
        )


HEADER = (
    "| learners | database | instances | delivered | first→last vs bound N/limit | "
    "lateness vs due p50 / p99 / max | 429s | duplicates |\n|---|---|---|---|---|---|---|---|"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _prepare(db_url: str, learners: int, limit: float) -> float:
    """Cohort, learners and a session whose 15-minute reminder is due after the start-up and the
    lead the engine will take; returns the due time as time.monotonic()."""
    app = await build(Settings(database_url=db_url), {}, SystemClock())
    now = app.clock.now()
    lead = learners / (0.85 * limit * CEILING_ABOVE_LIMIT) + 1.0
    due = now + timedelta(seconds=STARTUP + lead)
    async with app.store.transaction() as session:
        programme = {
            "attendance": {"enabled": False},
            "reminders": [{"of": "session", "before": "15m", "quiet_hours": "ignore"}],
        }
        cohort = Cohort(slug="reach", tz="UTC", programme=programme, created_at=now - timedelta(days=2))
        session.add(cohort)
        await session.flush()
        session.add(
            LiveSession(
                cohort_id=cohort.id or 0,
                title="All hands",
                starts_at=due + timedelta(minutes=15),
                duration_min=60,
            )
        )
    await enrol_slack_learners(app, cohort.id or 0, learners, now)
    await app.close()
    return time.monotonic() + (due - SystemClock().now()).total_seconds()


async def _start(db_url: str, api: SlackApiStandIn, ceiling: float, cwd: Path) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "PORT": str(_free_port()),
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "EVIDENCE_SECRET": "e" * 64,  # a server database refuses to start without one
        "SLACK_API_URL": api.api_url,
        "SLACK_WORKSPACE_RATE": str(ceiling),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("SLACK_APP_TOKEN", None)
    return await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.app.cli", "run", cwd=cwd, env=env)


async def run_one(db_url: str, db: str, learners: int, instances: int, limit: float) -> Result:
    due = await _prepare(db_url, learners, limit)
    api = await SlackApiStandIn(record=False).start()
    api.limits.channel_interval = 1.0
    api.limits.workspace_per_second = int(limit)
    posts = Counter[str]()
    original = api.limits.check

    def counting_check(method: str, args: dict) -> object:  # type: ignore[type-arg]
        if method == "chat.postMessage":
            posts["all"] += 1
        return original(method, args)

    api.limits.check = counting_check  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as cwd:
        processes = [
            await _start(db_url, api, limit * CEILING_ABOVE_LIMIT, Path(cwd)) for _ in range(instances)
        ]
        try:
            await api.wait_for(
                lambda: len(api.limits.accepted) >= learners, within=STARTUP + 3 * learners / limit + 120
            )
            await asyncio.sleep(2)  # anything sent twice arrives now
        finally:
            for process in processes:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes:
                await process.wait()
            await api.stop()
    times = [at for at, _, _ in api.limits.accepted]
    keys = api.limits.keys_delivered()
    return Result(
        learners=learners,
        db=db,
        instances=instances,
        limit=limit,
        span=times[-1] - times[0],
        bound=learners / limit,
        lateness=[t - due for t in times],
        limited=api.limits.limited,
        posts=posts["all"],
        duplicates=sum(n - 1 for n in Counter(keys).values()),
        delivered=len(set(keys)),
    )


class Databases:
    """A fresh SQLite file or PostgreSQL database per run (one throwaway server for all)."""

    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-reach-"))
        self._server: Iterator[str] | None = None
        self._url: str | None = None
        self._n = 0

    async def url(self, db: str) -> str:
        self._n += 1
        if db == "sqlite":
            return f"sqlite:///{self.tmp / f'reach{self._n}.db'}"
        if self._url is None:
            self._server = throwaway_postgres()
            self._url = next(self._server)
        import asyncpg

        conn = await asyncpg.connect(f"{self._url}/postgres")
        try:
            await conn.execute(f'CREATE DATABASE "reach{self._n}"')
        finally:
            await conn.close()
        return f"{self._url}/reach{self._n}"

    def close(self) -> None:
        if self._server is not None:
            next(self._server, None)


MATRIX = [
    (10_000, "sqlite", 1),
    (10_000, "postgres", 1),
    (10_000, "postgres", 2),
    (100_000, "sqlite", 1),
    (100_000, "postgres", 1),
    (100_000, "postgres", 2),
]


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--instances", type=int, default=1)
    parser.add_argument("--limit", type=float, default=300.0, help="the stand-in's workspace limit, posts/s")
    parser.add_argument("--matrix", action="store_true", help="every row of the README's table")
    parser.add_argument("--max-learners", type=int, default=10**9, help="with --matrix: skip larger runs")
    args = parser.parse_args()
    runs = (
        [r for r in MATRIX if r[0] <= args.max_learners]
        if args.matrix
        else [(args.learners, args.db, args.instances)]
    )
    dbs = Databases()
    print(f"stand-in: 1 post/s per channel, {args.limit:g} posts/s per workspace (429 + Retry-After: 1)")
    print(HEADER, flush=True)
    try:
        for learners, db, instances in runs:
            result = await run_one(await dbs.url(db), db, learners, instances, args.limit)
            print(result.row(), flush=True)
    finally:
        dbs.close()


if __name__ == "__main__":
    asyncio.run(main())
