"""Signed button clicks per second over loopback HTTP, with p50 / p99 time to ack.

Runs, in one run and on the same machine: (a) a bare Bolt AsyncApp that only acks, and
(b) cohortbot's Slack app, where each click goes through the engine and is committed to SQLite
before the ack. Both use `process_before_response=True` behind aiohttp. Each server under test runs
in a process of its own; the Web API stand-in (which receives the `response_url` card updates) is
another process, and the load generator is this one, so only the server's own work is charged to it.
(c) is (b) for French users (Slack locale fr-FR) whose reply goes through the catalogue (a translated
sentence with a date formatted by Babel), against (b)'s English reply built with an f-string and
strftime: the cost of rendering through the catalogue. Prints figures and ratios; never pass/fail.

    python -m benchmarks.bench_slack_clicks [--clicks 2000] [--concurrency 32] [--postgres] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import func, select

from adapters.slack.runtime import SLACK_BOT, attach
from benchmarks.postgres_server import postgres_database
from bot.app.bootstrap import build
from bot.app.serve import run_starters, steady_heap, web_application
from bot.core import i18n, texts
from bot.core.context import Ctx
from bot.core.inbound import Action, Inbound, Profile
from bot.core.messages import Reply, say
from bot.core.models import Activity
from bot.core.registry import action
from bot.core.settings import Settings
from tests.standins.slack_api import SlackApiStandIn
from tests.standins.slack_harness import SECRET
from tests.standins.slack_requests import Signed, SlackRequests

USERS = [f"UBENCH{i:03d}" for i in range(32)]
FRENCH_USERS = [f"UBENCHFR{i:03d}" for i in range(32)]  # their Slack locale is fr-FR


@action("bench.click")
async def bench_click(ctx: Ctx, value: str, inputs: dict[str, str]) -> Reply:
    """What a check-in costs: one activity row, committed with the dedupe row, and a card update."""
    await ctx.log("bench.clicked", person_id=ctx.actor.id, session=value, auth=ctx.inbound.auth)
    return reply_for(value, ctx.now)


def reply_for(value: str, now: datetime) -> Reply:
    if value == "catalogue":  # a sentence and a date in the reader's language
        until = texts.local_time(now, "Europe/Paris")
        return say(texts.t("reminders.snoozed", cohort="bench", until=until), "replace")
    return say(f"Optional reminders for *bench* are snoozed until {now:%a %d %b %H:%M}.", "replace")


def rendering_cost(n: int = 20_000) -> tuple[float, float]:
    """CPU microseconds to build one reply: an f-string, and through the French catalogue (times
    one second apart, as clicks come)."""
    start = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    times = [start + timedelta(seconds=i) for i in range(n)]
    cpu = time.process_time()
    for when in times:
        reply_for("plain", when)
    plain = time.process_time() - cpu
    with i18n.use("fr"):
        cpu = time.process_time()
        for when in times:
            reply_for("catalogue", when)
        french = time.process_time() - cpu
    return plain / n * 1e6, french / n * 1e6


def clicks(http: SlackRequests, n: int, value: str = "s1", users: list[str] = USERS) -> list[Signed]:
    button = {"type": "button", "action_id": "b1:bench.click", "value": value}
    return [
        http.interaction(
            http.block_actions_payload(
                users[i % len(users)], button, action_ts=f"{1_700_000_000 + i}.{i:06d}"
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


async def serve_app(webapp: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(webapp, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


async def until_stdin_closes() -> None:
    """Child processes serve until the load generator closes their standard input."""
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


async def role_standin() -> None:
    api = await SlackApiStandIn(record=False).start()
    for user in USERS:
        api.add_user(user, user.lower())
    for user in FRENCH_USERS:
        api.add_user(user, user.lower(), locale="fr-FR")
    print(api.base_url, flush=True)
    await until_stdin_closes()
    await api.stop()


async def role_bare(api_base: str) -> None:
    session = aiohttp.ClientSession()
    bolt = AsyncApp(
        client=AsyncWebClient(token="xoxb-bench", base_url=f"{api_base}/api/", session=session),
        signing_secret=SECRET,
        process_before_response=True,
    )

    @bolt.action("b1:bench.click")
    async def only_ack(ack):  # type: ignore[no-untyped-def]
        await ack()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    webapp = web.Application()
    webapp.router.add_post("/slack/events", events)
    runner, url = await serve_app(webapp)
    print(url, flush=True)
    await until_stdin_closes()
    await runner.cleanup()
    await session.close()
    print(0, flush=True)


async def role_cohortbot(api_base: str, db_url: str) -> None:
    settings = Settings(
        database_url=db_url,
        slack_bot_token="xoxb-bench",
        slack_signing_secret=SECRET,
        slack_api_url=f"{api_base}/api/",
        slack_channel_interval=0.0,
        slack_workspace_rate=0.0,
    )
    app = await build(settings, {}, schema="create")
    webapp = web_application(app)
    cleanup = await attach(app, webapp)
    await run_starters(app)
    steady_heap()  # as `cohortbot run` does once it is built
    runner, url = await serve_app(webapp)
    print(url, flush=True)
    await until_stdin_closes()
    await webapp[SLACK_BOT].settle()
    async with app.store.transaction() as session:
        stored = (
            await session.exec(
                select(func.count()).select_from(Activity).where(Activity.kind == "bench.clicked")
            )
        ).one()
    await cleanup()
    await runner.cleanup()
    await app.close()
    print(int(stored), flush=True)


class Child:
    """A server in a process of its own, started with `--role`; it prints its URL when ready."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.bench_slack_clicks", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        if not self.url:
            raise SystemExit(f"benchmark child {args} did not start")

    def stop(self) -> int:
        """Close its input; returns the number it prints on the way out (clicks stored)."""
        out, _ = self.process.communicate(timeout=120)
        return int(out.strip() or 0)


