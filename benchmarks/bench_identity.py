"""Identity benchmark: resolve learners enrolled by email to Slack user ids, against the Web API
stand-in enforcing Slack's tier limits (users.list Tier 2: 20/min; users.lookupByEmail Tier 3:
50/min, answered 429 + Retry-After beyond), through the engine's resolver (directory, linking,
lookup rows, late welcome DMs queued), beside a bare loop paging `users.list` at the same tier
rate with the same client (the floor the limits allow), in the same run.

Prints figures, never pass/fail. At `--scale 1` the limits are Slack's real ones, so 10,000 emails
take minutes of wall clock; `--scale 60` makes a minute last a second for a quick look.

Run from the repository root: `python benchmarks/bench_identity.py [--learners 2000 10000] [--scale 1]`
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import insert
from sqlmodel import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.slack.directory import LIST_PER_MINUTE, LOOKUP_PER_MINUTE, PAGE_SIZE, SlackDirectory, TierPacer
from bot.app.bootstrap import build
from bot.capabilities.reach.resolver import IdentityResolver
from bot.core.clock import SimulatedClock
from bot.core.models import Cohort, Enrolment, OutboxMessage, Person
from bot.core.settings import Settings
from tests.standins.slack_api import SlackApiStandIn

START = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)
TOKEN = "xoxb-benchmark"
OUTSIDERS = 0.10  # the workspace also holds people who are in no cohort
NOT_IN_WORKSPACE = 0.01  # and some learners' emails match nobody


def email(n: int) -> str:
    return f"learner{n}@acme.test"


async def standin(learners: int, scale: float) -> SlackApiStandIn:
    api = await SlackApiStandIn(record=True).start()
    present = learners - int(learners * NOT_IN_WORKSPACE)
    for n in range(present):
        api.add_user(f"U{n:07d}", f"learner{n}", email(n))
    for n in range(int(learners * OUTSIDERS)):
        api.add_user(f"UX{n:06d}", f"other{n}", f"other{n}@acme.test")
    api.limit_tiers(lookup=int(LOOKUP_PER_MINUTE), listing=int(LIST_PER_MINUTE), window=60.0 / scale)
    return api


async def bare_roster(api: SlackApiStandIn, scale: float) -> tuple[float, int]:
    """The floor: page users.list at the tier rate with one client, nothing else."""
    pacer = TierPacer(LIST_PER_MINUTE * scale)
    async with aiohttp.ClientSession() as session:
        client = AsyncWebClient(token=TOKEN, base_url=api.api_url, session=session)
        started, cursor, pages = time.perf_counter(), None, 0
        while True:
            await pacer.acquire()
            page = await client.users_list(limit=PAGE_SIZE, cursor=cursor)
            pages += 1
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return time.perf_counter() - started, pages


async def engine_resolve(api: SlackApiStandIn, learners: int, scale: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{Path(tmp) / 'bench.db'}")
        app = await build(settings, {}, SimulatedClock(START), schema="create")
        async with app.store.transaction() as session:
            cohort = Cohort(slug="big", created_at=START)
            session.add(cohort)
            await session.flush()
            connection = await session.connection()
            await connection.execute(
                insert(Person.__table__),  # type: ignore[attr-defined]
                [
                    {"display_name": f"learner{n}", "email": email(n), "created_at": START}
                    for n in range(learners)
                ],
            )
            await connection.execute(
                insert(Enrolment.__table__),  # type: ignore[attr-defined]
                [
                    {"cohort_id": cohort.id, "person_id": n + 1, "role": "learner", "enrolled_at": START}
                    for n in range(learners)  # people were inserted with ids 1..n
                ],
            )
        async with aiohttp.ClientSession() as session:
            client = AsyncWebClient(token=TOKEN, base_url=api.api_url, session=session)
            directory = SlackDirectory(
                client, lookup_per_minute=LOOKUP_PER_MINUTE * scale, list_per_minute=LIST_PER_MINUTE * scale
            )
            resolver = IdentityResolver(app.store, app.clock, settings, {"slack": directory})
            started = time.perf_counter()
            cpu = time.process_time()
            report = await resolver.run_once()
            elapsed = time.perf_counter() - started
            cpu_used = time.process_time() - cpu
        async with app.store.transaction() as session:
            welcomes = len((await session.exec(select(OutboxMessage.id))).all())
        await app.close()
    return {
        "elapsed": elapsed,
        "cpu": cpu_used,
        "found": report.found,
        "missing": report.missing,
        "pending": report.pending,
        "welcomes": welcomes,
    }


async def run(learners: int, scale: float) -> None:
    api = await standin(learners, scale)
    try:
        bare, pages = await bare_roster(api, scale)
        await asyncio.sleep(60.0 / scale)  # a fresh tier window for the engine's turn
        api.calls.clear()
        api.rate_limited.clear()
        figures = await engine_resolve(api, learners, scale)
        engine_pages = len(api.called("users.list"))
        limited = sum(api.rate_limited.values())
    finally:
        await api.stop()
    bound = (pages - 1) * 60.0 / (LIST_PER_MINUTE * scale)  # the tier allows no faster
    lookups = learners * 60.0 / (LOOKUP_PER_MINUTE * scale)
    print(f"\n{learners:,} learners enrolled by email, workspace of {len(api.users):,} (scale {scale:g})")
    print(f"  tier bound for {pages} users.list pages of {PAGE_SIZE}: {bound:8.1f} s")
    print(f"  bare users.list loop:                     {bare:8.1f} s")
    print(
        f"  engine resolve (roster sync + linking):   {figures['elapsed']:8.1f} s"
        f"  = {figures['elapsed'] / bare:.2f}x bare, {figures['elapsed'] / max(bound, 1e-9):.2f}x bound"
    )
    print(
        f"    found {figures['found']:,.0f}, not in workspace {figures['missing']:,.0f}, pending "
        f"{figures['pending']:,.0f}; {engine_pages} pages; 429s {limited}; welcome DMs queued "
        f"{figures['welcomes']:,.0f}; CPU {figures['cpu']:.1f} s"
    )
    print(f"  users.lookupByEmail one by one would need: {lookups:8.1f} s (Tier 3)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--learners", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="speed the tier windows up (60: a minute per second)"
    )
    args = parser.parse_args()
    for learners in args.learners:
        asyncio.run(run(learners, args.scale))


if __name__ == "__main__":
    main()
