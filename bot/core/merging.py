"""Merge two person records that turn out to be one person (wrote first and was imported by email
later, or split by a failed profile lookup) into one, with all their records, in one transaction.

Which tables hold a person is read from the SQLModel metadata's foreign keys, so capabilities'
tables are covered without being named here. Where a unique constraint would end up holding two
rows for the kept person (both enrolled in one cohort, both completed one module), the kept
person's row stays and the other is dropped; the activity log says how many rows moved and how
many were dropped. A table can opt out with `info={"person_merge": "keep"}`: append-only evidence
whose rows are hashed with the person id they were written with (a rewrite would break its chain);
the merged record then stays as an empty shell those rows still point at.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.models import Activity, Identity, OutboxMessage, Person

log = logging.getLogger(__name__)

PERSON_TABLE = "person"
KEEP_ROWS = "keep"


@dataclass
class MergeReport:
    kept: int
    merged: int
    moved: dict[str, int] = field(default_factory=dict)  # "table.column" -> rows moved
    dropped: dict[str, int] = field(default_factory=dict)  # "table.column" -> duplicate rows dropped


def _kept_columns() -> list[sa.Column[Any]]:
    """Person columns of tables that opted out: their rows keep pointing at the merged record."""
    return [
        fk.parent
        for table in SQLModel.metadata.sorted_tables
        if table.info.get("person_merge") == KEEP_ROWS
        for fk in table.foreign_keys
        if fk.column.table.name == PERSON_TABLE
    ]


def person_columns() -> list[tuple[sa.Table, sa.Column[Any]]]:
    """Every (table, column) with a foreign key to person.id, plus the outbox's person_id (no
    foreign key: rows outlive nothing, but a pending message must follow its person)."""
    found: list[tuple[sa.Table, sa.Column[Any]]] = []
    for table in SQLModel.metadata.sorted_tables:
        if table.info.get("person_merge") == KEEP_ROWS:
            continue
        for fk in table.foreign_keys:
            if fk.column.table.name == PERSON_TABLE and fk.parent.table is table:
                found.append((table, fk.parent))
    outbox = OutboxMessage.__table__  # type: ignore[attr-defined]
    found.append((outbox, outbox.c.person_id))
    return found


def _unique_sets(table: sa.Table, column: sa.Column[Any]) -> list[list[sa.Column[Any]]]:
    """The other columns of each unique constraint or unique index that includes `column`."""
    sets: list[list[sa.Column[Any]]] = []
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint | sa.PrimaryKeyConstraint):
            columns = list(constraint.columns)
            if column in columns:
                sets.append([c for c in columns if c is not column])
    for index in table.indexes:
        if index.unique and column in list(index.columns):
            sets.append([c for c in index.columns if c is not column])
    return sets


async def merge_people(
    session: AsyncSession, *, keep: int, merge: int, now: datetime, reason: str, actor_id: int | None = None
) -> MergeReport:
    """Move everything of person `merge` onto person `keep`, fill `keep`'s empty profile fields
    from `merge`, delete `merge`, and log `person.merged`. Runs in the caller's transaction."""
    if keep == merge:
        return MergeReport(keep, merge)
    connection = await session.connection()
    report = MergeReport(keep, merge)
    for table, column in person_columns():
        name = f"{table.name}.{column.name}"
        for others in _unique_sets(table, column):
            twin = table.alias("twin")
            clash = sa.exists().where(twin.c[column.name] == keep, *(twin.c[o.name] == o for o in others))
            dropped = await connection.execute(sa.delete(table).where(column == merge, clash))
            if dropped.rowcount:
                report.dropped[name] = report.dropped.get(name, 0) + int(dropped.rowcount)
        moved = await connection.execute(sa.update(table).where(column == merge).values({column.name: keep}))
        if moved.rowcount:
            report.moved[name] = int(moved.rowcount)
    _follow_in_session(session, keep, merge)
    await _absorb_profile(session, keep, merge)
    activity = Activity(
        at=now,
        person_id=keep,
        actor_id=actor_id,
        kind="person.merged",
        data={
            "merged": merge,
            "into": keep,
            "reason": reason,
            "moved": report.moved,
            "dropped": report.dropped,
        },
    )
    session.add(activity)
    await session.flush()
    log.info(
        "merged person %s into %s (%s): moved %s, dropped %s",
        merge,
        keep,
        reason,
        report.moved,
        report.dropped,
    )
    return report


def _follow_in_session(session: AsyncSession, keep: int, merge: int) -> None:
    """Objects already loaded in this session see the move too (the UPDATEs bypassed the ORM)."""
    columns = {(table.name, column.name) for table, column in person_columns()}
    for obj in list(session.sync_session.identity_map.values()):
        table = getattr(type(obj), "__tablename__", None)
        for name_ in [c for t, c in columns if t == table]:
            if getattr(obj, name_, None) == merge:
                set_committed_value(obj, name_, keep)


async def _absorb_profile(session: AsyncSession, keep: int, merge: int) -> None:
    kept = await session.get_one(Person, keep)
    gone = await session.get(Person, merge)
    if gone is None:
        return
    for name in ("email", "tz", "site", "department", "seniority"):
        if getattr(kept, name) is None and getattr(gone, name) is not None:
            setattr(kept, name, getattr(gone, name))
    connection = await session.connection()
    # A record made from a failed profile lookup is named after its user id: not a name to take.
    account_ids = set(
        (await connection.execute(sa.select(Identity.user_id).where(Identity.person_id == keep))).scalars()
    )
    placeholder = kept.display_name in {"", (kept.email or "").split("@")[0]}
    if (
        placeholder
        and gone.display_name
        and "@" not in gone.display_name
        and gone.display_name not in account_ids
    ):
        kept.display_name = gone.display_name
    for column in _kept_columns():
        if (await connection.execute(sa.select(column).where(column == merge).limit(1))).first():
            # Evidence still names this record: keep it as an empty shell (no email, no account,
            # no enrolment), so the evidence stays intact and nothing resolves to it again.
            gone.email = None
            session.add_all([gone, kept])
            await session.flush()
            return
    session.add(kept)
    await session.delete(gone)
    await session.flush()
