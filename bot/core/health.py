"""What `/healthz` reports: which parts of the process are not ready yet, and why.

Adapters add their network checks (a token check, a Socket Mode connection) as starters: the
process runs them once its HTTP server is up, so `/healthz` can answer 503 with the reason while
a platform is unreachable instead of refusing connections.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

Starter = Callable[[], Awaitable[None]]


class Health:
    def __init__(self) -> None:
        self._waiting: dict[str, str] = {"process": "starting"}
        self.starters: list[tuple[str, Starter]] = []

    def add_starter(self, component: str, starter: Starter) -> None:
        """Run `starter` once the HTTP server is up; `component` is not ready until it returns."""
        self.starters.append((component, starter))
        self.not_ready(component, "connecting")

    def not_ready(self, component: str, reason: str) -> None:
        self._waiting[component] = reason

    def ready(self, component: str) -> None:
        self._waiting.pop(component, None)

    @property
    def problems(self) -> dict[str, str]:
        return dict(self._waiting)

    @property
    def ok(self) -> bool:
        return not self._waiting


FIRST_RETRY = 1.0  # seconds before the second attempt; doubles up to MAX_RETRY
MAX_RETRY = 60.0


async def keep_trying(
    health: Health,
    component: str,
    attempt: Callable[[], Awaitable[None]],
    *,
    transient: tuple[type[Exception], ...],
    what: str,
    sleep: Callable[[float], Awaitable[object]] | None = None,
) -> None:
    """Run `attempt` until it succeeds, while it fails with a `transient` error (a platform out of
    reach): one warning line per attempt, no traceback, and `/healthz` saying why meanwhile. Any
    other error (a refused credential) goes up at once."""
    import asyncio
    import logging

    log = logging.getLogger(f"bot.health.{component}")
    pause = sleep or asyncio.sleep
    tries = 0
    while True:
        tries += 1
        try:
            await attempt()
            return
        except transient as e:
            delay = min(MAX_RETRY, FIRST_RETRY * 2 ** (tries - 1))
            reason = f"cannot reach {what} ({e})"
            health.not_ready(component, f"{reason}; retrying")
            log.warning("%s, attempt %d; retrying in %.0f s", reason, tries, delay)
            await pause(delay)
