"""Only genuine Slack requests get in: a forged signature, a stale timestamp or a replayed body is
refused with 401 and changes nothing."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select

from bot.core.models import Cohort, ProcessedInbound
from tests.standins.slack_harness import SlackHarness


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[SlackHarness]:
    harness = await SlackHarness.start(f"sqlite:///{tmp_path / 'slack.db'}")
    harness.api.add_user("UTINA", "tina", "tina@acme.test")
    yield harness
    await harness.stop()


async def _nothing_recorded(slack: SlackHarness) -> None:
    await slack.bot.settle()
    async with slack.app.store.transaction() as session:
        assert (await session.exec(select(Cohort))).all() == []
        assert (await session.exec(select(ProcessedInbound))).all() == []
    assert slack.api.responses == []


async def test_forged_signature_is_refused(slack: SlackHarness) -> None:
    forged = slack.http.signed(
        slack.http.command("UTINA", "create spoc").body,
        "application/x-www-form-urlencoded",
        secret="not-the-secret",
    )
    status, _ = await slack.http.send(forged)
    assert status == 401
    unsigned = slack.http.command("UTINA", "create spoc")
    del unsigned.headers["X-Slack-Signature"]
    assert (await slack.http.send(unsigned))[0] == 401
    await _nothing_recorded(slack)


async def test_stale_timestamp_is_refused(slack: SlackHarness) -> None:
    body = slack.http.command("UTINA", "create spoc").body
    stale = slack.http.signed(body, "application/x-www-form-urlencoded", timestamp=int(time.time()) - 301)
    status, _ = await slack.http.send(stale)
    assert status == 401
    await _nothing_recorded(slack)


async def test_replayed_body_is_refused(slack: SlackHarness) -> None:
    request = slack.http.command("UTINA", "create spoc")
    assert (await slack.http.send(request))[0] == 200
    await slack.bot.settle()
    assert len(slack.api.responses) == 1
    status, _ = await slack.http.send(request)  # the same signed bytes, again
    assert status == 401
    await slack.bot.settle()
    assert len(slack.api.responses) == 1


async def test_tampered_body_with_a_valid_signature_of_another_body_is_refused(slack: SlackHarness) -> None:
    genuine = slack.http.command("UTINA", "create spoc")
    genuine.body = genuine.body.replace("create+spoc", "create+evil")
    assert (await slack.http.send(genuine))[0] == 401
    await _nothing_recorded(slack)
