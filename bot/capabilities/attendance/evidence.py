"""Tamper evidence: append attendance records to their session's hash chain, and verify every chain.

Each session has its own chain (seq 1, 2, 3 ...). A record's hash is SHA-256 over the canonical
JSON of its content, which includes the previous record's hash. The chain head (last seq and
hash) lives in the session's `attendance_session` row, so appending costs one primary-key read
and one update, and only clicks on the same session wait for each other.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.attendance.models import AttendanceRecord, AttendanceSessionState
from bot.core.store import insert_for

GENESIS = "0" * 64
HASHED_FIELDS = (
    "session_id",
    "seq",
    "cohort_id",
    "person_id",
    "person_name",
    "platform",
    "workspace",
    "platform_user_id",
    "status",
    "event_time",
    "received_at",
    "auth",
    "idempotency_key",
    "platform_event_id",
    "actor_id",
    "correction",
    "reason",
    "prev_hash",
)


@dataclass(frozen=True)
class Fact:
    """What is being recorded about one learner, before it gets its place in the chain."""

    person_id: int
    person_name: str
    platform: str
    workspace: str
    platform_user_id: str
    status: str
    auth: str
    idempotency_key: str
    event_time: datetime | None = None
    platform_event_id: str | None = None
    actor_id: int | None = None
    correction: bool = False
    reason: str | None = None


def _canonical_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return value


def record_hash(record: AttendanceRecord) -> str:
    """SHA-256 of the record's canonical JSON (sorted keys, no spaces, UTC times to the microsecond)."""
    content = {name: _canonical_value(getattr(record, name)) for name in HASHED_FIELDS}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


async def session_state(
    session: AsyncSession, session_id: int, *, lock: bool = True
) -> AttendanceSessionState:
    """The session's state row, created on first use; locked for this transaction on PostgreSQL."""
    state = await session.get(AttendanceSessionState, session_id, with_for_update=lock)
    if state is not None:
        return state
    insert = insert_for(session.get_bind().dialect.name)
    stmt = insert(AttendanceSessionState).values(
        session_id=session_id, code_step_s=180, head_seq=0, head_hash=""
    )
    await session.exec(stmt.on_conflict_do_nothing(index_elements=["session_id"]))  # type: ignore[call-overload]
    state = await session.get(
        AttendanceSessionState, session_id, with_for_update=lock, populate_existing=True
    )
    assert state is not None
    return state


@functools.cache
def _append_statements() -> tuple[Any, Any]:
    """Built once: constructing SQL expressions on every click costs more than running them."""
    records, states = AttendanceRecord.__table__, AttendanceSessionState.__table__  # type: ignore[attr-defined]
    move_head = (
        update(states)
        .where(states.c.session_id == bindparam("sid"))
        .values(head_seq=bindparam("seq"), head_hash=bindparam("head"))
    )
    return insert(records), move_head


async def append(
    session: AsyncSession,
    state: AttendanceSessionState,
    cohort_id: int,
    facts: Sequence[Fact],
    now: datetime,
) -> list[AttendanceRecord]:
    """Chain `facts` after the session's head (the caller holds `state` from `session_state`).

    This is the click's hot path, and closing a window of thousands of learners appends them all
    in one executemany.
    """
    rows = []
    seq, head = state.head_seq, state.head_hash or GENESIS
    for fact in facts:
        record = AttendanceRecord(
            session_id=state.session_id,
            seq=seq + 1,
            cohort_id=cohort_id,
            received_at=now,
            prev_hash=head,
            hash="",
            **fact.__dict__,
        )
        record.hash = record_hash(record)
        seq, head = record.seq, record.hash
        rows.append(record)
    if not rows:
        return rows
    # Straight on the tables: the ORM's bulk and unit-of-work machinery costs more than the rows.
    insert_records, move_head = _append_statements()
    connection = await session.connection()
    await connection.execute(insert_records, [r.model_dump(exclude={"id"}) for r in rows])
    await connection.execute(move_head, {"sid": state.session_id, "seq": seq, "head": head})
    # Keep the loaded row in step without making the ORM write it a second time.
    set_committed_value(state, "head_seq", seq)
    set_committed_value(state, "head_hash", head)
    return rows


