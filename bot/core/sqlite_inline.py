"""SQLite for the asyncio engine without a thread hop per call: `sqlite+inline://` URLs.

aiosqlite runs every cursor call on a helper thread; a click costs ~25 such hand-offs, and
under load each one waits for the thread to be scheduled, which dominated click latency.
SQLite works on a local file, mostly in the page cache (WAL, synchronous=NORMAL), so its calls
take microseconds: here they run directly on the event loop instead.

The store gives this driver exactly one pooled connection: transactions queue on the pool
(asynchronously) instead of in SQLite's busy handler, which would block the loop.

Another *process* holding the write lock (a CLI import, a backup) is waited for off the loop:
SQLite's own busy handler may wait only `BUSY_TIMEOUT_MS` (it sleeps on the loop), then the
statement is retried after an asynchronous sleep, for up to `BUSY_WAIT` seconds in all, and then
fails with `DatabaseBusy`, a clear error the caller can retry later (delivery does).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Generator, Sequence
from types import SimpleNamespace
from typing import Any

from sqlalchemy import pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi, SQLiteDialect_aiosqlite
from sqlalchemy.engine.url import URL

BUSY_TIMEOUT_MS = 20  # SQLite's busy handler blocks the loop: only this long per try
BUSY_WAIT = 30.0  # seconds a statement waits, off the loop, for another process's write lock


class DatabaseBusy(sqlite3.OperationalError):
    """Another process held the database's write lock for longer than BUSY_WAIT."""


def _is_busy(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return (code & 0xFF) == sqlite3.SQLITE_BUSY if code is not None else "database is locked" in str(error)


async def _patiently(run: Callable[[], Any]) -> Any:
    """`run()`; while another process holds the lock, retry after asynchronous sleeps (a failed
    statement had no effect, so running it again is safe)."""
    deadline, pause = 0.0, 0.005
    while True:
        try:
            return run()
        except DatabaseBusy:
            raise
        except sqlite3.OperationalError as e:
            if not _is_busy(e):
                raise
            now = time.monotonic()
            deadline = deadline or now + BUSY_WAIT
            if now >= deadline:
                raise DatabaseBusy(
                    f"the database is locked by another process (waited {BUSY_WAIT:.0f} s); try again later"
                ) from e
            await asyncio.sleep(min(pause, deadline - now))
            pause = min(pause * 2, 0.1)


class _Cursor:
    """An awaitable face over a sqlite3 cursor: every call completes at once."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> _Cursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> _Cursor:
        await _patiently(lambda: self._cursor.execute(sql, parameters))
        return self

    async def executemany(self, sql: str, seq: Sequence[Sequence[Any]]) -> _Cursor:
        await _patiently(lambda: self._cursor.executemany(sql, seq))
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def nextset(self) -> None:
        return None


class _RunNow:
    """Stands in for aiosqlite's request queue, which SQLAlchemy uses to set isolation_level."""

    def put_nowait(self, item: tuple[Any, Any]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:
            future.set_exception(error)


class _Connection:
    """The subset of aiosqlite.Connection that SQLAlchemy's aiosqlite dialect uses."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._connection: sqlite3.Connection | None = conn
        self._tx = _RunNow()

    def cursor(self) -> _Cursor:
        return _Cursor(self._conn.cursor())

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    async def commit(self) -> None:
        await _patiently(self._conn.commit)

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        if self._connection is not None:
            self._conn.close()
            self._connection = None

    def stop(self) -> None:
        if self._connection is not None:
            self._conn.close()
            self._connection = None

    async def create_function(self, *args: Any, **kw: Any) -> None:
        self._conn.create_function(*args, **kw)


def sqlite3_connection(driver_connection: Any) -> sqlite3.Connection:
    """The sqlite3 connection under a pooled connection's `driver_connection` (for statements run
    without SQLAlchemy's execution layer: see prepared_insert.py)."""
    if not isinstance(driver_connection, _Connection):
        raise TypeError(f"not a sqlite+inline connection: {type(driver_connection).__name__}")
    return driver_connection._conn


class _Connect:
    """What `connect()` returns: awaitable, with the `_thread` attribute SQLAlchemy sets daemon on."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        self._thread = SimpleNamespace(daemon=True)
        self._args, self._kw = args, kw

    def __await__(self) -> Generator[Any, None, _Connection]:
        if False:  # pragma: no cover - makes this a generator without ever suspending
            yield
        return _Connection(sqlite3.connect(*self._args, **{**self._kw, "check_same_thread": False}))


# The module-shaped object SQLAlchemy's adapter expects in place of `aiosqlite`.
_driver = SimpleNamespace(
    connect=_Connect,
    Connection=_Connection,
    DatabaseError=sqlite3.DatabaseError,
    Error=sqlite3.Error,
    IntegrityError=sqlite3.IntegrityError,
    NotSupportedError=sqlite3.NotSupportedError,
    OperationalError=sqlite3.OperationalError,
    ProgrammingError=sqlite3.ProgrammingError,
    sqlite_version=sqlite3.sqlite_version,
    sqlite_version_info=sqlite3.sqlite_version_info,
    __version__="inline",
)


class InlineSQLiteDialect(SQLiteDialect_aiosqlite):
    driver = "inline"
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> AsyncAdapt_aiosqlite_dbapi:
        return AsyncAdapt_aiosqlite_dbapi(_driver, sqlite3)  # type: ignore[arg-type]

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        return pool.AsyncAdaptedQueuePool


registry.register("sqlite.inline", "bot.core.sqlite_inline", "InlineSQLiteDialect")
