"""The layer rule, read from every module's imports (ast), so the tree keeps showing the architecture:

    bot/app  ──> adapters/*  ──┐
       │                       v
       └──> bot/capabilities ──> bot/core ──> schedules (pure)

- bot/core imports no capability, no adapter and no app module;
- a capability imports no adapter and no app module (nor another capability's internals, beyond
  their public modules: allowed, since capabilities cooperate through the registry and tables);
- an adapter imports no other adapter, no capability and no app module;
- schedules/ imports nothing from bot/ or adapters/.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def layer_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "bot" and len(parts) > 1 and parts[1] in {"core", "capabilities", "app", "migrations"}:
        return f"bot.{parts[1]}"
    if parts[0] == "adapters" and len(parts) > 1:
        return f"adapters.{parts[1]}"
    return parts[0]


def module_name(path: Path, root: Path = ROOT) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path = ROOT) -> set[str]:
    """Every module a file imports, absolute and relative, at any depth (function-level too)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    own = module_name(path, root)
    package = own if path.name == "__init__.py" else own.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in {"bot", "adapters", "schedules"}}


FORBIDDEN: dict[str, set[str]] = {
    "bot.core": {"bot.capabilities", "bot.app", "bot.migrations", "adapters"},
    "bot.capabilities": {"bot.app", "bot.migrations", "adapters"},
    "schedules": {"bot", "adapters"},
}


def violations(root: Path = ROOT) -> list[str]:
    found = []
    for folder in ("bot", "adapters", "schedules"):
        for path in sorted((root / folder).rglob("*.py")):
            if "versions" in path.parts:
                continue
            own = layer_of(module_name(path, root))
            for target in sorted(imports_of(path, root)):
                other = layer_of(target)
                banned = FORBIDDEN.get(own, set())
                if own.startswith("adapters."):
                    banned = {"bot.capabilities", "bot.app", "bot.migrations"} | {
                        a for a in ("adapters.slack", "adapters.teams", "adapters.console") if a != own
                    }
                if any(other == b or other.startswith(b + ".") for b in banned):
                    found.append(f"{path.relative_to(root)} imports {target} ({own} -> {other})")
    return found


def test_every_module_respects_the_layers() -> None:
    assert violations() == []


@pytest.mark.parametrize(
    ("layer", "source", "expected"),
    [
        ("bot/core/x.py", "from bot.capabilities.surveys import models\n", "bot.core -> bot.capabilities"),
        ("bot/core/x.py", "def f():\n    import adapters.slack.app\n", "bot.core -> adapters.slack"),
        ("bot/capabilities/x/y.py", "from adapters.teams import cards\n", "bot.capabilities -> adapters"),
        ("adapters/slack/x.py", "from adapters.teams.cards import render\n", "-> adapters.teams"),
        ("schedules/x.py", "from bot.core.models import Cohort\n", "schedules -> bot.core"),
    ],
)
def test_the_rule_catches_each_kind_of_breach(layer: str, source: str, expected: str, tmp_path: Path) -> None:
    """The checker itself can fail: a planted breach of each kind is reported."""
    planted = tmp_path / layer
    planted.parent.mkdir(parents=True)
    planted.write_text(source)
    assert any(expected in line for line in violations(tmp_path))