# -- verification ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    kind: str  # edited | inserted | deleted
    session_id: int
    record_id: int | None
    detail: str

    def __str__(self) -> str:
        where = f"record {self.record_id}" if self.record_id is not None else f"session {self.session_id}"
        return f"{self.kind.upper()}: {where}: {self.detail}"


@dataclass
class Verification:
    records: int = 0
    chains: int = 0
    problems: list[Problem] = field(default_factory=list)
    heads: dict[int, str] = field(default_factory=dict)  # session id -> head hash

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def digest(self) -> str:
        """One hash over every chain head: write it down to prove later that nothing was rebuilt."""
        text = ",".join(f"{sid}:{h}" for sid, h in sorted(self.heads.items()))
        return hashlib.sha256(text.encode()).hexdigest()


async def verify(session: AsyncSession) -> Verification:
    """Walk every session's chain and report, per chain, the first record that breaks it."""
    result = Verification()
    heads = {s.session_id: s for s in (await session.exec(select(AttendanceSessionState))).all()}
    rows = (
        await session.exec(
            select(AttendanceRecord).order_by(
                col(AttendanceRecord.session_id), col(AttendanceRecord.seq), col(AttendanceRecord.id)
            )
        )
    ).all()
    by_session: dict[int, list[AttendanceRecord]] = {}
    for row in rows:
        by_session.setdefault(row.session_id, []).append(row)
    result.records = len(rows)
    for session_id in sorted(set(by_session) | {s for s, h in heads.items() if h.head_seq}):
        result.chains += 1
        head = heads.get(session_id)
        if head is not None:
            result.heads[session_id] = head.head_hash
        problem = _check_chain(session_id, by_session.get(session_id, []), head)
        if problem is not None:
            result.problems.append(problem)
    return result


def _check_chain(
    session_id: int, rows: list[AttendanceRecord], head: AttendanceSessionState | None
) -> Problem | None:
    head_seq = head.head_seq if head is not None else 0
    prev_hash, prev_id, expected = GENESIS, None, 1
    for i, row in enumerate(rows):
        later_id = rows[i + 1].id if i + 1 < len(rows) else None
        if row.seq < expected:
            return Problem("inserted", session_id, row.id, f"it repeats position #{row.seq} of the chain")
        if row.seq > head_seq:
            return Problem(
                "inserted", session_id, row.id, f"position #{row.seq} is past the chain head (#{head_seq})"
            )
        if row.seq > expected:
            gap = f"#{expected}" if row.seq == expected + 1 else f"#{expected}-#{row.seq - 1}"
            return Problem("deleted", session_id, row.id, f"record(s) {gap} before it are missing")
        if record_hash(row) != row.hash:
            # Rows are appended in id order, so a row with a later id than its successor came afterwards.
            kind = "inserted" if later_id is not None and (row.id or 0) > later_id else "edited"
            return Problem(kind, session_id, row.id, "its content does not match its hash")
        if row.prev_hash != prev_hash:
            return Problem(
                "edited",
                session_id,
                prev_id if prev_id is not None else row.id,
                f"the next record ({row.id}) was chained to a different hash: it was rewritten",
            )
        prev_hash, prev_id, expected = row.hash, row.id, expected + 1
    last = expected - 1
    if head is None:
        return Problem("deleted", session_id, None, "the chain head is missing") if rows else None
    if head_seq > last:
        gap = f"#{last + 1}" if head_seq == last + 1 else f"#{last + 1}-#{head_seq}"
        return Problem("deleted", session_id, prev_id, f"record(s) {gap} after it are missing")
    if last and head.head_hash != prev_hash:
        return Problem("edited", session_id, prev_id, "it no longer matches the chain head's hash")
    return None
