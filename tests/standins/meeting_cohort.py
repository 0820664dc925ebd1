"""A cohort of Teams learners with one session held in a Teams meeting, written straight to the
database (a test or benchmark of meeting events should not spend its time enrolling people)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from bot.app.bootstrap import App
from bot.core.models import Cohort, Enrolment, Identity, LiveSession, Person
from tests.standins.teams_activities import TENANT, TeamsMeeting, TeamsUser

STARTS = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)  # 09:00 in Paris


async def seed_meeting_cohort(
    app: App, learners: int, meeting: TeamsMeeting, *, starts: datetime = STARTS, minutes: int = 60
) -> list[TeamsUser]:
    """`learners` Teams users enrolled in cohort `meet`, whose session's place is the meeting's URL."""
    users = [TeamsUser(f"l{i:05d}") for i in range(learners)]
    now = starts - timedelta(days=1)
    async with app.store.transaction() as session:
        cohort = Cohort(slug="meet", tz="Europe/Paris", created_at=now)
        people = [Person(display_name=user.name.title(), created_at=now) for user in users]
        session.add_all([cohort, *people])
        await session.flush()
        session.add(
            LiveSession(
                cohort_id=cohort.id or 0,
                title="Kick-off",
                starts_at=starts,
                duration_min=minutes,
                location=meeting.join_url,
            )
        )
        connection = await session.connection()
        await connection.execute(
            insert(Identity.__table__),  # type: ignore[attr-defined]
            [
                {
                    "person_id": p.id,
                    "platform": "teams",
                    "workspace": TENANT,
                    "user_id": u.id,
                    "conversation_ref": {},
                }
                for u, p in zip(users, people, strict=True)
            ],
        )
        await connection.execute(
            insert(Enrolment.__table__),  # type: ignore[attr-defined]
            [
                {
                    "cohort_id": cohort.id,
                    "person_id": p.id,
                    "role": "learner",
                    "status": "active",
                    "enrolled_at": now,
                }
                for p in people
            ],
        )
    return users
