"""kill -9 in the middle of a Slack fan-out: `cohortbot run` as a real process is killed at the
instant Slack accepted a post and before the process could record it. Restarted, it finds the
posts it cannot account for in the DMs' history (by the outbox key in their metadata) instead of
posting them again: zero lost, zero duplicated."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from pathlib import Path

from sqlmodel import select

from bot.app.bootstrap import build
from bot.core.clock import SystemClock
from bot.core.models import OutboxMessage
from bot.core.settings import Settings
from tests.adapters.test_slack_run import ROOT, _free_port, _wait_healthy
from tests.delivery.reach_helpers import cohort_with_session_opening_now, enrol_slack_learners
from tests.standins.slack_api import SlackApiStandIn
from tests.standins.slack_harness import SECRET

LEARNERS = 300
KILL_AT = 120  # accepted posts when the process dies


async def _start(
    db_url: str, api: SlackApiStandIn, cwd: Path, **env_settings: str
) -> tuple[asyncio.subprocess.Process, int]:
    """`cohortbot run` in HTTP mode against the stand-in; returns the process and its port."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "PORT": str(port),
        "SLACK_BOT_TOKEN": "xoxb-crash-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "EVIDENCE_SECRET": "e" * 64,  # a server database refuses to start without one
        "SLACK_API_URL": api.api_url,
        "SLACK_WORKSPACE_RATE": "100",  # the stand-in allows 100/s: a quick test
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        **env_settings,
    }
    env.pop("SLACK_APP_TOKEN", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.app.cli", "run", cwd=cwd, env=env
    )
    return process, port


async def test_kill_9_mid_fan_out_loses_nothing_and_posts_nothing_twice(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'crash.db'}"
    app = await build(Settings(database_url=db_url), {}, SystemClock())
    now = app.clock.now()
    cohort_id, session_id = await cohort_with_session_opening_now(app, now)
    await enrol_slack_learners(app, cohort_id, LEARNERS, now)
    await app.close()

    api = await SlackApiStandIn().start()
    api.limits.channel_interval = 1.0
    api.limits.workspace_per_second = 100
    first, port = await _start(db_url, api, tmp_path)

    def kill_mid_fan_out(accepted: int) -> None:
        if accepted == KILL_AT:  # Slack has the post; the process never hears back
            os.kill(first.pid, signal.SIGKILL)

    api.limits.on_accept = kill_mid_fan_out
    second = None
    try:
        await asyncio.wait_for(first.wait(), timeout=60)
        assert first.returncode == -signal.SIGKILL
        api.limits.on_accept = None
        assert len(api.limits.accepted) == KILL_AT  # nothing after the kill

        second, port = await _start(db_url, api, tmp_path)
        await _wait_healthy(f"http://127.0.0.1:{port}/healthz", second)
        await api.wait_for(lambda: len(set(api.limits.keys_delivered())) >= LEARNERS, within=60)
        statuses = await _statuses_once_settled(db_url)
    finally:
        for process in (first, second):
            if process is not None and process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await process.wait()
        await api.stop()

    keys = api.limits.keys_delivered()
    expected = {f"checkin:{session_id}:{1_000_000 + n}" for n in range(LEARNERS)}
    assert set(keys) == expected  # zero lost
    assert [k for k, n in Counter(keys).items() if n > 1] == []  # zero duplicated
    assert api.called("conversations.history")  # the rows in doubt were looked up, not re-posted
    assert statuses == Counter({"sent": LEARNERS})


async def _statuses_once_settled(db_url: str) -> Counter[str]:
    """The outbox's statuses once the running process has recorded its last outcomes."""
    app = await build(Settings(database_url=db_url), {}, SystemClock(), schema="none")
    try:
        for _ in range(100):
            async with app.store.transaction() as session:
                statuses = Counter((await session.exec(select(OutboxMessage.status))).all())
            if set(statuses) == {"sent"}:
                break
            await asyncio.sleep(0.1)
        return statuses
    finally:
        await app.close()
