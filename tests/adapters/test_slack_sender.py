"""Outbox delivery to Slack through the real AsyncWebClient against the Web API stand-in:
429 with Retry-After and 5xx delay a message but never drop or double it, a gone user fails it,
updates and chart uploads reach the right DM, and the pacer spaces posts per channel and workspace."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from adapters.slack.pacing import Pacer
from bot.core.clock import SimulatedClock
from bot.core.context import EventContext
from bot.core.messages import Image, Message, Text
from bot.core.models import Cohort, Identity, OutboxMessage
from tests.conftest import START
from tests.standins.slack_harness import SlackHarness


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[SlackHarness]:
    harness = await SlackHarness.start(f"sqlite:///{tmp_path / 'slack.db'}", SimulatedClock(START))
    harness.api.add_user("UTINA", "tina", "tina@acme.test")
    harness.api.add_user("UALICE", "alice", "alice@acme.test")
    await harness.command("UTINA", "create spoc", channel="C0SPOC", channel_name="spoc")
    yield harness
    await harness.stop()


async def _outbox(slack: SlackHarness) -> dict[str, OutboxMessage]:
    async with slack.app.store.transaction() as session:
        return {r.key: r for r in (await session.exec(select(OutboxMessage))).all()}


def _posts_to(slack: SlackHarness, channel: str) -> int:
    return len([c for c in slack.api.called("chat.postMessage") if c.args["channel"] == channel])


async def test_429_waits_retry_after_then_delivers_exactly_once(slack: SlackHarness) -> None:
    # A short Retry-After: the workspace's send budget also pauses for it, in real time.
    slack.api.fail("chat.postMessage", status=429, retry_after=2)
    await slack.command("UTINA", "enroll spoc <@UALICE>")
    await slack.app.worker.drain()
    row = (await _outbox(slack))["welcome:1:2"]
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "rate limited (429)")
    assert row.next_attempt_at >= START + timedelta(seconds=2)

    await slack.app.worker.drain()  # not due yet: nothing is sent
    assert _posts_to(slack, "UALICE") == 1
    assert isinstance(slack.app.clock, SimulatedClock)
    slack.app.clock.advance(timedelta(seconds=3))
    await slack.app.worker.drain()
    row = (await _outbox(slack))["welcome:1:2"]
    assert (row.status, row.platform_channel_id) == ("sent", "DALICE")
    assert _posts_to(slack, "UALICE") == 2  # one refused, one accepted: the learner got one DM


async def test_server_errors_are_retried(slack: SlackHarness) -> None:
    slack.api.fail("chat.postMessage", status=503, times=2)
    await slack.command("UTINA", "enroll spoc <@UALICE>")
    assert isinstance(slack.app.clock, SimulatedClock)
    for _ in range(3):
        await slack.app.worker.drain()
        slack.app.clock.advance(timedelta(minutes=1))
    row = (await _outbox(slack))["welcome:1:2"]
    assert (row.status, row.attempts) == ("sent", 3)


async def test_a_user_who_left_fails_the_message_and_is_marked_blocked(slack: SlackHarness) -> None:
    slack.api.fail("chat.postMessage", error="account_inactive")
    await slack.command("UTINA", "enroll spoc <@UALICE>")
    await slack.app.worker.drain()
    row = (await _outbox(slack))["welcome:1:2"]
    assert (row.status, row.last_error) == ("failed", "account_inactive")
    async with slack.app.store.transaction() as session:
        alice = (await session.exec(select(Identity).where(Identity.user_id == "UALICE"))).one()
    assert alice.blocked_at is not None


async def test_channel_post_update_and_chart_upload(slack: SlackHarness, tmp_path: Path) -> None:
    chart = tmp_path / "progress.png"
    chart.write_bytes(b"\x89PNG fake chart")
    async with slack.app.store.transaction() as session:
        ctx = EventContext(session=session, now=slack.app.clock.now(), settings=slack.app.settings)
        cohort = (await session.exec(select(Cohort))).one()
        await ctx.post(
            cohort, Message("Week 1", (Text("Week 1 done"), Image(str(chart), "progress chart"))), key="w1"
        )
    await slack.app.worker.drain()
    (post,) = slack.api.called("chat.postMessage")
    assert post.args["channel"] == "C0SPOC" and post.args["text"] == "Week 1"
    (complete,) = slack.api.called("files.completeUploadExternal")
    assert complete.args["channel_id"] == "C0SPOC"
    assert list(slack.api.uploads.values()) == [b"\x89PNG fake chart"]

    async with slack.app.store.transaction() as session:
        ctx = EventContext(session=session, now=slack.app.clock.now(), settings=slack.app.settings)
        assert await ctx.update_message("w1", Message("Week 1 (closed)", (Text("closed"),)), key="w1:closed")
    await slack.app.worker.drain()
    (update,) = slack.api.called("chat.update")
    assert (update.args["channel"], update.args["ts"]) == (
        "C0SPOC",
        (await _outbox(slack))["w1"].platform_message_id,
    )


async def test_pacer_spaces_one_channel_without_holding_others(monkeypatch: Any) -> None:
    now = [0.0]
    slept: list[float] = []

    async def fake_sleep(delay: float) -> None:
        slept.append(round(delay, 3))
        now[0] += delay

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    pacer = Pacer(channel_interval=1.0, workspace_rate=1000.0, workspace_burst=100, monotonic=lambda: now[0])
    await pacer.wait("T1", "C1")
    await pacer.wait("T1", "C2")  # another channel: no wait
    assert slept == []
    await pacer.wait("T1", "C1")  # same channel: a second later
    assert slept == [1.0]


async def test_pacer_workspace_bucket_allows_a_burst_then_the_rate(monkeypatch: Any) -> None:
    now = [0.0]
    slept: list[float] = []

    async def fake_sleep(delay: float) -> None:
        slept.append(round(delay, 3))
        now[0] += delay

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    pacer = Pacer(channel_interval=0.0, workspace_rate=2.0, workspace_burst=3, monotonic=lambda: now[0])
    for n in range(5):
        await pacer.wait("T1", f"D{n}")
    assert slept == [0.5, 0.5]  # three at once, then one every 0.5 s
    await pacer.wait("T2", "D9")  # another workspace has its own budget
    assert slept == [0.5, 0.5]
