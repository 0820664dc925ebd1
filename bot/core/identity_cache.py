"""Who is behind a platform account, remembered between clicks: (platform, workspace, user id) ->
the identity and person rows, so a click does not load them from the database every time.

Only where one connection does all of this process's writes (SQLite). Any UPDATE or DELETE of a
person or an identity (a merge, a link, a profile change, an erasure) forgets everything, and so
does any rollback, so the cache never holds what was undone; so does a commit by another process
(a CLI import), seen at the start of each transaction in SQLite's `data_version`. Entries are the
objects a click loaded: once its session is closed they are detached but keep their values (the
store does not expire on commit), and the next click attaches them to its own session as they are,
with no load. Those clicks run one transaction after another (group commits), so an object is
never in two sessions; should it be, the click simply loads its own.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.models import Identity, Person

Key = tuple[str, str, str]
MAX_ENTRIES = 100_000  # a cohort platform's active accounts; past it, start afresh
# The tables whose writes this cache watches (seen by `after_cursor_execute`): prepared_insert.py
# refuses them, since its statements are not seen there.
WATCHED_TABLES: frozenset[str] = frozenset(
    {Person.__tablename__, Identity.__tablename__}  # type: ignore[attr-defined]
)
_WRITES = tuple(f"{verb} {table}" for verb in ("UPDATE", "DELETE FROM") for table in sorted(WATCHED_TABLES))


class IdentityCache:
    def __init__(self, engine: AsyncEngine) -> None:
        self._rows: dict[Key, tuple[Identity, Person]] = {}
        sync_engine = engine.sync_engine
        event.listen(sync_engine, "after_cursor_execute", self._after_execute)
        event.listen(sync_engine, "rollback", self._forget_all)
        event.listen(sync_engine, "rollback_savepoint", self._forget_all)
        event.listen(sync_engine, "begin", self._check_other_writers)
        self._data_version: int | None = None

    def _after_execute(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self._rows and statement.startswith(_WRITES):
            self._rows.clear()

    def _check_other_writers(self, conn: Connection) -> None:
        version = conn.exec_driver_sql("PRAGMA data_version").scalar()
        if version != self._data_version:
            self._data_version = version
            self._rows.clear()

    def _forget_all(self, *_args: Any) -> None:
        self._rows.clear()

    def remember(self, key: Key, identity: Identity, person: Person) -> None:
        if len(self._rows) >= MAX_ENTRIES:
            self._rows.clear()
        self._rows[key] = (identity, person)

    def recall(self, session: AsyncSession, key: Key) -> tuple[Identity, Person] | None:
        """The identity and person as persistent objects of `session`, or None if not known.
        Call it once the session's transaction has begun (the check for other writers runs then)."""
        rows = self._rows.get(key)
        if rows is None:
            return None
        try:
            return _attached(session, rows[0]), _attached(session, rows[1])
        except InvalidRequestError:  # still in another session: load afresh
            del self._rows[key]
            return None


def _attached(session: AsyncSession, obj: Any) -> Any:
    """The session's own object for this row if it holds one already, else `obj`, attached."""
    sync = session.sync_session
    state = inspect(obj)
    present = sync.identity_map.get(state.key) if state.key is not None else None
    if present is not None:
        return present
    sync.add(obj)
    return obj
