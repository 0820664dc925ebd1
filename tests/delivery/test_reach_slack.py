"""Every learner gets the check-in card when the window opens, as fast as Slack allows and once.

Learners are known only by their email (an HR import) and never wrote to the bot: the Slack
directory finds them (paged `users.list`) before the window opens. The real Bolt wiring and
slack_sdk talk to the Web API stand-in, which enforces Slack's limits as documented: one
chat.postMessage per second per channel, and a workspace limit (8 posts per second here) answered
with 429 + Retry-After. The bound is what that limit allows for the messages sent; the last card
must land within 1.1x of it, and nobody gets two.
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

LEARNERS = int(os.environ.get("REACH_LEARNERS", "160"))
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
    for n in range(LEARNERS):  # the workspace: each learner's account, found by their email
        slack.api.add_user(user_id(n), f"learner{n}", f"l{n}@acme.test")
    await enrol_slack_learners(app, cohort_id, LEARNERS, now, by_email=True)

    # Everyone found by email gets their cohort welcome when found, well before a session in real
    # life: let those go out first (a DM keeps its order, so a card would wait for its welcome).
    worker = asyncio.create_task(app.worker.run_forever(idle=0.05))
    await slack.api.wait_for(lambda: len(slack.api.limits.accepted) >= LEARNERS, within=LEARNERS / 4 + 10)
    welcomes = len(slack.api.limits.accepted)

    opened = time.monotonic()
    assert await open_check_in(app, session_id) == "fired"
    cards = {f"checkin:{session_id}:{1_000_000 + n}" for n in range(LEARNERS)}

    def delivered_cards() -> int:
        return len(cards & set(slack.api.limits.keys_delivered()))

    try:
        await slack.api.wait_for(
            lambda: delivered_cards() == LEARNERS, within=LEARNERS / WORKSPACE_LIMIT * 3 + 10
        )
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)

    keys = slack.api.limits.keys_delivered()
    assert len(set(keys)) == len(keys)  # nobody gets anything twice
    positions = [i for i, key in enumerate(keys) if key in cards]
    last_card_at = slack.api.limits.accepted[positions[-1]][0] - opened
    sent_by_then = positions[-1] + 1 - welcomes  # posts sent since the window opened
    bound = sent_by_then / WORKSPACE_LIMIT
    card_channels = {
        channel for (_, channel, _), key in zip(slack.api.limits.accepted, keys, strict=True) if key in cards
    }
    assert card_channels == {"D" + user_id(n)[1:] for n in range(LEARNERS)}
    assert last_card_at <= 1.1 * bound, f"last card after {last_card_at:.1f} s, bound {bound:.1f} s"
    assert sent_by_then == LEARNERS  # only the cards went out meanwhile
    # The pacer found the limit: few posts were refused.
    assert slack.api.limits.limited <= max(5, LEARNERS // 100)
