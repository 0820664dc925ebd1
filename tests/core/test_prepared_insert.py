"""The INSERTs every click runs (its event id, its activity row) skip SQLAlchemy's execution layer
on sqlite+inline: what they store must read back exactly as SQLAlchemy's own INSERT would have
stored it, a retried event must still be recognised, another process's write lock must still be
waited for, and the tables the caches watch (through engine events, which these statements skip)
are refused. Elsewhere (PostgreSQL, another SQLite driver) it is SQLAlchemy's own INSERT."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, insert, text
from sqlalchemy.exc import CompileError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app.bootstrap import App
from bot.core import sqlite_inline
from bot.core.engine import _remember_event
from bot.core.identity_cache import IdentityCache
from bot.core.inbound import Action, Inbound, Profile
from bot.core.models import Activity, Cohort, Identity, OutboxMessage, Person, ProcessedInbound
from bot.core.plan_cache import PlanCache
from bot.core.prepared_insert import PreparedInsert
from bot.core.store import Store, insert_for
from tests.core.sqlite_lock_support import longest_stall, write_lock_held

ACTIVITY = Activity.__table__  # type: ignore[attr-defined]
PROCESSED = ProcessedInbound.__table__  # type: ignore[attr-defined]
PARIS_WINTER = timezone(timedelta(hours=1))


def activity_row(kind: str) -> dict[str, Any]:
    return {
        "at": datetime(2027, 3, 1, 9, 30, 15, 123456, tzinfo=PARIS_WINTER),
        "cohort_id": None,
        "person_id": None,
        "actor_id": None,
        "kind": kind,
        "data": {"session": "s1", "note": "Zoë ✓ 日本", "n": 3, "nested": {"ok": True, "list": [1, None]}},
    }


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    opened = await Store.open(db_url, schema="create")
    yield opened
    await opened.close()


class SeenByEvents:
    """The statements SQLAlchemy's `after_cursor_execute` listeners (the caches) are told of."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.statements: list[str] = []
        event.listen(engine.sync_engine, "after_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(statement)

    def inserts_into(self, table: str) -> int:
        return sum(s.startswith(f"INSERT INTO {table}") for s in self.statements)


async def test_activity_rows_read_back_as_sqlalchemy_wrote_them(store: Store) -> None:
    seen = SeenByEvents(store.engine)
    async with store.transaction() as session:
        assert await PreparedInsert(insert(ACTIVITY)).run(session, activity_row("fast")) == 1
        await (await session.connection()).execute(insert(ACTIVITY), activity_row("plain"))
    assert seen.inserts_into("activity") == 1  # the plain one: the fast one skipped the engine
    async with store.transaction() as session:
        fast, plain = (await session.exec(select(Activity).order_by(Activity.kind))).all()
        stored = (await session.execute(text("SELECT at, data FROM activity ORDER BY kind"))).all()
    assert fast.model_dump(exclude={"id", "kind"}) == plain.model_dump(exclude={"id", "kind"})
    assert fast.at == datetime(2027, 3, 1, 8, 30, 15, 123456, tzinfo=UTC) and fast.at.tzinfo == UTC
    assert fast.data == activity_row("")["data"]
    assert stored[0] == stored[1]  # the very same text in the database


async def test_event_ids_read_back_as_sqlalchemy_wrote_them(store: Store) -> None:
    at = datetime(2027, 3, 1, 9, 0, 0, 5, tzinfo=PARIS_WINTER)
    async with store.transaction() as session:
        assert await _remember_event("sqlite").run(session, {"key": "fast", "at": at}) == 1
        await (await session.connection()).execute(insert(PROCESSED), {"key": "plain", "at": at})
    async with store.transaction() as session:
        fast, plain = (await session.exec(select(ProcessedInbound).order_by(ProcessedInbound.key))).all()
        stored = (await session.execute(text("SELECT at FROM processed_inbound ORDER BY key"))).all()
    assert fast.at == plain.at == at.astimezone(UTC) and fast.at.tzinfo == UTC
    assert stored[0] == stored[1]


async def test_a_retried_key_is_seen_before(store: Store) -> None:
    remember = _remember_event("sqlite")
    row = {"key": "slack:Ev1", "at": datetime(2027, 3, 1, tzinfo=UTC)}
    async with store.transaction() as session:
        assert await remember.run(session, row) == 1
        assert await remember.run(session, row) == 0  # in the same transaction
    async with store.transaction() as session:
        assert await remember.run(session, row) == 0  # and once committed
        assert await remember.run(session, {**row, "key": "slack:Ev2"}) == 1


async def test_a_retried_click_is_not_run_again(app: App) -> None:
    click = Inbound(
        sender=Profile("console", "", "ana", "ana"), action=Action("no.such.button", ""), dedupe_key="k1"
    )
    assert await app.engine.handle(click) is not None
    assert await app.engine.handle(click) is None


async def test_a_rolled_back_savepoint_or_transaction_takes_its_rows_with_it(
    store: Store, db_url: str
) -> None:
    """What group commits rely on to undo one failing click of a batch, or the whole batch."""
    prepared = PreparedInsert(insert(ACTIVITY))
    with pytest.raises(RuntimeError):
        async with store.transaction() as session:
            await prepared.run(session, activity_row("kept"))
            with pytest.raises(RuntimeError):
                async with session.begin_nested():
                    await prepared.run(session, activity_row("undone with its savepoint"))
                    raise RuntimeError("one click failed")
            with closing(sqlite3.connect(db_url.removeprefix("sqlite:///"))) as reader:
                assert reader.execute("SELECT kind FROM activity").fetchall() == []  # not committed yet
            await prepared.run(session, activity_row("kept too"))
            kinds = (await session.exec(select(Activity.kind).order_by(Activity.id))).all()
            assert kinds == ["kept", "kept too"]
            raise RuntimeError("the whole batch failed")
    async with store.transaction() as session:
        assert (await session.exec(select(Activity.kind))).all() == []


@pytest.fixture
async def autocommit_engine(store: Store, db_url: str) -> AsyncIterator[AsyncEngine]:
    """sqlite+inline without the store's BEGIN IMMEDIATE: the INSERT itself must take the write
    lock, so it is the INSERT that meets another process's lock."""
    engine = create_async_engine(db_url.replace("sqlite://", "sqlite+inline://"), pool_size=1, max_overflow=0)

    @event.listens_for(engine.sync_engine, "connect")
    def _autocommit(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        dbapi_conn.cursor().execute(f"PRAGMA busy_timeout={sqlite_inline.BUSY_TIMEOUT_MS}")

    yield engine
    await engine.dispose()


async def _insert_event(engine: AsyncEngine, key: str) -> int:
    async with AsyncSession(engine) as session, session.begin():
        return await _remember_event("sqlite").run(session, {"key": key, "at": datetime.now(UTC)})


async def test_a_locked_database_is_waited_for_off_the_loop(
    autocommit_engine: AsyncEngine, db_url: str
) -> None:
    with write_lock_held(Path(db_url.removeprefix("sqlite:///")), 1.5):
        started = time.perf_counter()
        work = asyncio.create_task(_insert_event(autocommit_engine, "k1"))
        stall = await longest_stall(work)
        inserted, took = await work, time.perf_counter() - started
    assert inserted == 1
    assert took > 1.0  # it did wait for the other process
    assert stall < 0.5, f"the event loop froze for {stall:.2f} s"
    assert await _insert_event(autocommit_engine, "k1") == 0


async def test_a_lock_held_too_long_fails_as_sqlalchemy_would(
    autocommit_engine: AsyncEngine, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_inline, "BUSY_WAIT", 0.3)
    db = Path(db_url.removeprefix("sqlite:///"))
    with write_lock_held(db, 1.5), pytest.raises(OperationalError) as failed:  # Engine: "I'm busy"
        await _insert_event(autocommit_engine, "k1")
    assert isinstance(failed.value.orig, sqlite_inline.DatabaseBusy)
    assert await _insert_event(autocommit_engine, "k1") == 1


@pytest.mark.parametrize("table", [Person, Identity, Cohort])
def test_tables_the_caches_watch_are_refused(table: Any) -> None:
    with pytest.raises(ValueError, match="refuses table"):
        PreparedInsert(insert(table.__table__))


def test_only_the_caches_listen_to_statements(app: App) -> None:
    """The refusal above covers the caches' listeners: a new one must decide what it needs to see
    (PreparedInsert's statements skip it) before this test is updated."""
    listeners = app.store.engine.sync_engine.dispatch.after_cursor_execute
    assert sorted(type(fn.__self__).__name__ for fn in listeners) == [  # type: ignore[attr-defined]
        IdentityCache.__name__,
        PlanCache.__name__,
    ]


async def test_statements_needing_the_execution_layer_are_refused(store: Store) -> None:
    async with store.transaction() as session:
        with pytest.raises(ValueError, match="cannot run"):
            await PreparedInsert(insert(ACTIVITY).returning(ACTIVITY.c.id)).run(session, activity_row("r"))
        with pytest.raises(CompileError, match="Unconsumed column names: colour"):
            await PreparedInsert(insert(ACTIVITY)).run(session, {**activity_row("c"), "colour": "red"})


async def _falls_back_to_sqlalchemy(store: Store) -> None:
    """Elsewhere than sqlite+inline: SQLAlchemy's own INSERT (the caches' listeners see it)."""
    seen = SeenByEvents(store.engine)
    remember = _remember_event(store.engine.dialect.name)
    row = {"key": "k1", "at": datetime(2027, 3, 1, 9, 0, tzinfo=PARIS_WINTER)}
    async with store.transaction() as session:
        assert await remember.run(session, row) == 1
        assert await PreparedInsert(insert(ACTIVITY)).run(session, activity_row("fallback")) == 1
    async with store.transaction() as session:
        assert await remember.run(session, row) == 0
        logged = (await session.exec(select(Activity))).one()
    assert seen.inserts_into("processed_inbound") == 2 and seen.inserts_into("activity") == 1
    assert logged.at == datetime(2027, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
    assert logged.data == activity_row("")["data"]


async def test_postgresql_falls_back_to_sqlalchemy(postgres_url: str) -> None:
    store = await Store.open(postgres_url, schema="create")
    try:
        await _falls_back_to_sqlalchemy(store)
    finally:
        await store.close()


async def test_another_sqlite_driver_falls_back_to_sqlalchemy(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'aio.db'}", schema="create")
    try:
        await _falls_back_to_sqlalchemy(store)
    finally:
        await store.close()


def outbox_row(key: str) -> dict[str, Any]:
    at = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    return {  # every column with a Python-side default given, as a held reply gives them
        "key": key,
        "kind": "reply",
        "platform": "slack",
        "workspace": "T1",
        "address": "U1",
        "payload": {"summary": "hi"},
        "status": "sending",
        "priority": 0,
        "attempts": 0,
        "next_attempt_at": at,
        "created_at": at,
    }


async def _new_ids(store: Store) -> None:
    """`run_for_id`: the new row's id (what a held reply is sent and recorded by), None for a key
    already there."""
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    dialect = store.engine.dialect.name
    held = PreparedInsert(insert_for(dialect)(table).on_conflict_do_nothing(index_elements=["key"]))
    async with store.transaction() as session:
        first = await held.run_for_id(session, outbox_row("answer:a"))
        again = await held.run_for_id(session, outbox_row("answer:a"))
        second = await held.run_for_id(session, outbox_row("answer:b"))
    async with store.transaction() as session:
        stored = {m.key: m.id for m in (await session.exec(select(OutboxMessage))).all()}
    assert again is None
    assert stored == {"answer:a": first, "answer:b": second} and first != second


async def test_new_ids_on_sqlite(store: Store) -> None:
    await _new_ids(store)


async def test_new_ids_on_postgresql(postgres_url: str) -> None:
    store = await Store.open(postgres_url, schema="create")
    try:
        await _new_ids(store)
    finally:
        await store.close()
