"""`cohortbot run` refuses half a set of credentials instead of silently falling back to the console."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CREDENTIALS = (
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "MICROSOFT_APP_ID",
    "MICROSOFT_APP_PASSWORD",
    "TEAMS_LOCAL",
)


@pytest.mark.parametrize(
    "settings,expected",
    [
        ({"MICROSOFT_APP_ID": "00000000-0000-0000-0000-000000000001"}, "Teams needs MICROSOFT_APP_ID and"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "Slack needs SLACK_BOT_TOKEN and either SLACK_APP_TOKEN"),
        ({"SLACK_SIGNING_SECRET": "s"}, "Slack needs SLACK_BOT_TOKEN"),
    ],
)
def test_half_configured_platforms_stop_with_a_reason(
    tmp_path: Path, settings: dict[str, str], expected: str
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIALS}
    env.update(settings, DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}", PYTHONPATH=str(ROOT), PORT="0")
    done = subprocess.run(
        [sys.executable, "-m", "bot.app.cli", "run"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2
    assert expected in done.stderr.replace("\n", " ")
    assert "Traceback" not in done.stderr
