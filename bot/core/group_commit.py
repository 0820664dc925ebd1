"""Group commits: the units of work that arrive together share one transaction and one commit.

On SQLite a commit is a dear part of a click (a WAL write), and the store has one connection, so
clicks queue for it anyway. While one batch runs, the clicks that arrive queue up; the next batch
runs them one after another in one transaction and commits once. Each caller is answered only
after that commit: nothing is acknowledged before it is durable.

Optimistic, because units rarely fail: a batch runs without savepoints. When a unit raises, the
whole transaction is rolled back and the batch runs again in a fresh one, each unit in a savepoint
of its own, so the failing unit alone is undone; its `recover` (if any) then runs in the same
transaction (e.g. to remember that a refused click was seen) and its result is the answer. When
the commit itself fails, every caller of the batch gets that error, and none of the batch happened.
Units must therefore only touch the database (they may run twice, the first run rolled back).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.store import Store

T = TypeVar("T")
Unit = Callable[[AsyncSession], Awaitable[Any]]
Recover = Callable[[AsyncSession, Exception], Awaitable[Any]]

MAX_BATCH = 64  # bounds how long the first click of a batch waits for the last one's work


@dataclass
class _Pending:
    unit: Unit
    recover: Recover | None
    future: asyncio.Future[Any] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class GroupCommit:
    """Runs units of work in shared transactions; `await run(unit)` returns after the commit."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._queue: list[_Pending] = []
        self._draining: asyncio.Task[None] | None = None
        # How many commits served how many units, and how many batches ran twice: for benchmarks
        # and tests.
        self.batches = 0
        self.units = 0
        self.reruns = 0

    async def run(self, unit: Callable[[AsyncSession], Awaitable[T]], recover: Recover | None = None) -> T:
        """`unit(session)`'s result once committed; if it raised, `recover(session, error)`'s."""
        pending = _Pending(unit, recover)
        self._queue.append(pending)
        if self._draining is None or self._draining.done():
            self._draining = asyncio.create_task(self._drain())
        return await pending.future  # type: ignore[no-any-return]

    async def _drain(self) -> None:
        batch: list[_Pending] = []
        try:
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                await self._commit_batch(batch)
        finally:  # stopped (cancelled at shutdown): nobody may wait forever for an answer
            for pending in [*batch, *self._queue]:
                if not pending.future.done():
                    pending.future.cancel()

    async def _commit_batch(self, batch: list[_Pending]) -> None:
        try:
            outcomes = await self._all_or_nothing(batch)
        except _UnitFailed:
            self.reruns += 1
            try:
                outcomes = await self._one_by_one(batch)
            except Exception as e:
                outcomes = [(False, e)] * len(batch)
        except Exception as e:  # the transaction failed: none of the batch happened
            outcomes = [(False, e)] * len(batch)
        else:
            self.batches += 1
            self.units += len(batch)
        for pending, (ok, value) in zip(batch, outcomes, strict=True):
            if pending.future.done():  # its caller gave up waiting (cancelled): the work stands
                continue
            if ok:
                pending.future.set_result(value)
            else:
                pending.future.set_exception(value)

    async def _all_or_nothing(self, batch: list[_Pending]) -> list[tuple[bool, Any]]:
        async with self.store.transaction() as session:
            results = []
            for pending in batch:
                try:
                    results.append((True, await pending.unit(session)))
                except Exception as e:
                    raise _UnitFailed from e
        return results

    async def _one_by_one(self, batch: list[_Pending]) -> list[tuple[bool, Any]]:
        outcomes: list[tuple[bool, Any]] = []
        async with self.store.transaction() as session:
            for pending in batch:
                try:
                    async with session.begin_nested():
                        outcomes.append((True, await pending.unit(session)))
                except Exception as e:
                    if pending.recover is None:
                        outcomes.append((False, e))
                        continue
                    try:
                        outcomes.append((True, await pending.recover(session, e)))
                    except Exception as again:
                        outcomes.append((False, again))
        self.batches += 1
        self.units += len(batch)
        return outcomes


class _UnitFailed(Exception):
    """A unit of an optimistic batch raised: the batch is rolled back and run unit by unit."""
