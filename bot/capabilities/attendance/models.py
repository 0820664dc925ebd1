"""Attendance tables: the append-only, hash-chained records, per-session window state, absence requests."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.core.models import utc_field

STATUSES = ("present", "late", "absent", "excused")  # what a click, a window or a trainer records
# Where a record came from: a click or command, or a Teams meeting's join/leave/end events.
SOURCES = ("click", "meeting")


class AttendanceRecord(SQLModel, table=True):
    """One attendance fact, never updated nor deleted: a correction is a new row, and an erasure
    blanks only the personal fields (which the hash covers through their keyed digest).

    Rows of one live session form a hash chain (`seq` 1, 2, 3 ...; each row holds the previous
    row's hash), so an edited, inserted or deleted row breaks the chain where it happened.
    """

    __tablename__ = "attendance_record"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "seq"),
        sa.Index("ix_attendance_record_session_person", "session_id", "person_id", "seq"),
        # Hashed with the person id it was written with: merging two people leaves it as it is.
        {"info": {"person_merge": "keep"}},
    )
    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="live_session.id")
    seq: int  # position in the session's chain, from 1
    cohort_id: int = Field(foreign_key="cohort.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    # Who the learner was at the time, as the platform knew them.
    person_name: str
    platform: str
    workspace: str = ""
    platform_user_id: str
    status: str  # present | late | partial (meetings) | absent | excused
    event_time: datetime | None = utc_field(nullable=True)  # the platform's time for the click
    received_at: datetime = utc_field()  # the server's time
    auth: str  # how the request was authenticated (slack-signature, teams-jwt, console, system ...)
    idempotency_key: str = Field(unique=True)
    platform_event_id: str | None = None
    actor_id: int | None = Field(default=None, foreign_key="person.id")  # who recorded it
    correction: bool = False
    reason: str | None = None
    prev_hash: str
    hash: str
    # 1: plain SHA-256 (before keyed chains); 2: HMAC under the chain secret (see evidence.py).
    chain_version: int = Field(default=2, sa_column_kwargs={"server_default": "1"})
    # Keyed digests the hash covers: the session's details, and the personal fields with their salt.
    session_digest: str = Field(default="", sa_column_kwargs={"server_default": ""})
    person_digest: str = Field(default="", sa_column_kwargs={"server_default": ""})
    person_salt: str = Field(default="", sa_column_kwargs={"server_default": ""})
    # Version 3 hashes these too: a meeting's join / leave / end, told apart from clicks.
    source: str = Field(default="click", sa_column_kwargs={"server_default": "click"})
    meeting_event: str | None = None  # join | leave | end (source "meeting" only)
    # Personal fields blanked by an erasure (a later erasure record in the chain says so).
    erased: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})


class AttendanceSessionState(SQLModel, table=True):
    """Per live session: window overrides, manual open/close, check-in code, and its chain's head.

    Keeping the head here makes "what is the previous hash?" one primary-key read, and a click
    only locks its own session's row (PostgreSQL `FOR UPDATE`), not every session's.
    """

    __tablename__ = "attendance_session"
    session_id: int = Field(primary_key=True, foreign_key="live_session.id")
    opens_before_min: int | None = None
    closes_after_min: int | None = None
    late_after_min: int | None = None
    opened_at: datetime | None = utc_field(nullable=True)  # a trainer opened it early
    closed_at: datetime | None = utc_field(nullable=True)  # closed (by a trainer or the window's end)
    code_secret: str | None = None  # set when the session requires the rotating code
    code_step_s: int = 180
    head_seq: int = 0
    head_hash: str = ""


class AbsenceRequest(SQLModel, table=True):
    """A learner's declared absence; Excused once a trainer approves it."""

    __tablename__ = "absence_request"
    __table_args__ = (sa.UniqueConstraint("session_id", "person_id"),)
    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True)
    session_id: int = Field(foreign_key="live_session.id")
    person_id: int = Field(foreign_key="person.id")
    reason: str
    requested_at: datetime = utc_field()
    status: str = "pending"  # pending | approved
    decided_by: int | None = Field(default=None, foreign_key="person.id")
    decided_at: datetime | None = utc_field(nullable=True)


class CodeFailure(SQLModel, table=True):
    """Wrong codes typed per learner and session, so a code cannot be guessed by brute force."""

    __tablename__ = "attendance_code_failure"
    session_id: int = Field(primary_key=True, foreign_key="live_session.id")
    person_id: int = Field(primary_key=True, foreign_key="person.id")
    failures: int = 0


class EvidenceCheckpoint(SQLModel, table=True):
    """A signed statement of every chain's head at one time (a copy: the proof is the file kept elsewhere).

    `body` is the canonical JSON that `signature` (Ed25519, hex) signs; see checkpoints.py.
    """

    __tablename__ = "evidence_checkpoint"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_field(index=True)
    reason: str  # daily | session <id> closed | on demand
    chains: int
    records: int
    body: str
    signature: str
    key_fingerprint: str
