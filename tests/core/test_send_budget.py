"""The adaptive send budget: the ceiling until a 429, Retry-After honoured by every sender,
the rate lowered once per 429 and raised back slowly; shared by two instances on PostgreSQL."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.core.send_budget import (
    DECREASE,
    BudgetState,
    LocalRows,
    PostgresRows,
    SendBudget,
    adaptive_rate,
    refuse,
    take,
)
from bot.core.store import Store


def test_the_ceiling_paces_until_a_429() -> None:
    state, waited = BudgetState(), []
    now = 0.0
    for _ in range(5):
        state, grant = take(state, 4.0, 1, now)
        while grant.wait > 0:
            now += grant.wait
            waited.append(round(grant.wait, 3))
            state, grant = take(state, 4.0, 1, now)
    assert waited == [0.25, 0.25, 0.25, 0.25]


def test_a_429_pauses_for_retry_after_and_lowers_the_rate_once() -> None:
    state = refuse(BudgetState(), 10.0, now=100.0, retry_after=2.0)
    assert take(state, 10.0, 1, 101.0)[1].wait == pytest.approx(1.0)  # nobody sends during the pause
    assert adaptive_rate(10.0, state, 102.0) == pytest.approx(10.0 * DECREASE, rel=0.01)
    again = refuse(state, 10.0, now=100.5, retry_after=2.0)  # another send in flight at the time
    assert again.limited_rate == state.limited_rate


def test_the_rate_creeps_back_and_a_second_429_teaches_the_limit() -> None:
    first = refuse(BudgetState(), 10.0, now=0.0, retry_after=1.0)
    assert adaptive_rate(10.0, first, 0.0) == pytest.approx(9.0)
    assert 9.0 < adaptive_rate(10.0, first, 60.0) < 9.6  # slow probing: about +6% a minute
    second = refuse(first, 10.0, now=60.0, retry_after=1.0)
    refused = adaptive_rate(10.0, first, 60.0)
    assert adaptive_rate(10.0, second, 60.0) == pytest.approx(0.9 * refused)
    assert adaptive_rate(10.0, second, 62.0) == pytest.approx(0.95 * refused, rel=0.01)  # quick regain


async def test_local_budget_paces_concurrent_senders() -> None:
    budget = SendBudget(LocalRows())
    started = time.monotonic()
    await asyncio.gather(*(budget.acquire("slack:T1", 20.0) for _ in range(11)))
    assert time.monotonic() - started == pytest.approx(0.5, abs=0.1)


async def test_two_instances_on_postgresql_share_one_budget(postgres_url: str) -> None:
    stores = [await Store.open(postgres_url, schema="migrate")]
    stores.append(await Store.open(postgres_url, schema="none"))
    budgets = [SendBudget(PostgresRows(store)) for store in stores]
    try:
        started = time.monotonic()
        await asyncio.gather(*(b.acquire("slack:T1", 20.0) for b in budgets for _ in range(10)))
        took = time.monotonic() - started
        assert took >= 0.9  # 20 sends at 20/s between them, not 20/s each
        await budgets[0].refused("slack:T1", 20.0, retry_after=1.0)
        assert await budgets[1].rate("slack:T1", 20.0) == pytest.approx(18.0, rel=0.02)
    finally:
        for store in stores:
            await store.close()
