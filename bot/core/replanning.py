"""Replanning at once: a transaction that adds, moves or cancels a session or module, or changes a
cohort (its programme, its status), tells the scheduler as it commits, instead of waiting for the
next resync.

Two signals, because the scheduler may run in another instance: the transaction bumps the
one-row `plan_version` (same commit, so it can never announce what did not happen), and, once
committed, wakes the scheduler of this process. The elected scheduler waits on the local wake-up
and reads the version every few seconds; the periodic resync stays as the safety net.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from bot.core.models import Cohort, LiveSession, Module

PLAN_TABLES: tuple[type, ...] = (Cohort, LiveSession, Module)  # what planners read
CHANGED = "plan_changed"  # flag in a session's `info` while its transaction is open

_listeners: list[Callable[[], None]] = []
_installed = False


def _touches_plan(session: Session, _context: Any, _instances: Any) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, PLAN_TABLES):
            if not session.info.get(CHANGED):
                session.info[CHANGED] = True
                _bump(session)
            return


def _bump(session: Session) -> None:
    # An upsert on the one row: readers compare the number, nobody waits on it for long.
    session.execute(
        text(
            "INSERT INTO plan_version (id, version) VALUES (1, 1) "
            "ON CONFLICT (id) DO UPDATE SET version = plan_version.version + 1"
        )
    )


def _after_commit(session: Session) -> None:
    if session.info.pop(CHANGED, False):
        for wake in list(_listeners):
            wake()


def _after_rollback(session: Session) -> None:
    session.info.pop(CHANGED, None)


def install() -> None:
    """Watch every ORM session for plan changes (once per process)."""
    global _installed
    if _installed:
        return
    event.listen(Session, "before_flush", _touches_plan)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_rollback", _after_rollback)
    _installed = True


class PlanWatch:
    """What the scheduler waits on: a local wake-up, or a new plan version seen in the database."""

    def __init__(self, read_version: Callable[[], Any]) -> None:
        self._read_version = read_version
        self._woken = asyncio.Event()
        self._seen: int | None = None
        install()
        _listeners.append(self._woken.set)

    async def changed(self, poll_seconds: float) -> bool:
        """True as soon as the plan changed here, or once another instance's change is seen."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._woken.wait(), timeout=poll_seconds)
        woken = self._woken.is_set()
        self._woken.clear()
        version = int(await self._read_version() or 0)
        moved = self._seen is not None and version != self._seen
        self._seen = version
        return woken or moved

    def close(self) -> None:
        if self._woken.set in _listeners:
            _listeners.remove(self._woken.set)
