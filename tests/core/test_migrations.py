"""The Alembic migrations build exactly the schema the models describe, on a fresh SQLite file."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from bot.app.plugins import load_all
from bot.core.store import Store


async def test_fresh_database_upgrades_to_the_models(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'fresh.db'}", schema="migrate")
    load_all()

    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return compare_metadata(context, SQLModel.metadata)

    async with store.engine.connect() as conn:
        differences = await conn.run_sync(diff)
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    await store.close()
    assert differences == []
    assert {"person", "identity", "cohort", "enrolment", "outbox", "activity"} <= tables


async def test_upgrade_twice_is_harmless(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twice.db'}"
    for _ in range(2):
        store = await Store.open(url, schema="migrate")
        await store.close()
