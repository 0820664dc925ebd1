"""The outcome of looking a person's email up on one platform: when, what it said, when to retry."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.core.models import utc_field


class IdentityLookup(SQLModel, table=True):
    __tablename__ = "identity_lookup"
    __table_args__ = (sa.UniqueConstraint("person_id", "platform"),)
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    platform: str
    state: str = "pending"  # found | missing | pending
    reason: str | None = None  # a `bot.core.directory` reason while not found
    detail: str | None = None  # what the platform said (e.g. "missing_scope"), for the trainer
    attempts: int = 0
    checked_at: datetime = utc_field()
    next_check_at: datetime = utc_field(index=True)
