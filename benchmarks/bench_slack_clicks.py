"""Signed button clicks per second over loopback HTTP, with p50 / p99 time to ack.

Runs, in one process run and on the same machine: (a) a bare Bolt AsyncApp that only acks, and
(b) cohortbot's Slack app, where each click goes through the engine and is committed to SQLite
before the ack. Both use `process_before_response=True` behind aiohttp, and a Web API stand-in.
(c) is (b) for French users (Slack locale fr-FR) whose reply goes through the catalogue (a
translated sentence with a date formatted by Babel), against (b)'s reply built with an f-string
and strftime: the cost of rendering through the catalogue. Prints figures and ratios; never pass/fail.

    python benchmarks/bench_slack_clicks.py [--clicks 2000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.bootstrap import build
from bot.core import texts
from bot.core.context import Ctx
from bot.core.inbound import Action, Inbound, Profile
from bot.core.messages import Reply, say
from bot.core.registry import action
from bot.core.settings import Settings
from tests.standins.slack_api import SlackApiStandIn
from tests.standins.slack_harness import SECRET, SlackHarness
from tests.standins.slack_requests import Signed, SlackRequests

USERS = [f"UBENCH{i:03d}" for i in range(32)]


@action("bench.click")
async def bench_click(ctx: Ctx, value: str, inputs: dict[str, str]) -> Reply:
    """What a check-in costs: one activity row, committed with the dedupe row, and a card update."""
    await ctx.log("bench.clicked", person_id=ctx.actor.id, session=value, auth=ctx.inbound.auth)
    if value == "catalogue":  # a sentence and a date in the reader's language
        until = texts.local_time(ctx.now, "Europe/Paris")
        return say(texts.t("reminders.snoozed", cohort="bench", until=until), "replace")
    return say(f"Optional reminders for *bench* are snoozed until {ctx.now:%a %d %b %H:%M}.", "replace")


def clicks(http: SlackRequests, n: int, value: str = "plain") -> list[Signed]:
    button = {"type": "button", "action_id": "b1:bench.click", "value": value}
    return [
        http.interaction(
            http.block_actions_payload(
                USERS[i % len(USERS)], button, action_ts=f"{1_700_000_000 + i}.{i:06d}"
            )
        )
        for i in range(n)
    ]


async def fire(http: SlackRequests, requests: list[Signed], concurrency: int) -> tuple[float, list[float]]:
    """Send all requests with `concurrency` in flight; returns (seconds, ack latencies in ms)."""
    queue = list(reversed(requests))
    latencies: list[float] = []

    async def worker() -> None:
        while queue:
            request = queue.pop()
            started = time.perf_counter()
            status, _ = await http.send(request)
            latencies.append((time.perf_counter() - started) * 1000)
            assert status == 200, status

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies


async def serve(dispatch: AsyncApp) -> tuple[web.AppRunner, str]:
    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await dispatch.async_dispatch(await to_bolt_request(request)))

    webapp = web.Application()
    webapp.router.add_post("/slack/events", events)
    runner = web.AppRunner(webapp, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/slack/events"


async def bench_bare(n: int, concurrency: int) -> tuple[float, list[float]]:
    api = await SlackApiStandIn(record=False).start()
    session = aiohttp.ClientSession()
    bolt = AsyncApp(
        client=AsyncWebClient(token="xoxb-bench", base_url=api.api_url, session=session),
        signing_secret=SECRET,
        process_before_response=True,
    )

    @bolt.action("b1:bench.click")
    async def only_ack(ack):  # type: ignore[no-untyped-def]
        await ack()

    runner, url = await serve(bolt)
    http = SlackRequests(
        url,
        SECRET,
        api.base_url,
        session=aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)),
    )
    await fire(http, clicks(http, len(USERS)), concurrency)  # warm up (auth.test, connections)
    result = await fire(http, clicks(http, n), concurrency)
    await http.close()
    await runner.cleanup()
    await session.close()
    await api.stop()
    return result


async def bench_cohortbot(
    n: int, concurrency: int, *, reply: str = "plain", locale: str = "en-US"
) -> tuple[float, list[float], int]:
    with tempfile.TemporaryDirectory() as tmp:
        slack = await SlackHarness.start(f"sqlite:///{Path(tmp) / 'bench.db'}")
        slack.api.record = False
        for user in USERS:
            slack.api.add_user(user, user.lower(), locale=locale)
        slack.http.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency))
        await fire(slack.http, warmup(slack.http), concurrency)
        seconds, latencies = await fire(slack.http, clicks(slack.http, n, reply), concurrency)
        await slack.bot.settle()
        async with slack.app.store.transaction() as session:
            from sqlmodel import func, select

            from bot.core.models import Activity

            stored = (
                await session.exec(
                    select(func.count()).select_from(Activity).where(Activity.kind == "bench.clicked")
                )
            ).one()
        await slack.stop()
    return seconds, latencies, int(stored)


async def bench_engine_alone(n: int, concurrency: int) -> float:
    """The same clicks straight into the engine (no HTTP, no Slack): the bound the adapter works under."""
    with tempfile.TemporaryDirectory() as tmp:
        app = await build(Settings(database_url=f"sqlite:///{Path(tmp) / 'engine.db'}"), {}, schema="create")
        inbounds = [
            Inbound(
                sender=Profile("slack", "T0001", USERS[i % len(USERS)]),
                action=Action("bench.click", "s1"),
                dedupe_key=f"bench:{i}",
            )
            for i in range(n)
        ]
        queue = list(reversed(inbounds))

        async def worker() -> None:
            while queue:
                await app.engine.handle(queue.pop())

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
        await app.close()
    return n / seconds


def warmup(http: SlackRequests) -> list[Signed]:
    """One click per user with action_ts outside the measured range (fills the users.info cache)."""
    button = {"type": "button", "action_id": "b1:bench.click", "value": "warm"}
    return [
        http.interaction(http.block_actions_payload(u, button, action_ts=f"1600000000.{i:06d}"))
        for i, u in enumerate(USERS)
    ]


def report(name: str, n: int, seconds: float, latencies: list[float]) -> float:
    rate = n / seconds
    cuts = statistics.quantiles(latencies, n=100)
    print(f"{name:<34} {rate:8.0f} clicks/s   p50 {cuts[49]:6.1f} ms   p99 {cuts[98]:6.1f} ms")
    return rate


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    print(f"{args.clicks} signed block_actions over loopback HTTP, {args.concurrency} concurrent\n")
    bare_s, bare_lat = await bench_bare(args.clicks, args.concurrency)
    ours_s, ours_lat, stored = await bench_cohortbot(args.clicks, args.concurrency)
    fr_s, fr_lat, _ = await bench_cohortbot(args.clicks, args.concurrency, reply="catalogue", locale="fr-FR")
    bare = report("bare Bolt app (ack only)", args.clicks, bare_s, bare_lat)
    ours = report("cohortbot (engine + commit, then ack)", args.clicks, ours_s, ours_lat)
    french = report("  same, French reply via catalogue", args.clicks, fr_s, fr_lat)
    alone = await bench_engine_alone(args.clicks, args.concurrency)
    print(f"{'engine alone (no HTTP), same clicks':<34} {alone:8.0f} clicks/s")
    print(f"\nratio cohortbot / bare: {ours / bare:.2f}x (target >= 0.5x, p99 <= 100 ms)")
    print(f"ratio French via catalogue / plain reply: {french / ours:.3f}x (target >= 0.95x)")
    print(f"clicks committed: {stored - len(USERS)} of {args.clicks}")


if __name__ == "__main__":
    asyncio.run(main())
