"""The README documents every interface users rely on: each verb, each setting, each CLI command."""

from __future__ import annotations

from pathlib import Path

import typer.main

from bot.app.cli import app
from bot.core.registry import VERBS, load_capabilities
from bot.core.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_verb_is_in_the_command_reference() -> None:
    load_capabilities()
    missing = [v.name for v in VERBS.values() if f"| `{v.usage.replace('|', chr(92) + '|')}` |" not in README]
    assert missing == []


def test_every_setting_is_documented() -> None:
    undocumented = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in README]
    assert undocumented == []


def test_every_cli_command_is_documented() -> None:
    group = typer.main.get_command(app)
    names = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        subcommands = getattr(command, "commands", None)
        names += [f"cohortbot {name} {sub}" for sub in subcommands] if subcommands else [f"cohortbot {name}"]
    assert [n for n in names if f"`{n}" not in README] == []
