"""Tables of challenges and points: challenges, learners' entries, the points ledger, running totals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.core.models import json_field, utc_field


class Challenge(SQLModel, table=True):
    """A quiz, a task or a weekly streak posted to one cohort."""

    __tablename__ = "challenge"
    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True)
    kind: str  # quiz | task | streak
    title: str  # the quiz question, the task to do, or the streak's week
    # A quiz's answers; a streak's own number among the cohort's streaks (its label, "Streak #1").
    options: list[str] = Field(default_factory=list, sa_type=sa.JSON, nullable=False)
    correct: str | None = None  # quiz only
    points: int  # what each winner earns, fixed when the challenge is posted
    scoring: str = "team"  # team | person
    needs_confirm: bool = False  # task only: a trainer confirms each "done" before it counts
    opens_at: datetime = utc_field()
    closes_at: datetime = utc_field()
    status: str = "open"  # open | closed
    closed_at: datetime | None = utc_field(nullable=True)
    closed_by: int | None = Field(default=None, foreign_key="person.id")
    created_by: int | None = Field(default=None, foreign_key="person.id")
    # Filled at close: {"teams": [...], "people": [person ids], "rates": {team: [right, counted]}}.
    result: dict[str, Any] = json_field()


class ChallengeEntry(SQLModel, table=True):
    """One learner's answer to a quiz, or their "done" on a task; the first one counts."""

    __tablename__ = "challenge_entry"
    __table_args__ = (sa.UniqueConstraint("challenge_id", "person_id"),)
    id: int | None = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    team: str | None = None  # the team they played for when they answered
    answer: str | None = None
    correct: bool = False  # quiz: the right option; task: done (and confirmed when that is required)
    clicked_at: datetime = utc_field()  # the platform's time of the click (when it sends one)
    received_at: datetime = utc_field()
    confirmed_by: int | None = Field(default=None, foreign_key="person.id")


class PointsEntry(SQLModel, table=True):
    """The points one person (or a team) holds for one source: a session, module, survey, challenge
    or manual award. A newer activity for the same source re-evaluates the entry instead of adding."""

    __tablename__ = "points_entry"
    __table_args__ = (sa.UniqueConstraint("cohort_id", "person_id", "source"),)
    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    team: str | None = None  # the team the points were earned for (kept when the learner moves)
    source: str  # e.g. attendance:12, module:4, survey:7, challenge:3, award:<activity id>
    points: int = 0
    reason: str = ""
    at: datetime = utc_field()


class PointsTotal(SQLModel, table=True):
    """Running totals per person and per team, updated in the transaction that changes the ledger."""

    __tablename__ = "points_total"
    __table_args__ = (sa.UniqueConstraint("cohort_id", "scope", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True)
    scope: str  # person | team
    name: str  # the person id (as text) or the team name
    points: int = 0
