"""Core SQLModel tables: people, identities, cohorts, enrolments, calendar, activity log, outbox.

Capabilities (attendance, surveys, ...) declare their own tables in their own modules.
All times are stored as UTC and come back timezone-aware.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and returns them aware (SQLite drops the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_field(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


def json_field() -> Any:
    return Field(default_factory=dict, sa_type=sa.JSON, nullable=False)


class Person(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    display_name: str
    email: str | None = Field(default=None, index=True)
    tz: str | None = None
    site: str | None = None
    department: str | None = None
    seniority: str | None = None
    created_at: datetime = utc_field()
    # The language they read ("en" | "fr"): from their platform's locale, unless they chose it
    # with `lang` (then the platform no longer changes it). None: their cohort's language.
    lang: str | None = None
    lang_chosen: bool = False


class Identity(SQLModel, table=True):
    """How one person is reached on one platform (a person may have several)."""

    __table_args__ = (sa.UniqueConstraint("platform", "workspace", "user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    platform: str  # "slack" | "teams" | "console"
    workspace: str = ""  # Slack team id, Teams tenant id, "" for console
    user_id: str
    # Slack: DM channel id learned from the first post. Teams: JSON conversation reference.
    dm_channel: str | None = None
    conversation_ref: dict[str, Any] = json_field()
    blocked_at: datetime | None = utc_field(nullable=True)


class Cohort(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True)
    tz: str = "UTC"
    start_date: str | None = None  # ISO date; programme offsets count from it
    status: str = "active"  # active | paused | archived
    programme: dict[str, Any] = json_field()
    # Where cohort-wide posts go: platform + workspace + channel id.
    channel_platform: str | None = None
    channel_workspace: str = ""
    channel_id: str | None = None
    created_by: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = utc_field()
    lang: str = "en"  # channel posts, auditors' documents, and people whose language is unknown


class Enrolment(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("cohort_id", "person_id"),)
    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: str = "learner"  # admin | trainer | learner
    team: str | None = None
    status: str = "active"  # active | dropped
    enrolled_at: datetime = utc_field()


class ManagerLink(SQLModel, table=True):
    __tablename__ = "manager_link"
    __table_args__ = (sa.UniqueConstraint("cohort_id", "learner_id"),)
    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True)
    manager_id: int = Field(foreign_key="person.id", index=True)
    learner_id: int = Field(foreign_key="person.id")


class LiveSession(SQLModel, table=True):
    __tablename__ = "live_session"
    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True)
    title: str
    starts_at: datetime = utc_field()
    duration_min: int
    location: str | None = None


class Module(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True)
    title: str
    release_at: datetime | None = utc_field(nullable=True)
    due_at: datetime = utc_field()


class Completion(SQLModel, table=True):
    """The current completion state of one module for one learner (history is in the activity log)."""

    __table_args__ = (sa.UniqueConstraint("module_id", "person_id"),)
    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True)
    module_id: int = Field(foreign_key="module.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    status: str = "completed"  # completed | passed | failed
    score: float | None = None  # 0..100 when known
    source: str = "chat"  # chat | trainer | csv | xapi
    at: datetime = utc_field()
    recorded_by: int | None = Field(default=None, foreign_key="person.id")


class Activity(SQLModel, table=True):
    """Append-only log of everything that happened: the audit trail and the source of KPIs."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_field(index=True)
    cohort_id: int | None = Field(default=None, foreign_key="cohort.id", index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="person.id")
    kind: str = Field(index=True)
    data: dict[str, Any] = json_field()


class OutboxMessage(SQLModel, table=True):
    """A message to deliver, written in the same transaction as its cause."""

    __tablename__ = "outbox"
    __table_args__ = (
        sa.Index("ix_outbox_due", "status", "next_attempt_at"),
        sa.Index("ix_outbox_claimed_by", "claimed_by", "status"),
        sa.Index("ix_outbox_address", "platform", "address", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)  # idempotency key, e.g. reminder:<session>:<person>:<offset>
    kind: str = "message"  # message | update
    cohort_id: int | None = Field(default=None, index=True)
    person_id: int | None = Field(default=None, index=True)
    # Target: a person's DM on their platform, or a channel.
    platform: str
    workspace: str = ""
    address: str  # user id for DMs, channel id for posts
    payload: dict[str, Any] = json_field()
    updates_key: str | None = None  # for kind=update: the key of the message to replace
    status: str = "pending"  # pending | sending | sent | failed
    # Claims take the lowest first: 0 replies and time-critical cards, 1 the rest, 2 bulk posts.
    priority: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    claimed_by: str | None = None  # the delivery instance holding a `sending` row
    attempts: int = 0
    next_attempt_at: datetime = utc_field()
    created_at: datetime = utc_field()
    sent_at: datetime | None = utc_field(nullable=True)
    last_error: str | None = None
    platform_message_id: str | None = None
    platform_channel_id: str | None = None


class DeliveryInstance(SQLModel, table=True):
    """A running delivery worker's heartbeat: rows held by one that stopped beating are taken over
    within seconds, not after the lease."""

    __tablename__ = "delivery_instance"
    id: str = Field(primary_key=True)
    seen_at: datetime = utc_field()


class SendBudgetRow(SQLModel, table=True):
    """One workspace's or tenant's send budget, shared by the instances (`bot.core.send_budget`)."""

    __tablename__ = "send_budget"
    key: str = Field(primary_key=True)  # e.g. "slack:T0001"
    tat: float = 0.0  # epoch seconds of the next free slot
    limited_rate: float | None = None  # the rate set by the last 429, None if never limited
    knee: float = 0.0  # the rate regained quickly after it
    limited_at: float = 0.0  # epoch seconds of that 429


class PlanVersion(SQLModel, table=True):
    """Bumped by every write that changes a cohort's plan: the scheduler of another instance
    notices the new version within seconds and replans at once."""

    __tablename__ = "plan_version"
    id: int = Field(default=1, primary_key=True)
    version: int = 0


class FiredEvent(SQLModel, table=True):
    """A scheduled event that has run: the guard that makes each event fire once."""

    __tablename__ = "fired_event"
    key: str = Field(primary_key=True)
    kind: str
    cohort_id: int | None = None
    due_at: datetime = utc_field()
    fired_at: datetime = utc_field()
    outcome: str = "fired"  # fired | skipped (too late)


class ProcessedInbound(SQLModel, table=True):
    """Platform event ids already handled: a retried delivery of the same event does nothing."""

    __tablename__ = "processed_inbound"
    key: str = Field(primary_key=True)
    at: datetime = utc_field()
