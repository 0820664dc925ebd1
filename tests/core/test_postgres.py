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


async def test_a_refused_command_changes_nothing_and_is_not_rerun_on_postgresql(
    postgres_url: str, clock: SimulatedClock, sender: RecordingSender
) -> None:
    from sqlmodel import func, select

    from bot.core.inbound import Inbound, Profile
    from bot.core.models import Person, ProcessedInbound

    app = await build(Settings(database_url=postgres_url), {"console": sender}, clock)
    retried = Inbound(
        sender=Profile("console", "", "stranger", "stranger"), text="status nowhere", dedupe_key="k1"
    )
    try:
        first = await app.engine.handle(retried)
        assert first is not None and "There is no cohort 'nowhere'" in first.message.summary
        assert await app.engine.handle(retried) is None  # the retry is recognised, not run again
        async with app.store.transaction() as session:
            # Refused: not even the caller's profile was kept; only the event id was.
            assert (await session.exec(select(func.count()).select_from(Person))).one() == 0
            assert (await session.exec(select(ProcessedInbound.key))).all() == ["k1"]
    finally:
        await app.close()
