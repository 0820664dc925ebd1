"""An INSERT compiled once per dialect and run with the least overhead: for the rows every click
writes (its event id, its activity row).

Through SQLAlchemy's `AsyncConnection.execute` such an INSERT costs ~60 µs of CPU, most of it the
execution layer (statement cache lookup, execution context, result object), not SQLite. On
`sqlite+inline` a `PreparedInsert` compiles the statement once, converts the row's values with
SQLAlchemy's own bind processors (so the stored values are the same to the byte: DateTime strings,
JSON text) and runs it on the sqlite3 connection of the session's transaction, through
`sqlite_inline._patiently` (so another process's write lock is still waited for off the loop, and a
lock held too long is still `DatabaseBusy`, wrapped as SQLAlchemy would wrap it). On any other
dialect (PostgreSQL) it is `connection.execute(statement, row)`.

Caveat: statements run this way are invisible to SQLAlchemy's engine events
(`before/after_cursor_execute`) and to its echo logging. The identity and plan caches learn of
writes through `after_cursor_execute` (identity_cache.py, plan_cache.py), so a table either of them
watches is refused when the PreparedInsert is built (ValueError): only tables the plan cache lists
as never read by planners (`NOT_PLAN_INPUTS`) and the identity cache does not watch
(`WATCHED_TABLES`) are allowed. Statements needing the execution layer (RETURNING, Python-side
column defaults, values beyond the row's own columns) are refused too.
"""

from __future__ import annotations

import functools
import sqlite3
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import CompileError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core import sqlite_inline
from bot.core.identity_cache import WATCHED_TABLES
from bot.core.plan_cache import NOT_PLAN_INPUTS


@dataclass(frozen=True)
class _Compiled:
    """The SQL text and, in bind order, each value's key and SQLAlchemy bind processor."""

    sql: str
    binds: tuple[tuple[str, Callable[[Any], Any] | None], ...]


class PreparedInsert:
    """An INSERT into a table no cache watches, run by `await prepared.run(session, row)`."""

    def __init__(self, statement: Insert) -> None:
        table = statement.table
        name = getattr(table, "name", None)
        if name is None or name not in NOT_PLAN_INPUTS or name in WATCHED_TABLES:
            raise ValueError(
                f"PreparedInsert refuses table {name!r}: its writes are not seen by engine events, "
                "and the plan or identity cache watches this table (see prepared_insert.py)"
            )
        self.statement = statement
        self._columns = frozenset(table.c.keys())
        # dialect -> the row's keys -> compiled; weak, so a closed engine's dialect is let go
        self._compiled: weakref.WeakKeyDictionary[Dialect, dict[tuple[str, ...], _Compiled]] = (
            weakref.WeakKeyDictionary()
        )

    @functools.cached_property
    def _returning_id(self) -> Insert:
        """The statement with RETURNING id, built once (elsewhere than SQLite, where it runs)."""
        return self.statement.returning(self.statement.table.c.id)  # type: ignore[attr-defined]

    async def run(self, session: AsyncSession, row: Mapping[str, Any]) -> int:
        """Insert `row` (column key -> value) in the session's transaction; returns the rowcount
        (0 when ON CONFLICT DO NOTHING found the key already there)."""
        connection = await session.connection()  # begins the transaction (or savepoint) if need be
        if not isinstance(connection.dialect, sqlite_inline.InlineSQLiteDialect):
            return (await connection.execute(self.statement, dict(row))).rowcount
        return int((await self._on_sqlite(connection, row)).rowcount)

    async def run_for_id(self, session: AsyncSession, row: Mapping[str, Any]) -> int | None:
        """Insert `row` and return the new row's `id`; None when ON CONFLICT DO NOTHING found the
        key already there."""
        connection = await session.connection()
        if not isinstance(connection.dialect, sqlite_inline.InlineSQLiteDialect):
            found = (await connection.execute(self._returning_id, dict(row))).scalar()
            return None if found is None else int(found)
        cursor = await self._on_sqlite(connection, row)
        return int(cursor.lastrowid) if cursor.rowcount == 1 and cursor.lastrowid is not None else None

    async def _on_sqlite(self, connection: AsyncConnection, row: Mapping[str, Any]) -> sqlite3.Cursor:
        dialect = connection.dialect
        compiled = self._compiled_for(dialect, tuple(row))
        params = [row[key] if process is None else process(row[key]) for key, process in compiled.binds]
        sync = connection.sync_connection
        assert sync is not None  # an open connection: session.connection() just returned it
        conn = sqlite_inline.sqlite3_connection(sync.connection.driver_connection)
        try:
            cursor = await sqlite_inline._patiently(lambda: conn.execute(compiled.sql, params))
        except sqlite3.Error as e:  # as SQLAlchemy raises it: e.g. OperationalError(DatabaseBusy)
            raise DBAPIError.instance(
                compiled.sql,
                params,
                e,
                sqlite3.Error,
                hide_parameters=sync.engine.hide_parameters,
                dialect=dialect,
                ismulti=False,
            ) from e
        return cursor  # type: ignore[no-any-return]

    def _compiled_for(self, dialect: Dialect, keys: tuple[str, ...]) -> _Compiled:
        by_keys = self._compiled.setdefault(dialect, {})
        found = by_keys.get(keys)
        if found is None:
            found = by_keys[keys] = self._compile(dialect, keys)
        return found

    def _compile(self, dialect: Dialect, keys: tuple[str, ...]) -> _Compiled:
        unknown = set(keys) - self._columns
        if unknown:
            raise CompileError(f"Unconsumed column names: {', '.join(sorted(unknown))}")
        compiled = self.statement.compile(dialect=dialect, column_keys=list(keys))
        names = compiled.positiontup or []
        needs_execution_layer = (
            compiled.insert_prefetch  # Python-side column defaults, computed per execution
            or compiled.effective_returning
            or compiled.literal_execute_params
            or compiled.post_compile_params
            or not set(names) <= set(keys)  # values the row does not give (.values(), multi-row)
        )
        if needs_execution_layer:
            raise ValueError(f"PreparedInsert cannot run this statement without SQLAlchemy: {compiled}")
        processors: Mapping[str, Any] = compiled._bind_processors
        return _Compiled(compiled.string, tuple((name, processors.get(name)) for name in names))
