"""Tamper evidence: append attendance records to their session's keyed hash chain, and verify every chain.

Each session has its own chain (seq 1, 2, 3 ...). A record's hash is HMAC-SHA256, under the chain
secret kept outside the database (`keys.chain_secret`), of the canonical JSON of its content, which
includes the previous record's hash and two keyed digests:
- `session_digest`: the session's cohort, title, start, end and place, so moving or retitling a
  session breaks its chain;
- `person_digest`: the learner's personal fields (name, platform ids, free-text reason) with a
  random salt, so those fields can be erased (`erasure.erase_learner`) without breaking the chain.

The chain head (last seq and hash) lives in the session's `attendance_session` row, so appending
costs one primary-key read and one update, and only clicks on the same session wait for each other.
Records written before keyed chains (`chain_version` 1) keep their plain SHA-256 and still verify.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.attendance.models import AttendanceRecord, AttendanceSessionState
from bot.core.models import Cohort, LiveSession
from bot.core.store import insert_for

GENESIS = "0" * 64
CHAIN_VERSION = 3
ERASURE_AUTH = "system:erasure"
# What a record's keyed hash covers; the personal fields are covered through `person_digest`.
HASHED_FIELDS_V2 = (
    "chain_version",
    "session_id",
    "seq",
    "cohort_id",
    "session_digest",
    "person_id",
    "person_digest",
    "status",
    "event_time",
    "received_at",
    "auth",
    "idempotency_key",
    "platform_event_id",
    "actor_id",
    "correction",
    "prev_hash",
)
# Version 3 adds where the record came from (a click, a meeting's join / leave / end).
HASHED_FIELDS = (*HASHED_FIELDS_V2, "source", "meeting_event")
PERSONAL_FIELDS = ("person_name", "platform", "workspace", "platform_user_id", "reason", "person_salt")
# Version 1 (before keyed chains): plain SHA-256 over these, personal fields included.
LEGACY_FIELDS = (
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
    source: str = "click"
    meeting_event: str | None = None


@dataclass(frozen=True)
class Chain:
    """Where facts are appended: the secret, the session's cohort and the digest of its details."""

    secret: bytes
    cohort_id: int
    session_digest: str


def canonical(content: dict[str, Any]) -> bytes:
    """Sorted keys, no spaces, UTF-8, UTC times to the microsecond: the bytes that get hashed."""
    plain = {k: _canonical_value(v) for k, v in content.items()}
    return json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _canonical_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return value


def _mac(secret: bytes, content: dict[str, Any]) -> str:
    return hmac.new(secret, canonical(content), hashlib.sha256).hexdigest()


def session_details(cohort: Cohort, live: LiveSession) -> dict[str, Any]:
    """What a session's chain vouches for: its cohort, title, start, end and place."""
    return {
        "cohort": cohort.slug,
        "cohort_id": cohort.id,
        "session_id": live.id,
        "title": live.title,
        "starts_at": live.starts_at,
        "ends_at": live.starts_at + timedelta(minutes=live.duration_min),
        "place": live.location or "",
    }


def session_digest(secret: bytes, cohort: Cohort, live: LiveSession) -> str:
    return _mac(secret, session_details(cohort, live))


def chain_for(secret: bytes, cohort: Cohort, live: LiveSession) -> Chain:
    return Chain(secret, cohort.id or 0, session_digest(secret, cohort, live))


def person_digest(secret: bytes, record: AttendanceRecord) -> str:
    return _mac(secret, {name: getattr(record, name) for name in PERSONAL_FIELDS})


def record_hash(secret: bytes, record: AttendanceRecord) -> str:
    """The record's keyed hash (legacy version-1 records: their plain SHA-256)."""
    if record.chain_version == 1:
        content = {name: getattr(record, name) for name in LEGACY_FIELDS}
        return hashlib.sha256(canonical(content)).hexdigest()
    fields = HASHED_FIELDS_V2 if record.chain_version == 2 else HASHED_FIELDS
    return _mac(secret, {name: getattr(record, name) for name in fields})


def seal(secret: bytes, record: AttendanceRecord) -> None:
    """Give a record its salt, personal digest and hash (its prev_hash and seq are set)."""
    record.person_salt = record.person_salt or secrets.token_hex(16)
    record.person_digest = person_digest(secret, record)
    record.hash = record_hash(secret, record)


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
    chain: Chain,
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
            cohort_id=chain.cohort_id,
            received_at=now,
            prev_hash=head,
            hash="",
            chain_version=CHAIN_VERSION,
            session_digest=chain.session_digest,
            **fact.__dict__,
        )
        seal(chain.secret, record)
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
