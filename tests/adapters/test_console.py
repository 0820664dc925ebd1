"""The console adapter driven through a pipe, as a user scripts it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_console(tmp_path: Path, script: str) -> str:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'console.db'}", "PYTHONPATH": str(ROOT)}
    for key in (
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_SIGNING_SECRET",
        "MICROSOFT_APP_ID",
        "TEAMS_LOCAL",
    ):
        env.pop(key, None)
    done = subprocess.run(
        [sys.executable, "-m", "bot.app.cli", "run"],
        input=script,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_scripted_console_session(tmp_path: Path) -> None:
    out = run_console(
        tmp_path,
        "\n".join(
            [
                "# a trainer sets up a cohort",
                "as tina: create spoc tz=Europe/Paris",
                "as tina: /cohort enroll spoc alice bob team=blue",
                'session spoc "Kick-off" 2027-03-02 09:30 90m',
                "as alice: stauts",
                "as alice: status spoc",
                "as alice: press 7",
                "as bob: help enroll",
                "quit",
                "as tina: list",
            ]
        ),
    )
    assert "Created cohort *spoc* (time zone Europe/Paris)" in out
    assert "── to alice (DM) ──\nWelcome to *spoc*!" in out
    assert "── to bob (DM) ──" in out
    # Spoken as tina still; with its year unless the machine's clock is in 2027 too.
    assert re.search(
        r"Session \*Kick-off\* added to \*spoc\*: Tue 2 Mar (2027, )?09:30 \(Europe/Paris\)", out
    )
    assert "Unknown command 'stauts'.\nDid you mean: `status`" in out
    assert "Next session : Kick-off, Tue 2 Mar 09:30 (Europe/Paris)" in out
    assert "alice has no button 7" in out
    assert "Usage   : `enroll <cohort> <people...> [team=<name>]`" in out
    assert "Your cohorts" not in out  # nothing after quit


def test_the_console_explains_itself_when_no_speaker_is_given(tmp_path: Path) -> None:
    out = run_console(tmp_path, "status\n")
    assert "Type `as <name>: <command>`" in out


def test_the_database_persists_between_runs(tmp_path: Path) -> None:
    run_console(tmp_path, "as tina: create spoc\nas tina: enroll spoc alice\n")
    out = run_console(tmp_path, "as alice: list\n")
    assert "*spoc*: learner" in out


def test_buttons_keep_their_numbers_after_a_restart(tmp_path: Path) -> None:
    from datetime import date, timedelta

    until = (date.today() + timedelta(days=20)).isoformat()
    first = run_console(
        tmp_path,
        "\n".join(
            [
                "as tina: create spoc tz=Europe/Paris",
                "as tina: enroll spoc alice",
                f'as tina: challenge spoc quiz "Which port does HTTPS use?" *443 80 until={until}T18:00',
                "quit",
            ]
        ),
    )
    shown = re.search(r"\[(\d+)\] 443", first)
    assert shown, first
    # A new `cohortbot run` on the same database: alice presses the number she was shown.
    second = run_console(tmp_path, f"as alice: press {shown.group(1)}\nquit")
    assert "has no button" not in second
    assert "443" in second, second