async def bench_server(
    role: str,
    api_base: str,
    n: int,
    concurrency: int,
    *extra: str,
    value: str = "s1",
    users: list[str] = USERS,
) -> tuple[float, list[float], int]:
    child = Child("--role", role, "--api", api_base, *extra)
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency))
    http = SlackRequests(f"{child.url}/slack/events", SECRET, api_base, session=session)
    try:
        await fire(http, warmup(http, users, value), concurrency)  # connections, auth.test, users.info
        seconds, latencies = await fire(http, clicks(http, n, value, users), concurrency)
    finally:
        await http.close()
    return seconds, latencies, child.stop()


async def bench_engine_alone(n: int, concurrency: int, value: str = "s1", locale: str = "en-US") -> float:
    """The same clicks straight into the engine (no HTTP, no Slack): the bound the adapter works under."""
    return (await engine_alone(n, concurrency, value, locale))[0]


async def engine_alone(n: int, concurrency: int, value: str, locale: str) -> tuple[float, float]:
    """(clicks per second, CPU microseconds per click) of clicks straight into the engine; CPU time
    is the steadier figure on a machine others are using."""
    with tempfile.TemporaryDirectory() as tmp:
        app = await build(Settings(database_url=f"sqlite:///{Path(tmp) / 'engine.db'}"), {}, schema="create")
        inbounds = [
            Inbound(
                sender=Profile("slack", "T0001", USERS[i % len(USERS)], locale=locale),
                action=Action("bench.click", value),
                dedupe_key=f"bench:{i}",
            )
            for i in range(n)
        ]
        for warm in inbounds[: len(USERS)]:  # the people, and the catalogue, as a running bot has them
            await app.engine.handle(replace(warm, dedupe_key=f"warm:{warm.dedupe_key}"))
        queue = list(reversed(inbounds))

        async def worker() -> None:
            while queue:
                await app.engine.handle(queue.pop())

        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        await app.close()
    return n / seconds, cpu / n * 1e6


def warmup(http: SlackRequests, users: list[str] = USERS, value: str = "s1") -> list[Signed]:
    """One click per user with action_ts outside the measured range (fills the users.info cache,
    and loads the catalogue the measured replies use)."""
    button = {"type": "button", "action_id": "b1:bench.click", "value": value}
    return [
        http.interaction(http.block_actions_payload(u, button, action_ts=f"1600000000.{i:06d}"))
        for i, u in enumerate(users)
    ]


def report(name: str, n: int, seconds: float, latencies: list[float]) -> float:
    rate = n / seconds
    cuts = statistics.quantiles(latencies, n=100)
    print(f"{name:<34} {rate:8.0f} clicks/s   p50 {cuts[49]:6.1f} ms   p99 {cuts[98]:6.1f} ms")
    return rate


