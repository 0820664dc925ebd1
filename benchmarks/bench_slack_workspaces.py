"""Slack distribution benchmark: what one token per workspace costs delivery.

Prints figures, never pass/fail. The same outbox rows are delivered twice through cohortbot's own
`SlackSender` and delivery worker to a loopback Slack Web API stand-in (with latency):
  1. one bot token (a single workspace, as before distribution);
  2. OAuth installations: the rows spread over N workspaces, each send using its workspace's token,
     read from slack_sdk's SQLAlchemy installation store (cached for a few minutes per workspace).
It also checks that every post carried the right workspace's token.

Run from the repository root: `python -m benchmarks.bench_slack_workspaces [--messages 2000]
[--workspaces 50] [--latency-ms 20]`
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
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.slack import installations
from adapters.slack.pacing import Pacer
from adapters.slack.sender import SlackSender
from bot.app.bootstrap import App, build
from bot.core.clock import SimulatedClock
from bot.core.messages import Message, Text
from bot.core.models import OutboxMessage
from bot.core.settings import Settings
from tests.standins.slack_api import SlackApiStandIn

START = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)
CLIENT_ID = "1111.2222"


async def enqueue(app: App, messages: int, workspaces: int, tag: str) -> None:
    payload = Message(summary="Reminder", blocks=(Text("Reminder: *All hands* starts soon."),)).to_dict()
    now = app.clock.now()
    rows = [
        {
            "key": f"{tag}:{i}",
            "kind": "message",
            "platform": "slack",
            "workspace": f"T{i % workspaces:05d}",
            "address": f"U{i:07d}",
            "payload": payload,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for i in range(messages)
    ]
    async with app.store.transaction() as session:
        await session.exec(insert(OutboxMessage).values(rows))  # type: ignore[call-overload]


async def install(app: App, workspaces: int) -> None:
    store = installations.installation_store(CLIENT_ID, app.store.engine)
    for w in range(workspaces):
        await store.async_save(
            Installation(
                app_id="A0001",
                team_id=f"T{w:05d}",
                user_id="UADMIN",
                bot_token=f"xoxb-T{w:05d}",
                bot_id="BBOT",
                bot_user_id="UBOT",
                bot_scopes="chat:write",
            )
        )


async def deliver(app: App, sender: SlackSender) -> tuple[float, int]:
    app.worker.senders = {"slack": sender}
    started = time.perf_counter()
    sent = await app.worker.drain(max_rounds=100_000)
    return time.perf_counter() - started, sent


async def main(messages: int, workspaces: int, latency_ms: float, concurrency: int) -> None:
    api = SlackApiStandIn(record=True, latency=latency_ms / 1000)
    await api.start()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{Path(tmp) / 'bench.db'}")
        app = await build(settings, {}, SimulatedClock(START), schema="migrate")
        app.worker.concurrency = concurrency
        await install(app, workspaces)
        unpaced = Pacer(channel_interval=0.0, workspace_rate=0.0)
        print(
            f"Slack workspaces benchmark: {messages:,} messages, {latency_ms:.0f} ms Web API latency, "
            f"concurrency {concurrency}, SQLite (WAL)"
        )
        async with aiohttp.ClientSession() as http:
            single = AsyncWebClient(token="xoxb-single", base_url=api.api_url, session=http)
            await enqueue(app, messages, 1, "single")
            single_time, single_sent = await deliver(app, SlackSender(single, unpaced))

            tokenless = AsyncWebClient(base_url=api.api_url, session=http)
            clients = installations.WorkspaceClients(
                tokenless, http, installations.installation_store(CLIENT_ID, app.store.engine)
            )
            api.calls.clear()
            await enqueue(app, messages, workspaces, "oauth")
            oauth_time, oauth_sent = await deliver(app, SlackSender(tokenless, unpaced, clients))
        wrong = sum(
            1
            for c in api.called("chat.postMessage")
            if c.token != f"xoxb-T{int(c.args['channel'][1:]) % workspaces:05d}"
        )
        await app.close()
    await api.stop()
    single_rate, oauth_rate = single_sent / single_time, oauth_sent / oauth_time
    print(f"  one bot token:                        {single_rate:8,.0f} msgs/s  ({single_sent:,} sent)")
    print(
        f"  {workspaces} workspaces, tokens from the store: {oauth_rate:8,.0f} msgs/s  "
        f"({oauth_sent:,} sent, {wrong} with a wrong token)"
    )
    print(f"  ratio per-workspace / single:         {oauth_rate / single_rate:8.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2_000)
    parser.add_argument("--workspaces", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    asyncio.run(main(args.messages, args.workspaces, args.latency_ms, args.concurrency))
