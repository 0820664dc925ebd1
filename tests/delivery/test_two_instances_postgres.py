"""Two `cohortbot run` processes on one PostgreSQL deliver one fan-out together: they share the
workspace's send budget through the database, so Slack (the stand-in: 1 post/s per channel, 8/s
per workspace) answers fewer than 1% of sends with 429. One is killed (-9) mid fan-out; the
other notices its heartbeat stop, takes its rows over within seconds, looks up the ones in doubt
and finishes within 1.1x of the bound plus 10 s, with nobody getting two cards."""

from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path

from bot.app.bootstrap import build
from bot.core.clock import SystemClock
from bot.core.settings import Settings
from tests.adapters.test_slack_run import _wait_healthy
from tests.delivery.reach_helpers import cohort_with_session_opening_now, enrol_slack_learners
from tests.delivery.test_crash_slack import _start
from tests.standins.slack_api import SlackApiStandIn

LEARNERS = 200
WORKSPACE_LIMIT = 8
KILL_AT = LEARNERS // 3


async def test_two_instances_share_the_budget_and_survive_one_killed(
    postgres_url: str, tmp_path: Path
) -> None:
    app = await build(Settings(database_url=postgres_url), {}, SystemClock())
    now = app.clock.now()
    cohort_id, session_id = await cohort_with_session_opening_now(app, now)
    await enrol_slack_learners(app, cohort_id, LEARNERS, now)
    await app.close()

    api = await SlackApiStandIn().start()
    api.limits.channel_interval = 1.0
    api.limits.workspace_per_second = WORKSPACE_LIMIT
    started = [
        await _start(postgres_url, api, tmp_path, SLACK_WORKSPACE_RATE=str(525 / 60)) for _ in range(2)
    ]
    processes = [process for process, _ in started]
    for process, port in started:
        await _wait_healthy(f"http://127.0.0.1:{port}/healthz", process)
    victim = processes[0]

    def kill_one_mid_fan_out(accepted: int) -> None:
        if accepted == KILL_AT:
            os.kill(victim.pid, signal.SIGKILL)

    api.limits.on_accept = kill_one_mid_fan_out
    bound = LEARNERS / WORKSPACE_LIMIT
    try:
        await api.wait_for(lambda: len(set(api.limits.keys_delivered())) >= LEARNERS, within=2 * bound + 30)
    finally:
        for process in processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await process.wait()
        await api.stop()

    assert victim.returncode == -signal.SIGKILL
    keys = api.limits.keys_delivered()
    assert set(keys) == {f"checkin:{session_id}:{1_000_000 + n}" for n in range(LEARNERS)}
    assert [k for k, n in Counter(keys).items() if n > 1] == []
    posts = len(api.called("chat.postMessage"))
    assert api.limits.limited < 0.01 * posts, f"{api.limits.limited} of {posts} posts answered 429"
    times = [at for at, _, _ in api.limits.accepted]
    took = times[-1] - times[0]
    assert took <= 1.1 * bound + 10, f"fan-out took {took:.1f} s, bound {bound:.1f} s"