def report_runs(name: str, n: int, runs: list[tuple[float, list[float]]]) -> float:
    """The run with the median rate (and the range of rates, with several runs)."""
    ranked = sorted(runs, key=lambda run: run[0])
    seconds, latencies = ranked[len(ranked) // 2]
    rate = report(name, n, seconds, latencies)
    if len(runs) > 1:
        print(f"{'':<34} median of {len(runs)} runs: {n / ranked[-1][0]:.0f}-{n / ranked[0][0]:.0f} clicks/s")
    return rate


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="alternating engine-alone rounds per reply")
    parser.add_argument("--postgres", action="store_true", help="also against a local PostgreSQL")
    parser.add_argument("--runs", type=int, default=1, help="runs of every server, alternating; medians")
    parser.add_argument("--role", choices=["standin", "bare", "cohortbot"], help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "standin":
        return await role_standin()
    if args.role == "bare":
        return await role_bare(args.api)
    if args.role == "cohortbot":
        return await role_cohortbot(args.api, args.db)
    print(f"{args.clicks} signed block_actions over loopback HTTP, {args.concurrency} concurrent\n")
    runs: dict[str, list[tuple[float, list[float]]]] = {}
    stored = 0
    standin = Child("--role", "standin")
    try:
        # Servers alternate within each run, so drift on a shared machine hits them alike.
        for _ in range(args.runs):
            n, c = args.clicks, args.concurrency
            bare_s, bare_lat, _ = await bench_server("bare", standin.url, n, c)
            runs.setdefault("bare", []).append((bare_s, bare_lat))
            with tempfile.TemporaryDirectory() as tmp:
                db = f"sqlite:///{Path(tmp) / 'bench.db'}"
                ours_s, ours_lat, stored = await bench_server(
                    "cohortbot", standin.url, n, c, "--db", db, value="plain"
                )
                runs.setdefault("ours", []).append((ours_s, ours_lat))
            with tempfile.TemporaryDirectory() as tmp:
                db = f"sqlite:///{Path(tmp) / 'bench.db'}"
                fr = await bench_server(
                    "cohortbot", standin.url, n, c, "--db", db, value="catalogue", users=FRENCH_USERS
                )
                runs.setdefault("french", []).append(fr[:2])
            if args.postgres:
                async with postgres_database() as url:  # a fresh server each run
                    if url is None:
                        print("(no PostgreSQL binaries here: the PostgreSQL row is left out)")
                        continue
                    pg = await bench_server("cohortbot", standin.url, n, c, "--db", url, value="plain")
                    runs.setdefault("pg", []).append(pg[:2])
                    print(f"(PostgreSQL run: clicks committed {pg[2] - len(USERS)} of {n})")
    finally:
        standin.stop()
    bare = report_runs("bare Bolt app (ack only)", args.clicks, runs["bare"])
    ours = report_runs("cohortbot (engine + commit, then ack)", args.clicks, runs["ours"])
    french = report_runs("  same, French reply via catalogue", args.clicks, runs["french"])
    if "pg" in runs:
        on_pg = report_runs("  same, on PostgreSQL", args.clicks, runs["pg"])
        print(f"{'':<34} ratio to bare {on_pg / bare:.2f}x")
    alone = await bench_engine_alone(args.clicks, args.concurrency)
    print(f"{'engine alone (no HTTP), same clicks':<34} {alone:8.0f} clicks/s")
    # The catalogue's cost without HTTP noise: plain and French rounds alternate, medians compared.
    plain_runs, french_runs = [], []
    for _ in range(args.rounds):
        plain_runs.append(await engine_alone(args.clicks, args.concurrency, "plain", "en-US"))
        french_runs.append(await engine_alone(args.clicks, args.concurrency, "catalogue", "fr-FR"))
    plain_alone, plain_cpu = (statistics.median(r[k] for r in plain_runs) for k in (0, 1))
    french_alone, french_cpu = (statistics.median(r[k] for r in french_runs) for k in (0, 1))
    for name, rate, cpu in (
        ("engine alone, English plain reply", plain_alone, plain_cpu),
        ("engine alone, French via catalogue", french_alone, french_cpu),
    ):
        print(f"{name:<34} {rate:8.0f} clicks/s   {cpu:6.0f} us CPU/click (median of {args.rounds})")
    plain_us, french_us = rendering_cost()
    print(f"{'one reply, f-string':<34} {plain_us:8.1f} us CPU")
    print(f"{'one reply, French via catalogue':<34} {french_us:8.1f} us CPU")
    print(f"\nratio cohortbot / bare: {ours / bare:.2f}x (target >= 0.5x, p99 <= 100 ms)")
    print(
        f"ratio French via catalogue / English plain reply: {french / ours:.3f}x over HTTP, "
        f"{french_alone / plain_alone:.3f}x engine alone, CPU per click {french_cpu / plain_cpu:.3f}x "
        "(target: rate >= 0.95x, CPU <= 1.05x)"
    )
    print(
        f"catalogue cost per click: {french_us - plain_us:+.1f} us CPU, "
        f"{(french_us - plain_us) / plain_cpu:+.2%} of the engine's CPU per click"
    )
    print(f"clicks committed: {stored - len(USERS)} of {args.clicks}")


if __name__ == "__main__":
    asyncio.run(main())
