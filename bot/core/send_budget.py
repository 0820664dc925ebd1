"""A workspace's (or tenant's) send budget: an adaptive rate, paced as GCRA, kept in memory or in
one PostgreSQL row per workspace so that several instances share it instead of doubling it.

The state of a budget is four numbers: the theoretical arrival time of the next send (GCRA), the
rate set by the platform's last 429, the rate to regain quickly after it, and when it happened.
The rate in force is a pure function of those (`adaptive_rate`): the ceiling until a 429, then
90% of the refused rate, then probed upwards slowly (additive increase, multiplicative decrease).
After a second 429 the refused rate is known to be near the real limit: the rate is regained
quickly up to 95% of it before probing again. A first 429 at the ceiling says only that the
ceiling is too high, so it gets no quick regain (that would just meet a second 429).
No reservation is made ahead of time: a send takes a slot only when the slot is due, so a 429's
pause holds back every sender at once, in every instance.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa

from bot.core.models import SendBudgetRow
from bot.core.store import Store

DECREASE = 0.9  # a 429 sets the rate to 90% of the refused one
RECOVER = 0.95  # after a second 429, regained quickly up to 95% of the refused rate...
FAST = 0.05  # ...at 5% of the rate per second,
PROBE = 0.001  # then probed upwards by 0.1% per second (about +6% a minute)
FLOOR = 0.2  # never slower than one send every 5 s


@dataclass(frozen=True)
class BudgetState:
    tat: float = 0.0
    limited_rate: float | None = None  # the rate right after the last 429 (None: never limited)
    knee: float = 0.0  # regained quickly up to this rate, then probed slowly
    limited_at: float = 0.0


def adaptive_rate(ceiling: float, state: BudgetState, now: float) -> float:
    """Sends per second allowed now: the ceiling, or what is regained since the last 429."""
    if state.limited_rate is None:
        return ceiling
    elapsed = max(0.0, now - state.limited_at)
    start = state.limited_rate
    knee = max(start, state.knee)
    to_knee = (knee / start - 1.0) / FAST
    regained = start * (1.0 + FAST * elapsed)
    probed = knee * (1.0 + PROBE * (elapsed - to_knee))
    return max(FLOOR, min(ceiling, regained if elapsed < to_knee else probed))


@dataclass(frozen=True)
class Grant:
    """Either a wait (no slot yet), or `count` slots from now, `interval` seconds apart."""

    wait: float = 0.0
    count: int = 0
    interval: float = 0.0


def take(
    state: BudgetState, ceiling: float, burst: int, now: float, block_seconds: float = 0.0
) -> tuple[BudgetState, Grant]:
    """GCRA: take the slots of the next `block_seconds` (at least one) if a slot is due, or say how
    long until one is (state unchanged)."""
    interval = 1.0 / adaptive_rate(ceiling, state, now)
    tolerance = max(0, burst - 1) * interval
    wait = state.tat - tolerance - now
    if wait > 0:
        return state, Grant(wait=wait)
    count = max(1, int(block_seconds / interval))
    tat = max(state.tat, now) + count * interval
    return BudgetState(tat, state.limited_rate, state.knee, state.limited_at), Grant(0.0, count, interval)


def refuse(state: BudgetState, ceiling: float, now: float, retry_after: float) -> BudgetState:
    """The platform answered 429: pause everyone for Retry-After and lower the rate, once per pause
    (the other sends already in flight when it happened do not lower it again)."""
    paused_until = max(state.tat, now + retry_after)
    if state.limited_rate is not None and now - state.limited_at < retry_after:
        return BudgetState(paused_until, state.limited_rate, state.knee, state.limited_at)
    refused_rate = adaptive_rate(ceiling, state, now)
    knee = RECOVER * refused_rate if state.limited_rate is not None else 0.0
    return BudgetState(paused_until, DECREASE * refused_rate, knee, now)


Change = Callable[[BudgetState, float], tuple[BudgetState, Any]]


class BudgetRows(Protocol):
    """Where budget states live; `change` applies a pure change atomically, with the rows' clock."""

    # Slots taken per visit, in seconds of sending: a database round trip per send would cap
    # the rate, while a tenth of a second reserved ahead is harmless.
    block_seconds: float

    async def change(self, key: str, apply: Change) -> Any: ...


