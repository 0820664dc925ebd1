"""Operations: `/metrics` scraped and parsed with prometheus-client's own parser, JSON logs carrying
the request id of the inbound event, and a graceful stop of delivery."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import select

from bot.app.bootstrap import App
from bot.app.logs import configure
from bot.core.delivery import SendResult, Target
from bot.core.messages import Message, Text
from bot.core.models import FiredEvent, Identity, OutboxMessage
from bot.core.outbox import enqueue_dm
from tests.app.logging_state import own_logging  # noqa: F401  (fixture)
from tests.standins.slack_harness import SlackHarness


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text exposition, keyed by name and sorted labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def dm_everyone(app: App, text: str) -> None:
    async with app.store.transaction() as session:
        for identity in (await session.exec(select(Identity))).all():
            key = f"test:{identity.user_id}"
            message = Message(summary=text, blocks=(Text(text),))
            await enqueue_dm(session, identity.person_id, message, key=key, now=app.clock.now())


async def test_metrics_are_scraped_and_parsed(tmp_path: Path) -> None:
    slack = await SlackHarness.start(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        for user, name in (("UTINA", "tina"), ("UBOB", "bob")):
            slack.api.add_user(user, name)
        await slack.command("UTINA", "create spoc")
        await slack.command("UBOB", "list")
        async with slack.app.store.transaction() as session:
            now = slack.app.clock.now()
            session.add(FiredEvent(key="e1", kind="test", due_at=now - timedelta(seconds=4), fired_at=now))
        slack.api.fail("chat.postMessage", status=429, retry_after=30)
        await dm_everyone(slack.app, "Session tomorrow")
        await slack.app.worker.drain()
        async with aiohttp.ClientSession() as http, http.get(f"{slack.url}/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain")
            text = await response.text()
    finally:
        await slack.stop()
    found = samples(text)
    slack_label = (("platform", "slack"),)
    assert found[("cohortbot_sends_total", slack_label)] == 1
    assert found[("cohortbot_send_retries_total", slack_label)] == 1
    assert found[("cohortbot_rate_limited_total", slack_label)] == 1
    assert found[("cohortbot_outbox_messages", (("status", "sent"),))] == 1
    assert found[("cohortbot_outbox_messages", (("status", "pending"),))] == 1  # waits out Retry-After
    assert found[("cohortbot_outbox_messages", (("status", "failed"),))] == 0
    assert found[("cohortbot_inbound_latency_seconds_count", slack_label)] == 2  # the two commands
    assert found[("cohortbot_scheduler_lag_seconds", ())] == pytest.approx(4.0)


@pytest.mark.usefixtures("own_logging")
async def test_json_logs_carry_the_request_id(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    slack = await SlackHarness.start(f"sqlite:///{tmp_path / 'j.db'}")
    configure("INFO", "json")
    try:
        forged = slack.http.signed(
            "command=%2Fcohort&text=help", "application/x-www-form-urlencoded", secret="x"
        )
        status, _ = await slack.http.send(forged, extra_headers={"X-Request-Id": "req-42"})
        assert status == 401
        logging.getLogger("outside").info("no request here")
    finally:
        await slack.stop()
    entries = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
    refused = [e for e in entries if "signature" in e["message"]]
    assert refused and refused[0]["request_id"] == "req-42" and refused[0]["level"] in ("INFO", "WARNING")
    assert {"time", "level", "logger", "message", "request_id"} <= set(refused[0])
    assert [e["request_id"] for e in entries if e["message"] == "no request here"] == ["-"]


class HeldSender:
    """Accepts a send only when the test lets it: a send in flight at shutdown."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.sent: list[str] = []

    async def send(self, target: Target, message: Message) -> SendResult:
        self.started.set()
        await self.release.wait()
        self.sent.append(target.key)
        return SendResult(message_id=f"m{len(self.sent)}")

    async def update(self, *args: Any) -> SendResult:
        raise AssertionError("no updates here")


async def test_shutdown_finishes_sends_in_flight_and_leaves_the_rest(app: App, chat: Any) -> None:
    for name in ("alice", "bob", "carol", "dave"):
        await chat.say(name, "list")
    held = HeldSender()
    app.worker.senders = {"console": held}
    app.worker.concurrency = 1
    await dm_everyone(app, "Reminder")
    delivering = asyncio.create_task(app.worker.run_forever(idle=0.01))
    await held.started.wait()
    app.worker.stop()  # what SIGTERM does
    held.release.set()
    await asyncio.wait_for(delivering, 5)
    async with app.store.transaction() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    assert held.sent == [rows[0].key]
    assert [r.status for r in rows] == ["sent", "pending", "pending", "pending"]
    assert all(r.attempts == 0 and r.next_attempt_at <= app.clock.now() for r in rows[1:])
