"""The deployment files say what the code does: every setting in the example environments exists,
and the Dockerfile and systemd unit install from the lock and run the commands that exist."""

from __future__ import annotations

from pathlib import Path

import typer.main

from bot.app.cli import app
from bot.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_example_environments_use_only_real_settings() -> None:
    known = {name.upper() for name in Settings.model_fields}
    examples = sorted((ROOT / "deploy" / "env").glob("*.env"))
    assert len(examples) >= 4
    for example in examples:
        keys = [
            line.split("=", 1)[0]
            for line in example.read_text().splitlines()
            if "=" in line and not line.startswith("#")
        ]
        assert set(keys) <= known, f"{example.name}: {set(keys) - known} are not settings"
        Settings(_env_file=example)  # type: ignore[call-arg]  # and they parse


def test_install_and_service_use_the_lock_and_real_commands() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes" in dockerfile and "requirements.lock" in dockerfile
    unit = (ROOT / "deploy" / "cohortbot.service").read_text()
    commands = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    for text in (dockerfile, unit):
        assert "cohortbot db upgrade" in text and "cohortbot run" in text
    assert {"db", "run", "doctor"} <= commands
    assert "RestartPreventExitStatus=2" in unit  # a configuration error is not retried
