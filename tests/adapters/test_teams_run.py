"""`cohortbot run` as a real process with TEAMS_LOCAL=1: it says loudly that it is unauthenticated,
serves /healthz, and answers a Teams activity through the Bot Framework stand-in."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.standins import teams_activities as teams
from tests.standins.bf_connector import BotConnectorStandIn

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_cohortbot_run_serves_teams_in_local_mode(tmp_path: Path, connector: BotConnectorStandIn) -> None:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MICROSOFT_APP", "SLACK_"))},
        "TEAMS_LOCAL": "1",
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.app.cli", "run"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "cohortbot run did not become healthy"
            time.sleep(0.1)
        alice = teams.TeamsUser("alice")
        response = requests.post(
            base + "/api/messages", json=teams.message(connector.url, alice, "help"), timeout=10
        )
        assert response.status_code == 201
        (reply,) = connector.messages(alice.personal_conversation)
        assert "cohortbot commands" in reply.card_text()
    finally:
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=20)[0]
    assert "TEAMS LOCAL MODE" in output and "WITHOUT authentication" in output
