"""Who should attend a session and where each learner stands: learners, identities, latest records."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.attendance.models import AbsenceRequest, AttendanceRecord
from bot.core.models import Enrolment, Identity, Person
from bot.core.people import identities_of


@dataclass(frozen=True)
class Learner:
    person: Person
    identity: Identity | None
    team: str | None

    @property
    def id(self) -> int:
        return self.person.id or 0

    @property
    def platform_ids(self) -> tuple[str, str, str]:
        if self.identity is None:
            return ("none", "", "")
        return (self.identity.platform, self.identity.workspace, self.identity.user_id)


async def learners(session: AsyncSession, cohort_id: int) -> list[Learner]:
    """Active learners of the cohort with the identity each is reached on, by name."""
    rows = (
        await session.exec(
            select(Person, Enrolment.team)
            .join(Enrolment, col(Enrolment.person_id) == Person.id)
            .where(
                Enrolment.cohort_id == cohort_id, Enrolment.role == "learner", Enrolment.status == "active"
            )
            .order_by(col(Person.display_name))
        )
    ).all()
    identities = await identities_of(session, [p.id or 0 for p, _ in rows])
    return [Learner(p, identities.get(p.id or 0), team) for p, team in rows]


async def latest_records(session: AsyncSession, session_id: int) -> dict[int, list[AttendanceRecord]]:
    """Every record of the session per learner, oldest first: the last one is the current status."""
    rows = (
        await session.exec(
            select(AttendanceRecord)
            .where(AttendanceRecord.session_id == session_id)
            .order_by(col(AttendanceRecord.seq))
        )
    ).all()
    by_person: dict[int, list[AttendanceRecord]] = {}
    for row in rows:
        by_person.setdefault(row.person_id, []).append(row)
    return by_person


async def latest_record(session: AsyncSession, session_id: int, person_id: int) -> AttendanceRecord | None:
    return (
        await session.exec(
            select(AttendanceRecord)
            .where(AttendanceRecord.session_id == session_id, AttendanceRecord.person_id == person_id)
            .order_by(col(AttendanceRecord.seq).desc())
            .limit(1)
        )
    ).first()


async def approved_absences(session: AsyncSession, session_id: int) -> dict[int, AbsenceRequest]:
    rows = (
        await session.exec(
            select(AbsenceRequest).where(
                AbsenceRequest.session_id == session_id, AbsenceRequest.status == "approved"
            )
        )
    ).all()
    return {r.person_id: r for r in rows}


async def declared_absences(session: AsyncSession, session_id: int) -> set[int]:
    """Learners who said they can't attend (approved or not): no point reminding them."""
    rows = await session.exec(select(AbsenceRequest.person_id).where(AbsenceRequest.session_id == session_id))
    return set(rows.all())
