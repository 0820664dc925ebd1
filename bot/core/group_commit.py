"""Group commits: the units of work that arrive together share one transaction and one commit.

On SQLite a commit is the dearest part of a click (a WAL write, ~0.3-0.5 ms here), and the store
has one connection, so clicks queue for it anyway. While one batch runs, the clicks that arrive
queue up; the next batch runs them one after another in one transaction and commits once. Each
caller is answered only after that commit: nothing is acknowledged before it is durable.

A unit that raises must leave the session as it found it (run its writes in a savepoint): its
exception goes to its own caller only, and the rest of the batch still commits. When the commit
itself fails, every caller of the batch gets that error, and none of the batch happened.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.store import Store

T = TypeVar("T")
Unit = Callable[[AsyncSession], Awaitable[Any]]

MAX_BATCH = 64  # bounds how long the first click of a batch waits for the last one's work


class GroupCommit:
    """Runs units of work in shared transactions; `await run(unit)` returns after the commit."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pending: list[tuple[Unit, asyncio.Future[Any]]] = []
        self._draining: asyncio.Task[None] | None = None
        self.batches = 0  # how many commits served how many units: for benchmarks and tests
        self.units = 0

    async def run(self, unit: Callable[[AsyncSession], Awaitable[T]]) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append((unit, future))
        if self._draining is None or self._draining.done():
            self._draining = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            outcomes: list[tuple[asyncio.Future[Any], bool, Any]] = []
            try:
                async with self.store.transaction() as session:
                    for unit, future in batch:
                        try:
                            outcomes.append((future, True, await unit(session)))
                        except Exception as e:  # that unit's own failure: the others carry on
                            outcomes.append((future, False, e))
            except Exception as e:  # the transaction failed: none of the batch happened
                for _unit, future in batch:
                    if not future.done():
                        future.set_exception(e)
                continue
            self.batches += 1
            self.units += len(batch)
            for future, ok, value in outcomes:
                if future.done():  # its caller gave up waiting (cancelled): the work stands
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
