"""`cohortbot run` as a real process in HTTP mode: it answers /healthz once ready and serves a
signed slash command, with its Web API client pointed at the stand-in by SLACK_API_URL."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp

from tests.standins.slack_api import SlackApiStandIn
from tests.standins.slack_harness import SECRET
from tests.standins.slack_requests import SlackRequests

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _wait_healthy(url: str, process: asyncio.subprocess.Process) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            if process.returncode is not None:
                raise AssertionError("cohortbot run exited")
            try:
                async with session.get(url) as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("cohortbot run never became healthy")


async def test_cohortbot_run_serves_slack_over_http(tmp_path: Path) -> None:
    api = await SlackApiStandIn().start()
    api.add_user("UTINA", "tina", "tina@acme.test")
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        "PORT": str(port),
        "SLACK_BOT_TOKEN": "xoxb-run-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api.api_url,
        "LOG_LEVEL": "WARNING",
    }
    env.pop("SLACK_APP_TOKEN", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.app.cli", "run", cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)}
    )
    http = SlackRequests(f"http://127.0.0.1:{port}/slack/events", SECRET, api.base_url)
    try:
        await _wait_healthy(f"http://127.0.0.1:{port}/healthz", process)
        status, _ = await http.send(http.command("UTINA", "create spoc"))
        assert status == 200
        await api.wait_for(lambda: api.responses)
        assert "Created cohort *spoc*" in api.responses[0]["text"]
        forged = http.signed(
            "command=%2Fcohort&text=create+evil", "application/x-www-form-urlencoded", secret="x"
        )
        assert (await http.send(forged))[0] == 401
    finally:
        await http.close()
        process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.wait(), timeout=10)
        except TimeoutError:
            process.kill()
            await process.wait()
        await api.stop()
