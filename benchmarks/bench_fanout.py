"""Fan-out benchmark: one reminder to 10,000 learners, planned, queued and delivered.

Prints figures, never pass/fail:
  1. plan + enqueue: the planner's events for one session, fired (outbox + reminder-log rows);
  2. engine-only delivery with a sender that does nothing (target: at least 3,000 msgs/s);
  3. delivery through slack_sdk to a loopback stand-in of the Slack Web API that adds latency,
     beside a bare loop sending the same messages with one shared aiohttp session, same run.

Run from the repository root: `python benchmarks/bench_fanout.py [--learners 10000] [--latency-ms 20]`
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import insert, update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.postgres_server import postgres_database
from bot.app.bootstrap import App, build
from bot.core.clock import SimulatedClock
from bot.core.delivery import SendResult, Target
from bot.core.inbound import Inbound, Profile
from bot.core.messages import Message
from bot.core.models import Enrolment, Identity, OutboxMessage, Person
from bot.core.settings import Settings

START = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)
ZONES = ("Europe/Paris", "America/New_York", "Asia/Kolkata")
TOKEN = "xoxb-benchmark"


class NullSender:
    """Accepts everything at once: what the engine costs by itself."""

    async def send(self, target: Target, message: Message) -> SendResult:
        return SendResult(message_id="1")

    async def update(
        self, target: Target, message_id: str, channel_id: str | None, message: Message
    ) -> SendResult:
        return SendResult(message_id=message_id)


class SlackSender:
    """A minimal Slack sender over slack_sdk with one shared aiohttp session (the benchmark's own)."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def send(self, target: Target, message: Message) -> SendResult:
        response = await self.client.chat_postMessage(
            channel=target.dm_channel or target.address, text=message.summary
        )
        return SendResult(message_id=response["ts"], channel_id=response["channel"])

    async def update(
        self, target: Target, message_id: str, channel_id: str | None, message: Message
    ) -> SendResult:
        raise NotImplementedError


async def slack_stand_in(latency: float) -> tuple[web.AppRunner, str]:
    """A loopback Slack Web API answering chat.postMessage after `latency` seconds."""
    counter = 0

    async def post_message(request: web.Request) -> web.Response:
        nonlocal counter
        form = await request.post() if request.content_type != "application/json" else await request.json()
        await asyncio.sleep(latency)
        counter += 1
        channel = str(form.get("channel", ""))
        return web.json_response({"ok": True, "channel": "D" + channel, "ts": f"{counter}.000100"})

    app = web.Application()
    app.router.add_post("/api/chat.postMessage", post_message)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/api/"


async def populate(app: App, learners: int) -> None:
    """10,000 people with Slack identities, enrolled in one cohort with one session."""
    await app.engine.handle(
        Inbound(Profile("console", "", "tina", "tina"), text="create big tz=Europe/Paris")
    )
    await app.engine.handle(
        Inbound(Profile("console", "", "tina", "tina"), text='session big "All hands" 2027-03-02 14:00 60m')
    )
    async with app.store.transaction() as session:
        conn = await session.connection()
        people = [
            {"id": 1000 + i, "display_name": f"learner{i}", "tz": ZONES[i % 3], "created_at": START}
            for i in range(learners)
        ]
        await conn.execute(insert(Person), people)
        await conn.execute(
            insert(Identity),
            [
                {
                    "person_id": p["id"],
                    "platform": "slack",
                    "workspace": "T1",
                    "user_id": f"U{p['id']}",
                    "conversation_ref": {},
                }
                for p in people
            ],
        )
        await conn.execute(
            insert(Enrolment),
            [
                {
                    "cohort_id": 1,
                    "person_id": p["id"],
                    "role": "learner",
                    "status": "active",
                    "enrolled_at": START,
                }
                for p in people
            ],
        )


async def plan_and_enqueue(app: App, clock: SimulatedClock) -> tuple[float, int]:
    started = time.perf_counter()
    events = [e for e in await app.runner.pending() if ":15m:" in e.key]
    clock.set(events[0].due_at)
    for event in events:
        await app.runner.fire(event)
    elapsed = time.perf_counter() - started
    async with app.store.transaction() as session:
        queued = len((await session.exec(select_keys())).all())
    return elapsed, queued


def select_keys() -> Any:
    from sqlmodel import select

    return select(OutboxMessage.id).where(OutboxMessage.status == "pending")


async def reset(app: App, clock: SimulatedClock, count: int) -> None:
    async with app.store.transaction() as session:
        await session.exec(
            update(OutboxMessage)  # type: ignore[call-overload]
            .where(OutboxMessage.id <= count)  # type: ignore[operator]
            .values(status="pending", attempts=0, next_attempt_at=clock.now(), sent_at=None)
        )
        await session.exec(update(OutboxMessage).where(OutboxMessage.id > count).values(status="sent"))  # type: ignore[call-overload, operator]


async def timed_drain(app: App) -> tuple[float, int]:
    started = time.perf_counter()
    sent = await app.worker.drain(max_rounds=100_000)
    return time.perf_counter() - started, sent


async def bare_loop(client: AsyncWebClient, messages: list[tuple[str, str]], concurrency: int) -> float:
    semaphore = asyncio.Semaphore(concurrency)

    async def one(channel: str, text: str) -> None:
        async with semaphore:
            await client.chat_postMessage(channel=channel, text=text)

    started = time.perf_counter()
    await asyncio.gather(*(one(c, t) for c, t in messages))
    return time.perf_counter() - started


async def engine_figures(
    database_url: str, name: str, learners: int, concurrency: int
) -> tuple[App, SimulatedClock]:
    """Figures 1 and 2 on one database; returns the app (its outbox drained) for figure 3."""
    clock = SimulatedClock(START)
    app = await build(Settings(database_url=database_url), {"slack": NullSender()}, clock, schema="create")
    app.worker.concurrency = concurrency
    await populate(app, learners)
    print(
        f"fan-out benchmark: {learners:,} learners in {len(ZONES)} zones, {name}, concurrency {concurrency}"
    )

    elapsed, queued = await plan_and_enqueue(app, clock)
    print(f"  plan + enqueue one reminder:     {elapsed * 1000:8.0f} ms  ({queued:,} outbox rows + log rows)")

    elapsed, sent = await timed_drain(app)
    print(f"  engine only (do-nothing sender): {sent / elapsed:8,.0f} msgs/s  ({sent:,} in {elapsed:.2f} s)")
    return app, clock


async def main(
    learners: int, latency_ms: float, latency_messages: int, concurrency: int, postgres: bool = False
) -> None:
    if postgres:
        async with postgres_database() as url:
            if url is None:
                print("(no PostgreSQL binaries here: the PostgreSQL figures are left out)")
            else:
                on_pg, _clock = await engine_figures(url, "PostgreSQL", learners, concurrency)
                await on_pg.close()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        app, clock = await engine_figures(url, "SQLite (WAL)", learners, concurrency)

        stand_in, base_url = await slack_stand_in(latency_ms / 1000)
        async with aiohttp.ClientSession() as http:
            client = AsyncWebClient(token=TOKEN, base_url=base_url, session=http)
            app.worker.senders = {"slack": SlackSender(client)}
            await reset(app, clock, latency_messages)
            engine_time, engine_sent = await timed_drain(app)
            messages = [
                (f"U{1000 + i}", "Reminder: *All hands* starts soon.") for i in range(latency_messages)
            ]
            bare_time = await bare_loop(client, messages, concurrency)
        await stand_in.cleanup()
        engine_rate, bare_rate = engine_sent / engine_time, len(messages) / bare_time
        print(f"  through slack_sdk, {latency_ms:.0f} ms latency, {latency_messages:,} messages:")
        print(f"    engine (outbox + delivery):    {engine_rate:8,.0f} msgs/s")
        print(f"    bare loop, shared session:     {bare_rate:8,.0f} msgs/s")
        print(f"    ratio engine / bare:           {engine_rate / bare_rate:8.2f}")
        await app.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--latency-messages", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--postgres", action="store_true", help="figures 1 and 2 on a local PostgreSQL too")
    args = parser.parse_args()
    asyncio.run(main(args.learners, args.latency_ms, args.latency_messages, args.concurrency, args.postgres))
