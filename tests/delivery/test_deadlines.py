"""A reminder due at T for N learners starts N / rate seconds early, so the last one reaches Slack
(the stand-in, 8 posts/s per workspace) by T instead of N / 8 seconds after it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.core.clock import SystemClock
from bot.core.models import Cohort, LiveSession
from tests.delivery.reach_helpers import enrol_slack_learners
from tests.standins.slack_harness import SlackHarness

LEARNERS = 40
REMINDER = timedelta(minutes=15)


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[SlackHarness]:
    harness = await SlackHarness.start(
        f"sqlite:///{tmp_path / 'deadline.db'}",
        SystemClock(),
        slack_channel_interval=1.0,
        slack_workspace_rate=525 / 60,
    )
    harness.api.limits.channel_interval = 1.0
    harness.api.limits.workspace_per_second = 8
    yield harness
    await harness.stop()


async def test_a_session_reminder_reaches_everyone_by_its_due_time(slack: SlackHarness) -> None:
    app = slack.app
    now = app.clock.now()
    due = now + timedelta(seconds=8)
    async with app.store.transaction() as session:
        programme = {"reminders": [{"of": "session", "before": "15m", "quiet_hours": "ignore"}]}
        session.add(Cohort(slug="deadline", tz="UTC", programme=programme, created_at=now))
        await session.flush()
        cohort = (await session.exec(select(Cohort))).one()
        session.add(
            LiveSession(cohort_id=cohort.id or 0, title="Kick-off", starts_at=due + REMINDER, duration_min=60)
        )
    await enrol_slack_learners(app, cohort.id or 0, LEARNERS, now)

    (event,) = [e for e in await app.runner.pending() if e.kind == "reminder.session"]
    lead = (due - event.due_at).total_seconds()
    assert lead == pytest.approx(LEARNERS / (0.85 * 525 / 60) + 1.0, abs=0.01)  # N / rate, and one 429

    due_monotonic = time.monotonic() + (due - app.clock.now()).total_seconds()
    worker = asyncio.create_task(app.worker.run_forever(idle=0.05))
    try:
        for _ in range(400):  # the scheduler's part, on the real clock
            if await app.runner.tick():
                break
            await asyncio.sleep(0.05)
        await slack.api.wait_for(lambda: len(slack.api.limits.accepted) >= LEARNERS, within=30)
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
    keys = slack.api.limits.keys_delivered()
    assert len(set(keys)) == len(keys) == LEARNERS and all(k.startswith("reminder:") for k in keys)
    last = slack.api.limits.accepted[-1][0]
    assert last <= due_monotonic, f"last reminder {last - due_monotonic:.1f} s after its due time"
