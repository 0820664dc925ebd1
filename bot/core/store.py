"""Database access: the async engine, one transaction per unit of work, and schema upgrades."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

import bot.core.sqlite_inline  # registers the sqlite+inline dialect
from bot.core.database_check import (
    DatabaseProblem,
    SchemaVersion,
    explain,
    require_current,
    schema_version,
)

MIGRATIONS_DIR = Path(__file__).parents[1] / "migrations"


def async_url(url: str) -> str:
    """Map a plain DATABASE_URL to its asyncio driver (sqlite -> inline, postgresql -> asyncpg)."""
    parsed = make_url(url)
    driver = {
        "sqlite": "sqlite+inline",
        "postgresql": "postgresql+asyncpg",
        "postgres": "postgresql+asyncpg",
    }
    name = parsed.drivername
    if name in driver:
        parsed = parsed.set(drivername=driver[name])
    return parsed.render_as_string(hide_password=False)


class Store:
    """Owns the database engine. Create one per process with `await Store.open(url)`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # What the schema was before `open` migrated it (None when it did not look): `db upgrade`
        # tells "created" from "upgraded" from "already up to date" with it.
        self.found: SchemaVersion | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @classmethod
    async def open(cls, url: str, *, schema: str = "migrate") -> Store:
        """Connect and bring the schema up to date.

        schema="migrate" runs the Alembic migrations (what the app does); "check" connects and
        refuses a schema that is not this code's (what one-off commands do); "create" creates
        tables straight from the models (fast, for tests); "none" touches nothing.
        A database that cannot be used raises `DatabaseProblem`, one line saying what to do.
        """
        target = async_url(url)
        if target.startswith("sqlite+inline"):
            # One connection: SQLite has one writer anyway, and waiting in its busy handler would
            # block the event loop (see bot/sqlite_inline.py).
            engine = create_async_engine(target, pool_size=1, max_overflow=0, pool_timeout=120)
        else:
            engine = create_async_engine(target)
        if engine.dialect.name == "sqlite":
            _tune_sqlite(engine)
        store = cls(engine)
        if schema in ("migrate", "check"):
            try:
                store.found = await schema_version(engine, url)
                if schema == "migrate":
                    if store.found.unknown:
                        require_current(store.found, url)  # written by a newer version: refuse
                    await store.upgrade()
                elif not (store.found.empty and store.found.tables > 0):  # tables from schema="create"
                    require_current(store.found, url)
            except BaseException:
                await engine.dispose()
                raise
        elif schema == "create":
            import_all_models()
            async with engine.begin() as conn:
                await conn.run_sync(SQLModel.metadata.create_all)
        return store

    async def upgrade(self, revision: str = "heads") -> None:
        try:
            async with self.engine.begin() as conn:
                await conn.run_sync(_run_alembic_upgrade, revision)
        except DatabaseProblem:
            raise
        except (OSError, SQLAlchemyError) as e:
            raise explain(e, self.engine.url.render_as_string(hide_password=True)) from None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on any error."""
        async with AsyncSession(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def session(self) -> AsyncSession:
        return AsyncSession(self.engine, expire_on_commit=False)

    async def close(self) -> None:
        await self.engine.dispose()


def insert_for(dialect: str) -> Any:
    """The INSERT construct with ON CONFLICT support for a dialect name ("sqlite" or "postgresql"):
    what idempotent writes (outbox keys, event ids, fired events, summaries) are built from."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def _tune_sqlite(engine: AsyncEngine) -> None:
    """WAL for concurrent readers, and BEGIN IMMEDIATE so writers queue instead of failing."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Short: SQLite's busy handler sleeps on the event loop; longer waits happen off it.
        cursor.execute(f"PRAGMA busy_timeout={bot.core.sqlite_inline.BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def import_all_models() -> None:
    """Import every module that declares tables, so SQLModel.metadata is complete."""
    from bot.core import registry

    registry.load_capabilities()


def alembic_config(connection: Connection | None = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _run_alembic_upgrade(connection: Connection, revision: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), revision)


def run(coro: Any) -> Any:
    """Run a coroutine from synchronous CLI code."""
    return asyncio.run(coro)
