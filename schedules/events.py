"""What the scheduler drives: a planned event, and the small interface of whoever plans and fires them.

`schedules/` is pure: it imports nothing from the engine. The engine's `EventRunner`
(bot/core/scheduling.py) implements `EventSource`; the APScheduler runner only needs these calls.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol


@dataclass(frozen=True)
class PlannedEvent:
    """One thing to do at one moment, e.g. "remind cohort 3 of session 12, 1 day before"."""

    key: str  # stable and unique: the same event always gets the same key
    kind: str  # selects the handler registered with @on_event(kind)
    due_at: datetime
    cohort_id: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    grace: timedelta = timedelta(hours=1)  # how late it may still fire after a downtime
    # How many time-critical messages it fans out (0: none, or not time-critical): the engine
    # fires it early enough that the last of them can be sent by `due_at` at the platform's rate.
    audience: int = 0


class EventSource(Protocol):
    """Plans events from stored data and fires each exactly once (the engine implements this)."""

    async def pending(self) -> list[PlannedEvent]: ...

    async def pending_event(self, key: str, cohort_id: int | None) -> PlannedEvent | None: ...

    async def fire(self, event: PlannedEvent) -> str: ...

    async def plan_changed(self, poll_seconds: float) -> bool:
        """Wait up to `poll_seconds`; True if a write changed what is planned (replan now)."""
        ...

    def election(self, retry_seconds: float) -> AbstractAsyncContextManager[None]:
        """Entered once this process may run the scheduler (one per database); left on stop."""
        ...
