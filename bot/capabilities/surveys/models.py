"""Survey tables: the survey itself, who was asked (and whether they answered), and the ballots.

Anonymity lives in the shape of these tables. `SurveyParticipation` knows people but no answers;
`SurveyBallot` holds answers but no person, no timestamp, and a random primary key in a SQLite
table WITHOUT ROWID, so neither a column nor the storage order ties a ballot to someone. A named
survey links the two through `SurveyParticipation.ballot_id`; an anonymous one leaves it NULL.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.core.models import json_field, utc_field


class Survey(SQLModel, table=True):
    __tablename__ = "survey"
    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True)
    title: str
    # [{"id": "q1", "kind": "rating", "prompt": "...", "options": [...]}, ...]
    questions: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON, nullable=False)
    anonymous: bool = False
    trigger: str = "now"  # now | date | session | module
    template: str | None = None
    # For surveys made by a programme rule: the rule and its target, so each is made once.
    origin: str | None = Field(default=None, unique=True)
    status: str = "scheduled"  # scheduled | open | closed
    opens_at: datetime = utc_field()
    remind_at: datetime = utc_field()
    closes_at: datetime = utc_field()
    created_by: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = utc_field()
    closed_at: datetime | None = utc_field(nullable=True)
    # Frozen at close (answers can no longer change), so reports need not re-read every ballot.
    figures: dict[str, Any] = json_field()


class SurveyParticipation(SQLModel, table=True):
    """One learner asked to answer one survey: only the fact that they answered, never what."""

    __tablename__ = "survey_participation"
    __table_args__ = (sa.UniqueConstraint("survey_id", "person_id"),)
    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    answered: bool = False
    ballot_id: str | None = Field(default=None, foreign_key="survey_ballot.id")  # named surveys only


def new_ballot_id() -> str:
    return secrets.token_hex(16)


class SurveyBallot(SQLModel, table=True):
    """One respondent's answers. No person, no time; `token` (anonymous surveys) is an HMAC of
    (survey, person) under a secret kept outside the database, used only to find the ballot again."""

    __tablename__ = "survey_ballot"
    # Stored clustered by (survey, random id): a survey's ballots are read in one range scan,
    # in an order that says nothing about when they were written.
    __table_args__ = (
        sa.UniqueConstraint("survey_id", "token"),
        sa.UniqueConstraint("id"),
        {"sqlite_with_rowid": False},
    )
    survey_id: int = Field(foreign_key="survey.id", primary_key=True)
    id: str = Field(default_factory=new_ballot_id, primary_key=True)
    token: str | None = None
    answers: dict[str, Any] = json_field()
    complete: bool = False
