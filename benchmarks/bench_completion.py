"""Completion ingestion figures: CSV import of learners and completions, and xAPI statements over HTTP.

Prints rates; never passes or fails. Usage: python benchmarks/bench_completion.py [--learners N]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.app.bootstrap import App, build
from bot.app.serve import attach_adapters, web_application
from bot.capabilities.completion.completion_import import import_completions
from bot.capabilities.completion.learner_import import import_learners
from bot.core.clock import SimulatedClock
from bot.core.inbound import Inbound, Profile
from bot.core.models import ProcessedInbound
from bot.core.settings import Settings

START = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)
TOKEN = "bench-token"
MODULES = 20


def bare_insert(app: App) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The baseline: parse the JSON body, insert one row, commit, answer. What any endpoint must pay."""

    async def handle(request: web.Request) -> web.Response:
        await request.json()
        async with app.store.transaction() as session:
            session.add(ProcessedInbound(key=str(uuid.uuid4()), at=app.clock.now()))
        return web.json_response(["ok"])

    return handle


async def post_all(
    http: aiohttp.ClientSession, url: str, bodies: list[object], concurrency: int, headers: dict[str, str]
) -> float:
    """POST every body with `concurrency` clients; returns requests per second."""
    queue = list(bodies)

    async def client() -> None:
        while queue:
            async with http.post(url, json=queue.pop(), headers=headers) as response:
                assert response.status == 200, await response.text()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return len(bodies) / (time.perf_counter() - started)


async def main(learners: int, statements: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{Path(tmp) / 'bench.db'}", xapi_token=TOKEN)
        clock = SimulatedClock(START)
        app = await build(settings, {}, clock, schema="create")
        say = Profile("console", "", "tina", "tina")
        await app.engine.handle(Inbound(sender=say, text="create bench tz=Europe/Paris"))
        for i in range(MODULES):
            due = date(2027, 3, 5) + timedelta(weeks=i)
            await app.engine.handle(Inbound(sender=say, text=f'module bench "Module {i + 1}" due {due}'))
        clock.set(START + timedelta(weeks=MODULES + 1))

        people = "email,name,manager_email,team,site,department,seniority\n" + "".join(
            f"l{i}@example.com,Learner {i},m{i % 50}@example.com,t{i % 5},S{i % 7},D{i % 9},junior\n"
            for i in range(learners)
        )
        started = time.perf_counter()
        report = await import_learners(app.store, settings, clock.now(), "bench", people)
        took = time.perf_counter() - started
        rate = learners / took
        print(
            f"import learners     {learners:>7} rows  {took:6.2f} s  {rate:8.0f} rows/s {dict(report.counts)}"
        )

        rows = learners * 2
        done = "email,module,status,score,completed_at\n" + "".join(
            f"l{i % learners}@example.com,Module {i // learners + 1},passed,{50 + i % 50},2027-03-01\n"
            for i in range(rows)
        )
        for label in ("import completions", "  again (no change)"):
            started = time.perf_counter()
            report = await import_completions(app.store, settings, clock.now(), "bench", done)
            took = time.perf_counter() - started
            print(
                f"{label:<19} {rows:>7} rows  {took:6.2f} s  {rows / took:8.0f} rows/s  {dict(report.counts)}"
            )

        webapp = web_application(app)
        await attach_adapters(app, webapp)
        webapp.router.add_post("/bare", bare_insert(app))
        async with TestServer(webapp, host="127.0.0.1") as server, aiohttp.ClientSession() as http:
            headers = {"Authorization": f"Bearer {TOKEN}"}

            def statement(i: int) -> dict[str, object]:
                return {
                    "id": str(uuid.uuid4()),
                    "actor": {"mbox": f"mailto:l{i % learners}@example.com"},
                    "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
                    "object": {"id": f"https://lms.example.com/cohorts/bench/modules/module-{3 + i % 10}"},
                }

            for batch, concurrency in ((1, 1), (1, 8), (100, 1)):
                bodies: list[object] = [
                    [statement(j) for j in range(i, i + batch)] if batch > 1 else statement(i)
                    for i in range(0, statements, batch)
                ]
                rate = await post_all(
                    http, str(server.make_url("/xapi/statements")), bodies, concurrency, headers
                )
                line = f"xAPI batch={batch:<3} x{concurrency:<2} {rate * batch:8.0f} statements/s"
                if batch == 1:
                    bare = await post_all(http, str(server.make_url("/bare")), bodies, concurrency, headers)
                    line += f"  (bare insert+commit per request: {bare:6.0f} req/s, ratio {rate / bare:.2f})"
                print(line)
        await app.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--statements", type=int, default=2_000)
    args = parser.parse_args()
    asyncio.run(main(args.learners, args.statements))