class LocalRows:
    """One process's budgets, in memory."""

    block_seconds = 0.0  # in memory: one slot at a time costs nothing

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.states: dict[str, BudgetState] = {}

    async def change(self, key: str, apply: Change) -> Any:
        state, result = apply(self.states.get(key, BudgetState()), self.clock())
        self.states[key] = state
        return result


BUDGET = SendBudgetRow.__table__  # type: ignore[attr-defined]


class PostgresRows:
    """Budgets shared by every instance on one PostgreSQL: each change locks the workspace's row,
    reads the database's clock (one clock for all instances) and writes the new state back."""

    block_seconds = 0.1

    def __init__(self, store: Store) -> None:
        self.store = store
        self._known: set[str] = set()

    async def change(self, key: str, apply: Change) -> Any:
        async with self.store.engine.begin() as conn:
            if key not in self._known:
                await conn.execute(
                    sa.text(
                        "INSERT INTO send_budget (key, tat, knee, limited_at) VALUES (:k, 0, 0, 0) "
                        "ON CONFLICT DO NOTHING"
                    ),
                    {"k": key},
                )
                self._known.add(key)
            row = (
                await conn.execute(
                    sa.text(
                        "SELECT tat, limited_rate, knee, limited_at, extract(epoch from clock_timestamp()) "
                        "FROM send_budget WHERE key = :k FOR UPDATE"
                    ),
                    {"k": key},
                )
            ).one()
            limited = None if row[1] is None else float(row[1])
            before = BudgetState(float(row[0]), limited, float(row[2]), float(row[3]))
            after, result = apply(before, float(row[4]))
            if after != before:
                await conn.execute(
                    BUDGET.update()
                    .where(BUDGET.c.key == key)
                    .values(
                        tat=after.tat,
                        limited_rate=after.limited_rate,
                        knee=after.knee,
                        limited_at=after.limited_at,
                    )
                )
        return result


class SendBudget:
    """Paces sends per workspace to an adaptive rate under `ceiling`; shared when its rows are."""

    def __init__(
        self,
        rows: BudgetRows,
        *,
        sleep: Callable[[float], Awaitable[object]] | None = None,
    ) -> None:
        self.rows = rows
        self._sleep = sleep
        self._turns: dict[str, asyncio.Lock] = {}
        self._slots: dict[str, deque[float]] = {}  # granted slots not used yet (time.monotonic)

    async def acquire(self, key: str, ceiling: float, burst: int = 1) -> None:
        """Return once a send in `key` is within its budget (the slot is taken)."""
        if ceiling <= 0:
            return  # pacing off
        sleep = self._sleep or asyncio.sleep
        block = self.rows.block_seconds
        # One waiter per key in this process asks the rows; the others queue behind it locally.
        turn = self._turns.setdefault(key, asyncio.Lock())
        async with turn:
            slots = self._slots.setdefault(key, deque())
            while not slots:
                grant = await self.rows.change(key, lambda s, now: take(s, ceiling, burst, now, block))
                if grant.wait > 0:
                    await sleep(grant.wait)
                elif grant.count == 1:
                    return  # the slot is now
                else:
                    start = time.monotonic()
                    slots.extend(start + i * grant.interval for i in range(grant.count))
            delay = slots.popleft() - time.monotonic()
            if delay > 0:
                await sleep(delay)

    async def refused(self, key: str, ceiling: float, retry_after: float) -> None:
        """The platform said 429 with this Retry-After: pause the key and lower its rate."""

        def apply(state: BudgetState, now: float) -> tuple[BudgetState, float]:
            return refuse(state, ceiling, now, retry_after), 0.0

        self._slots.get(key, deque()).clear()  # slots granted before the 429 wait out its pause
        await self.rows.change(key, apply)

    async def rate(self, key: str, ceiling: float) -> float:
        """The rate in force now for `key` (what a deadline planner should count on)."""
        return await self.rows.change(key, lambda s, now: (s, adaptive_rate(ceiling, s, now)))


def budget_for(store: Store) -> SendBudget:
    """Shared through the database on PostgreSQL (several instances); in memory on SQLite (one)."""
    return SendBudget(LocalRows() if store.is_sqlite else PostgresRows(store))
