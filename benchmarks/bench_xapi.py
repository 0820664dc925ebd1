"""xAPI in: one POST of a 10,000-statement Moodle-like batch (account actors, mostly viewed /
attempted / answered, a completion per learner), through the real endpoint on loopback: validated,
stored once each, completions recorded. Side by side with a bare baseline in the same run: an
aiohttp endpoint that only parses the JSON and inserts the raw statements into SQLite.

Run: python benchmarks/bench_xapi.py [statements] [learners]. Prints figures; never pass/fail.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from aiohttp import web
from sqlalchemy import insert
from sqlmodel import col, func, select

from bot.app.bootstrap import build
from bot.app.serve import attach_adapters, web_application
from bot.capabilities.completion.models import LmsAccount, XapiActivity, XapiStatement
from bot.core.clock import SimulatedClock
from bot.core.models import Cohort, Completion, Enrolment, Module, Person
from bot.core.settings import Settings
from tests.capabilities.xapi_fixtures import moodle

NOW = datetime(2027, 3, 3, 7, 0, tzinfo=UTC)
TOKEN = "bench-token"
HEADERS = {
    "Authorization": f"Bearer {TOKEN}",
    "X-Experience-API-Version": "1.0.3",
    "Content-Type": "application/json",
}
MODULES = 5


def moodle_batch(statements: int, learners: int) -> list[dict[str, Any]]:
    """Per learner and module: viewed three times, attempted, four answers, completed (one in eight
    statements is a completion)."""
    batch: list[dict[str, Any]] = []
    n = 0
    while len(batch) < statements:
        user = 1000 + n % learners
        cmid = 100 + (n // learners) % MODULES
        batch += moodle.course_batch([user], cmid, {user: {"completion": True, "success": n % 3 != 0}})
        batch += [
            moodle.statement(verb, user, cmid, n=k)
            for k, verb in ((6, "viewed"), (7, "viewed"), (8, "answered"))
        ]
        n += 1
    for i, statement in enumerate(batch):  # unique ids, deterministic
        statement["id"] = f"00000000-0000-4000-8000-{i:012x}"
    return batch[:statements]


async def seed(app: Any, learners: int) -> None:
    async with app.store.transaction() as session:
        cohort = Cohort(slug="spoc", created_at=NOW)
        session.add(cohort)
        await session.flush()
        conn = await session.connection()
        await conn.execute(
            insert(Person),
            [{"id": i, "display_name": f"p{i}", "created_at": NOW} for i in range(1, learners + 1)],
        )
        await conn.execute(
            insert(Enrolment),
            [{"cohort_id": cohort.id, "person_id": i, "enrolled_at": NOW} for i in range(1, learners + 1)],
        )
        await conn.execute(
            insert(LmsAccount),
            [{"person_id": i, "lms_user_id": str(999 + i)} for i in range(1, learners + 1)],
        )
        for m in range(MODULES):
            module = Module(cohort_id=cohort.id or 0, title=f"Quiz {m}", due_at=NOW)
            session.add(module)
            await session.flush()
            session.add(XapiActivity(activity_id=moodle.module_url(100 + m), module_id=module.id or 0))


async def post_once(url: str, body: bytes, headers: dict[str, str]) -> tuple[float, int]:
    async with aiohttp.ClientSession() as http:
        started = time.perf_counter()
        async with http.post(url, data=body, headers=headers) as response:
            answer = await response.read()
            if response.status != 200:
                print(answer[:300].decode(errors="replace"))
            return time.perf_counter() - started, response.status


async def cohortbot_run(db: Path, body: bytes, learners: int) -> tuple[float, float, int, int]:
    app = await build(
        Settings(database_url=f"sqlite:///{db}", xapi_token=TOKEN), {}, SimulatedClock(NOW), schema="create"
    )
    await seed(app, learners)
    webapp = web_application(app)
    await attach_adapters(app, webapp)
    runner = web.AppRunner(webapp)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}/xapi/statements"
    try:
        first, status = await post_once(url, body, HEADERS)
        assert status == 200, status
        again, status = await post_once(url, body, HEADERS)
        assert status == 200, status
        async with app.store.transaction() as session:
            stored = (await session.exec(select(func.count(col(XapiStatement.statement_id))))).one()
            done = (await session.exec(select(func.count(col(Completion.id))))).one()
    finally:
        await runner.cleanup()
        await app.close()
    return first, again, stored, done


async def baseline_run(db: Path, body: bytes) -> float:
    """Parse the JSON and insert each raw statement once: the floor under any real endpoint."""
    connection = sqlite3.connect(db, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("CREATE TABLE raw (id TEXT PRIMARY KEY, body TEXT)")

    async def handle(request: web.Request) -> web.Response:
        statements = json.loads(await request.content.read())
        connection.execute("BEGIN")
        connection.executemany(
            "INSERT OR IGNORE INTO raw VALUES (?, ?)", [(s["id"], json.dumps(s)) for s in statements]
        )
        connection.execute("COMMIT")
        return web.json_response([s["id"] for s in statements])

    webapp = web.Application()
    webapp.router.add_post("/xapi/statements", handle)
    runner = web.AppRunner(webapp)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        elapsed, _ = await post_once(f"http://127.0.0.1:{port}/xapi/statements", body, HEADERS)
    finally:
        await runner.cleanup()
        connection.close()
    return elapsed


async def main(statements: int, learners: int) -> None:
    batch = moodle_batch(statements, learners)
    body = json.dumps(batch).encode()
    completions = sum(1 for s in batch if s["verb"]["id"].endswith("/completed"))
    with tempfile.TemporaryDirectory() as tmp:
        bare = await baseline_run(Path(tmp) / "bare.db", body)
        first, again, stored, done = await cohortbot_run(Path(tmp) / "cohortbot.db", body, learners)
    size = len(body) / 1e6
    print(
        f"xAPI batch: {statements} statements ({size:.1f} MB, {completions} completions), {learners} learners"
    )
    print(f"  baseline (parse + insert raw rows):      {bare:6.2f} s  {statements / bare:8.0f} statements/s")
    print(
        f"  cohortbot POST (validate, store, record): {first:6.2f} s  {statements / first:8.0f} statements/s"
    )
    print(
        f"  cohortbot POST again (all known, no-op):  {again:6.2f} s  {statements / again:8.0f} statements/s"
    )
    print(f"  ratio cohortbot / baseline time: {first / bare:.1f}x")
    print(f"  stored {stored} statements, {done} completions recorded")


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    people = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    asyncio.run(main(n, people))
