"""Every learner gets the check-in card when the window opens, as fast as Slack allows and once.

The real Bolt wiring and slack_sdk talk to the Web API stand-in, which enforces Slack's limits as
documented: one chat.postMessage per second per channel, and a workspace limit (8 posts per
second here) answered with 429 + Retry-After. The bound is what that limit allows for the
messages sent; the last card must land within 1.1x of it, and nobody gets two.
Set REACH_LEARNERS=2000 for the full-size run (about 4 minutes at 8/s); the default stays quick.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.clock import SystemClock
from tests.delivery.reach_helpers import (
    cohort_with_session_opening_now,
    enrol_slack_learners,
    open_check_in,
    user_id,
)
from tests.standins.slack_harness import SlackHarness

LEARNERS = int(os.environ.get("REACH_LEARNERS", "200"))
WORKSPACE_LIMIT = 8  # posts per second the stand-in accepts workspace-wide


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[SlackHarness]:
    # Real pacing: the defaults (1 s per channel, 525/min per workspace, adapting to 429s).
    harness = await SlackHarness.start(
        f"sqlite:///{tmp_path / 'reach.db'}",
        SystemClock(),
        slack_channel_interval=1.0,
        slack_workspace_rate=525 / 60,
    )
    harness.api.limits.channel_interval = 1.0
    harness.api.limits.workspace_per_second = WORKSPACE_LIMIT
    yield harness
    await harness.stop()


async def test_every_learner_gets_one_check_in_card_within_the_bound(slack: SlackHarness) -> None:
    app = slack.app
    now = app.clock.now()
    cohort_id, session_id = await cohort_with_session_opening_now(app, now)
    await enrol_slack_learners(app, cohort_id, LEARNERS, now)

    opened = time.monotonic()
    assert await open_check_in(app, session_id) == "fired"
    worker = asyncio.create_task(app.worker.run_forever(idle=0.05))
    bound = LEARNERS / WORKSPACE_LIMIT
    try:
        await slack.api.wait_for(lambda: len(slack.api.limits.accepted) >= LEARNERS, within=bound * 1.5 + 10)
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)

    keys = slack.api.limits.keys_delivered()
    last = slack.api.limits.accepted[-1][0] - opened
    assert sorted(keys) == sorted(f"checkin:{session_id}:{1_000_000 + n}" for n in range(LEARNERS))
    assert len(set(keys)) == len(keys)  # nobody gets two
    channels = {channel for _, channel, _ in slack.api.limits.accepted}
    assert channels == {"D" + user_id(n)[1:] for n in range(LEARNERS)}
    assert last <= 1.1 * bound, f"last card after {last:.1f} s, bound {bound:.1f} s"
    # The pacer found the limit: few posts were refused.
    assert slack.api.limits.limited <= max(5, LEARNERS // 100)
