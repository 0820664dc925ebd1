"""`cohortbot doctor`'s checks: each is one small async function that looks at one part of the
configuration and answers ✓ or ✗ with the fix. Anything may add one with `@check("name")`
(capabilities and adapters for their own settings); the command runs them in order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.settings import Settings


@dataclass(frozen=True)
class Finding:
    name: str
    ok: bool
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class Checkup:
    """What a check receives: the settings, and stand-ins or overrides (tests pass them here)."""

    settings: Settings
    options: Mapping[str, Any] = field(default_factory=dict)


CheckFunction = Callable[[Checkup], Awaitable[list[Finding]]]
CHECKS: list[tuple[str, CheckFunction]] = []


def check(name: str) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check (once per name, in import order)."""

    def register(fn: CheckFunction) -> CheckFunction:
        if all(existing != name for existing, _ in CHECKS):
            CHECKS.append((name, fn))
        return fn

    return register


def good(name: str, detail: str) -> list[Finding]:
    return [Finding(name, True, detail)]


def bad(name: str, detail: str, fix: str) -> list[Finding]:
    return [Finding(name, False, detail, fix)]


async def run(checkup: Checkup) -> list[Finding]:
    """Every registered check; one that crashes is a ✗ naming the error, never a traceback."""
    findings: list[Finding] = []
    for name, fn in CHECKS:
        try:
            findings += await fn(checkup)
        except Exception as e:
            findings += bad(name, f"the check itself failed: {type(e).__name__}: {e}", "report this as a bug")
    return findings


def render(findings: list[Finding]) -> str:
    lines = []
    for f in findings:
        lines.append(f"{'✓' if f.ok else '✗'} {f.name}: {f.detail}")
        if not f.ok and f.fix:
            lines.append(f"    fix: {f.fix}")
    failed = sum(not f.ok for f in findings)
    lines.append("all good" if not failed else f"{failed} problem{'s' if failed > 1 else ''} to fix")
    return "\n".join(lines)
