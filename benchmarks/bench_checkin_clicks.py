"""Check-in clicks committed before the ack: rate and latency at 32 concurrent clicks, on SQLite.

Prints figures side by side with a bare baseline in the same run (one insert + commit per click,
through the same store), and the same click by learners of a French cohort, whose replies go
through the French catalogue and Babel's French times: the cost of a translated reply. Never
pass/fail. Usage:

    python -m benchmarks.bench_checkin_clicks [--learners 2000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from bot.app.bootstrap import build
from bot.app.serve import steady_heap
from bot.core.clock import SimulatedClock
from bot.core.delivery import SendResult, Target
from bot.core.inbound import Action, Inbound, Profile
from bot.core.messages import Message
from bot.core.settings import Settings

STARTS = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


class NullSender:
    async def send(self, target: Target, message: Message) -> SendResult:
        return SendResult(message_id=target.key)

    async def update(
        self, target: Target, message_id: str, channel_id: str | None, message: Message
    ) -> SendResult:
        return SendResult(message_id=message_id)


async def timed(
    n: int, concurrency: int, one: Callable[[int], Awaitable[object]]
) -> tuple[float, float, list[float]]:
    """Run one(i) for i < n with `concurrency` in flight; returns (wall s, CPU s, latencies in ms)."""
    queue = iter(range(n))
    latencies: list[float] = []

    async def worker() -> None:
        for i in queue:
            started = time.perf_counter()
            await one(i)
            latencies.append((time.perf_counter() - started) * 1000)

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, time.process_time() - cpu, latencies


def _merged(runs: list[tuple[float, float, list[float]]]) -> tuple[float, float, list[float]]:
    return sum(r[0] for r in runs), sum(r[1] for r in runs), [x for r in runs for x in r[2]]


def report(name: str, wall: float, cpu: float, latencies: list[float]) -> float:
    rate = len(latencies) / wall
    p = statistics.quantiles(latencies, n=100)
    per = cpu / len(latencies) * 1000
    print(f"{name:<30} {rate:6.0f}/s  p50 {p[49]:7.1f} ms  p99 {p[98]:7.1f} ms  CPU {per:5.2f} ms/click")
    return rate


async def main(learners: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        clock = SimulatedClock(STARTS - timedelta(hours=1))
        app = await build(
            Settings(database_url=f"sqlite:///{Path(tmp) / 'bench.db'}"), {"console": NullSender()}, clock
        )
        names = [f"l{i:05d}" for i in range(learners)]
        french = [f"f{i:05d}" for i in range(learners)]
        say = lambda who, t: app.engine.handle(Inbound(sender=Profile("console", "", who, who), text=t))  # noqa: E731
        for cohort, people, lang in (("bench", names, "en"), ("banc", french, "fr")):
            await say("tina", f"create {cohort} tz=Europe/Paris lang={lang}")
            for chunk in range(0, learners, 500):
                await say("tina", f"enroll {cohort} " + " ".join(people[chunk : chunk + 500]))
            await say("tina", f'session {cohort} "Kick-off" 2027-03-01 09:00 90m')
        clock.set(STARTS - timedelta(minutes=2))  # inside the check-in window
        steady_heap()  # as `cohortbot run` does once it is built
        print(f"{learners} learners, {concurrency} concurrent clicks, SQLite (WAL) on {tmp}")

        async with app.store.engine.begin() as conn:
            await conn.execute(
                text("CREATE TABLE bare_click (id INTEGER PRIMARY KEY, key TEXT UNIQUE, at TEXT)")
            )

        async def bare(i: int) -> None:
            async with app.store.transaction() as session:
                await session.exec(  # type: ignore[call-overload]
                    text("INSERT INTO bare_click (key, at) VALUES (:k, :at)"),
                    params={"k": f"b{i}", "at": "x"},
                )

        base = report("bare insert+commit per click", *await timed(learners, concurrency, bare))

        def clicker(people: list[str], session_id: str, said: str) -> Callable[[int], Awaitable[None]]:
            async def click(i: int) -> None:
                who = people[i]
                reply = await app.engine.handle(
                    Inbound(
                        sender=Profile("console", "", who, who),
                        action=Action("attendance.checkin", session_id),
                        dedupe_key=f"evt-{session_id}-{who}",
                        event_time=clock.now(),
                        auth="slack-signature",
                    )
                )
                assert reply is not None and said in reply.message.summary, reply

            return click

        # English and French alternate in halves, so drift on a shared machine hits both alike.
        half = learners // 2
        en_runs, fr_runs = [], []
        for part in (range(0, half), range(half, learners)):
            for runs, people, sid, said in (
                (en_runs, names, "1", "Checked in"),
                (fr_runs, french, "2", "Émargé"),
            ):
                one = clicker(people[part.start : part.stop], sid, said)
                runs.append(await timed(len(part), concurrency, one))
        rate = report("attendance check-in click", *_merged(en_runs))
        rate_fr = report("  same, French cohort", *_merged(fr_runs))
        print(f"ratio check-in / bare: {rate / base:.2f}; load average now {os.getloadavg()[0]:.1f}")
        cost = 1 - rate_fr / rate
        print(f"ratio French / English check-in: {rate_fr / rate:.3f} (French catalogue cost {cost:+.1%})")
        await app.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    asyncio.run(main(args.learners, args.concurrency))
