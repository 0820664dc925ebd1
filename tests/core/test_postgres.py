"""The same engine on PostgreSQL: migrations, a command flow, and the outbox."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from bot.app.bootstrap import build
from bot.app.plugins import load_all
from bot.core.clock import SimulatedClock
from bot.core.settings import Settings
from bot.core.store import Store
from tests.conftest import Chat, RecordingSender


async def test_migrations_build_the_models_on_postgresql(postgres_url: str) -> None:
    store = await Store.open(postgres_url, schema="migrate")
    load_all()

    def diff(connection):  # type: ignore[no-untyped-def]
        return compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)

    async with store.engine.connect() as conn:
        differences = await conn.run_sync(diff)
    await store.close()
    assert differences == []


async def test_a_cohort_flow_and_its_outbox_on_postgresql(
    postgres_url: str, clock: SimulatedClock, sender: RecordingSender
) -> None:
    app = await build(Settings(database_url=postgres_url), {"console": sender}, clock)
    try:
        chat = Chat(app)
        assert "Created cohort" in await chat.say("tina", "create spoc tz=Europe/Paris")
        assert "Enrolled 2" in await chat.say("tina", "enroll spoc alice bob")
        assert "already enrolled" in await chat.say("tina", "enroll spoc alice")
        await app.worker.drain()
        assert sorted(t.address for t, _ in sender.sent) == ["alice", "bob"]
        await app.worker.drain()
        assert len(sender.sent) == 2  # delivered once
    finally:
        await app.close()
