"""The store: database URLs, UTC round trips, and transactions that roll back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlmodel import select

from bot.app.bootstrap import App
from bot.core.models import Person
from bot.core.store import async_url


def test_plain_database_urls_get_their_async_driver() -> None:
    assert async_url("sqlite:///cohortbot.db") == "sqlite+inline:///cohortbot.db"
    assert async_url("postgresql://u:p@db:5432/cb") == "postgresql+asyncpg://u:p@db:5432/cb"
    assert async_url("postgresql+asyncpg://u:p@db/cb") == "postgresql+asyncpg://u:p@db/cb"


async def test_times_come_back_aware_and_in_utc(app: App) -> None:
    paris_winter = timezone(timedelta(hours=1))
    async with app.store.transaction() as session:
        session.add(Person(display_name="ana", created_at=datetime(2027, 3, 1, 9, 0, tzinfo=paris_winter)))
    async with app.store.transaction() as session:
        person = (await session.exec(select(Person))).one()
    assert person.created_at == datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    assert person.created_at.tzinfo is not None


async def test_naive_times_are_refused(app: App) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        async with app.store.transaction() as session:
            session.add(Person(display_name="ana", created_at=datetime(2027, 3, 1, 9, 0)))


async def test_a_failed_transaction_leaves_nothing(app: App) -> None:
    with pytest.raises(RuntimeError):
        async with app.store.transaction() as session:
            session.add(Person(display_name="ghost", created_at=datetime.now(UTC)))
            await session.flush()
            raise RuntimeError("boom")
    async with app.store.transaction() as session:
        assert (await session.exec(select(Person))).all() == []
