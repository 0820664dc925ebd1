"""Database failures in words an operator can act on, and the schema's version against the code's.

A connection refused, a missing database or role, or a schema left behind or ahead of this
version of cohortbot become one `ConfigurationError` line that says what to do, not a traceback.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.errors import ConfigurationError

CREATE_HINT = (
    "create the role and database (as the postgres user: createuser --pwprompt {user} && "
    "createdb --owner {user} {database}), then run `cohortbot db upgrade`"
)


class DatabaseProblem(ConfigurationError):
    """The database cannot be used as configured; the message says what to do."""


@dataclass(frozen=True)
class SchemaVersion:
    current: frozenset[str]  # revisions the database is at (empty: no schema yet)
    heads: frozenset[str]  # revisions this code's migrations end at
    tables: int  # tables in the database before anything ran

    @property
    def empty(self) -> bool:
        return not self.current

    @property
    def up_to_date(self) -> bool:
        return self.current == self.heads

    @property
    def unknown(self) -> frozenset[str]:
        """Revisions the database is at that this code does not have: a newer cohortbot wrote them."""
        from alembic.script import ScriptDirectory

        from bot.core.store import alembic_config

        script = ScriptDirectory.from_config(alembic_config())
        known = {rev.revision for rev in script.walk_revisions()}
        return frozenset(r for r in self.current if r not in known)


def _where(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        return f"the SQLite file {parsed.database}"
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}"


def _causes(error: BaseException) -> list[BaseException]:
    """The error, what SQLAlchemy wrapped (`orig`), and their causes: where the driver's error is."""
    seen: list[BaseException] = []
    pending: list[BaseException | None] = [error]
    while pending:
        e = pending.pop(0)
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        pending += [getattr(e, "orig", None), e.__cause__, e.__context__]
    return seen


def explain(error: BaseException, url: str) -> DatabaseProblem:
    """The one-line reason (and what to do) for a failure to connect to `url`."""
    parsed = make_url(url)
    user, database = parsed.username or "cohortbot", parsed.database or "cohortbot"
    where = _where(url)
    for cause in _causes(error):
        name = type(cause).__name__
        if name == "InvalidCatalogNameError":
            return DatabaseProblem(
                f'database "{database}" does not exist on {where}: '
                + CREATE_HINT.format(user=user, database=database)
            )
        if name in ("InvalidAuthorizationSpecificationError", "InvalidPasswordError"):
            return DatabaseProblem(
                f'PostgreSQL on {where} refused the role "{user}" ({cause}): fix the user and password in '
                "DATABASE_URL, or " + CREATE_HINT.format(user=user, database=database)
            )
        if isinstance(cause, socket.gaierror):
            return DatabaseProblem(
                f"cannot resolve the database host '{parsed.host}': fix the host in DATABASE_URL"
            )
        if isinstance(cause, ConnectionRefusedError | TimeoutError) or (
            isinstance(cause, OSError) and not isinstance(cause, FileNotFoundError | PermissionError)
        ):
            reason = cause.strerror or type(cause).__name__ if isinstance(cause, OSError) else "timed out"
            return DatabaseProblem(
                f"cannot reach the database server at {where} ({reason}): start PostgreSQL, "
                "or fix the host and port in DATABASE_URL"
            )
        if "unable to open database file" in str(cause):
            return DatabaseProblem(
                f"cannot open {where}: create its directory and make it writable, or fix DATABASE_URL"
            )
    first = str(error).splitlines()[0] if str(error) else type(error).__name__
    return DatabaseProblem(f"cannot use the database at {where}: {first}")


def _read_version(connection: Connection) -> SchemaVersion:
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import inspect

    from bot.core.store import alembic_config

    tables = len(inspect(connection).get_table_names())
    current = frozenset(MigrationContext.configure(connection).get_current_heads())
    heads = frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())
    return SchemaVersion(current=current, heads=heads, tables=tables)


async def schema_version(engine: AsyncEngine, url: str) -> SchemaVersion:
    """Connect and read the schema's revisions; a connection failure is a `DatabaseProblem`."""
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            return await conn.run_sync(_read_version)
    except DatabaseProblem:
        raise
    except Exception as e:
        raise explain(e, url) from None


def require_current(version: SchemaVersion, url: str) -> None:
    """Refuse a schema this code cannot work with: none yet, older, or written by a newer version."""
    if version.up_to_date:
        return
    unknown = version.unknown
    if unknown:
        raise DatabaseProblem(
            f"the database at {_where(url)} is at revision {', '.join(sorted(unknown))}, which this "
            "version of cohortbot does not know: a newer version upgraded it. Run that version, "
            "or restore a backup taken before the upgrade"
        )
    if version.empty:
        raise DatabaseProblem(f"the database at {_where(url)} has no schema yet: run `cohortbot db upgrade`")
    raise DatabaseProblem(
        f"the database at {_where(url)} is at an older schema version: run `cohortbot db upgrade`"
    )


def describe(version: Any) -> str:
    return ", ".join(sorted(version)) or "none"
