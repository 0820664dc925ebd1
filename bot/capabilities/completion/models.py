"""Tables of the completion capability: the xAPI statements received, kept as evidence."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from bot.core.models import json_field, utc_field


class XapiStatement(SQLModel, table=True):
    """One xAPI statement as received: stored once per statement id, with what it led to."""

    __tablename__ = "xapi_statement"
    statement_id: str = Field(primary_key=True)  # the statement's UUID, lower case
    received_at: datetime = utc_field(index=True)
    verb: str
    cohort_id: int | None = Field(default=None, foreign_key="cohort.id", index=True)
    module_id: int | None = Field(default=None, foreign_key="module.id")
    person_id: int | None = Field(default=None, foreign_key="person.id")
    outcome: str  # recorded | unchanged | ignored: <why>
    raw: dict[str, Any] = json_field()


class XapiActivity(SQLModel, table=True):
    """An LMS activity id (an xAPI object id) that stands for one module."""

    __tablename__ = "xapi_activity"
    activity_id: str = Field(primary_key=True)
    module_id: int = Field(foreign_key="module.id", index=True)
