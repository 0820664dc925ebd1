"""Tables of the completion capability: xAPI statements received (kept as evidence), activity links,
and the LMS user id each person is known by."""

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
    # recorded | unchanged | voided <id> | not used: <why> | waiting: <why> (a learner not known yet)
    outcome: str
    raw: dict[str, Any] = json_field()
    # Who the statement is about (mbox:<email>, sha1:<hex>, account:<name>, openid:<iri>), so a
    # statement about someone not imported yet is linked once they are.
    actor_key: str | None = Field(default=None, index=True)
    voids: str | None = Field(default=None, index=True)  # a voiding statement: the id it voids
    voided: bool = False  # voided by a later statement: its effect is undone, GET hides it


class XapiActivity(SQLModel, table=True):
    """An LMS activity id (an xAPI object id) that stands for one module."""

    __tablename__ = "xapi_activity"
    activity_id: str = Field(primary_key=True)
    module_id: int = Field(foreign_key="module.id", index=True)


class LmsAccount(SQLModel, table=True):
    """The LMS's user id of a person: the `account.name` of the statements about them (Moodle
    sends its numeric user id), set by the learner CSV's `lms_user_id` column or `lms-id`."""

    __tablename__ = "lms_account"
    person_id: int = Field(primary_key=True, foreign_key="person.id")
    lms_user_id: str = Field(unique=True, index=True)
