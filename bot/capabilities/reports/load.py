"""Load everything a report or a digest needs in a handful of set-based queries.

No query runs per learner: completions and attendance are aggregated by SQL GROUP BY, so a
cohort of 10,000 learners comes back as a few thousand small rows, not hundreds of thousands.
Attendance and last activity come from the summaries kept by `bot.capabilities.reports.summary`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.reports.summary import ATTENDED, ReportAttendance, ReportLastSeen
from bot.core.models import Cohort, Completion, Enrolment, LiveSession, ManagerLink, Module, Person
from bot.core.registry import KPIS

DONE = ("completed", "passed")


@dataclass(frozen=True)
class Learner:
    person_id: int
    name: str
    site: str | None
    department: str | None
    seniority: str | None
    tz: str | None
    enrolled_at: datetime


@dataclass(frozen=True)
class ModuleRow:
    id: int
    title: str
    due_at: datetime


@dataclass(frozen=True)
class SessionRow:
    id: int
    title: str
    starts_at: datetime


@dataclass(frozen=True)
class PersonCompletions:
    done: int  # completed or passed, any module
    done_past_due: int  # completed or passed, among modules already due
    failed: int


@dataclass(frozen=True)
class ModuleCompletions:
    done: int
    failed: int
    score_sum: float
    scored: int


@dataclass
class CohortRows:
    """What the database says about one cohort (or some of its learners), already aggregated."""

    cohort_id: int
    slug: str
    tz: str
    now: datetime
    learners: list[Learner]
    modules: list[ModuleRow]
    sessions: list[SessionRow]
    by_person: dict[int, PersonCompletions] = field(default_factory=dict)
    by_module: dict[int, ModuleCompletions] = field(default_factory=dict)
    # Latest attendance: per learner (over sessions that started), status counts per session.
    attendance_by_person: dict[int, tuple[int, int]] = field(default_factory=dict)  # attended, excused
    attendance_by_session: dict[int, Counter[str]] = field(default_factory=dict)
    last_activity: dict[int, datetime] = field(default_factory=dict)
    kpis: dict[str, dict[str, Any]] = field(default_factory=dict)


def _learner_ids(cohort_id: int) -> Any:
    return select(Enrolment.person_id).where(
        Enrolment.cohort_id == cohort_id, Enrolment.role == "learner", Enrolment.status == "active"
    )


async def load_rows(
    session: AsyncSession,
    cohort: Cohort,
    now: datetime,
    *,
    person_ids: Collection[int] | None = None,
    with_kpis: bool = True,
) -> CohortRows:
    """The cohort's rows; `person_ids` narrows the per-learner parts (a manager's digest)."""
    cid = cohort.id or 0
    everyone = _learner_ids(cid)
    who: Any = everyone if person_ids is None else list(person_ids)
    rows = CohortRows(
        cohort_id=cid,
        slug=cohort.slug,
        tz=cohort.tz,
        now=now,
        learners=await _learners(session, cid, person_ids),
        modules=[
            ModuleRow(m.id or 0, m.title, m.due_at)
            for m in (
                await session.exec(
                    select(Module).where(Module.cohort_id == cid).order_by(col(Module.due_at), col(Module.id))
                )
            ).all()
        ],
        sessions=[
            SessionRow(s.id or 0, s.title, s.starts_at)
            for s in (
                await session.exec(
                    select(LiveSession)
                    .where(LiveSession.cohort_id == cid)
                    .order_by(col(LiveSession.starts_at), col(LiveSession.id))
                )
            ).all()
        ],
    )
    past_due = [m.id for m in rows.modules if m.due_at <= now]
    await _completions(session, rows, person_ids, everyone, past_due)
    await _attendance(
        session, rows, person_ids, everyone, [s.id for s in rows.sessions if s.starts_at <= now]
    )
    await _last_activity(session, rows, who)
    if with_kpis:
        for name, provider in sorted(KPIS.items()):
            rows.kpis[name] = dict(await provider(session, cohort))
    return rows


async def _learners(session: AsyncSession, cid: int, person_ids: Collection[int] | None) -> list[Learner]:
    columns: list[Any] = [
        Person.id,
        Person.display_name,
        Person.site,
        Person.department,
        Person.seniority,
        Person.tz,
        Enrolment.enrolled_at,
    ]
    query = (
        sa.select(*columns)
        .join(Enrolment, col(Enrolment.person_id) == Person.id)
        .where(Enrolment.cohort_id == cid, Enrolment.role == "learner", Enrolment.status == "active")
        .order_by(col(Person.display_name), col(Person.id))
    )
    if person_ids is not None:
        query = query.where(col(Person.id).in_(list(person_ids)))
    return [Learner(*row) for row in (await session.exec(query)).all()]


async def _completions(
    session: AsyncSession, rows: CohortRows, only: Collection[int] | None, everyone: Any, past_due: list[int]
) -> None:
    done = col(Completion.status).in_(DONE)
    as_int = sa.Integer
    learners = {learner.person_id for learner in rows.learners}
    # Grouped over everyone with completions (a covering index streams it); others are skipped here.
    per_person = (
        select(
            Completion.person_id,
            sa.func.sum(sa.cast(done, as_int)),
            sa.func.sum(sa.cast(sa.and_(done, col(Completion.module_id).in_(past_due)), as_int)),
            sa.func.sum(sa.cast(Completion.status == "failed", as_int)),
        )
        .where(Completion.cohort_id == rows.cohort_id)
        .group_by(col(Completion.person_id))
    )
    if only is not None:  # a few people (a manager's team): look them up rather than scan
        per_person = per_person.where(col(Completion.person_id).in_(list(only)))
    for pid, n_done, n_past, n_failed in (await session.exec(per_person)).all():
        if pid in learners:
            rows.by_person[pid] = PersonCompletions(int(n_done or 0), int(n_past or 0), int(n_failed or 0))
    # Per module: all completions, minus those of people who are not active learners (few, if any):
    # two index-only scans, cheaper than testing every row against the list of learners.
    modules = {m.id for m in rows.modules}
    counts: dict[int, list[float]] = {mid: [0, 0, 0.0, 0] for mid in modules}
    for sign, who in ((1, None), (-1, everyone)):
        query = select(
            Completion.module_id,
            Completion.status,
            sa.func.count(),
            sa.func.sum(Completion.score),
            sa.func.count(Completion.score),
        ).where(Completion.cohort_id == rows.cohort_id)
        if who is not None:
            query = query.where(col(Completion.person_id).not_in(who))
        for mid, status, n, score_sum, scored in (
            await session.exec(query.group_by(col(Completion.module_id), col(Completion.status)))
        ).all():
            if mid not in counts:
                continue
            agg = counts[mid]
            agg[0] += sign * n if status in DONE else 0
            agg[1] += sign * n if status == "failed" else 0
            agg[2] += sign * float(score_sum or 0.0)
            agg[3] += sign * scored
    rows.by_module = {
        mid: ModuleCompletions(int(c[0]), int(c[1]), c[2], int(c[3])) for mid, c in counts.items() if any(c)
    }


async def _attendance(
    session: AsyncSession,
    rows: CohortRows,
    only: Collection[int] | None,
    everyone: Any,
    started: list[int],
) -> None:
    table = ReportAttendance
    # Per session: every record, minus those of people who are not active learners (two
    # index-only scans, cheaper than testing each record against the list of learners).
    by_session: dict[int, Counter[str]] = defaultdict(Counter)
    for sign, who in ((1, None), (-1, everyone)):
        query = select(table.session_id, table.status, sa.func.count()).where(
            table.cohort_id == rows.cohort_id
        )
        if who is not None:
            query = query.where(col(table.person_id).not_in(who))
        for sid, state, n in (
            await session.exec(query.group_by(col(table.session_id), col(table.status)))
        ).all():
            by_session[sid][state] += sign * n
    rows.attendance_by_session = dict(by_session)
    # Per learner, over the sessions that started: attended (present or late) and excused.
    as_int = sa.Integer
    per_person = (
        select(
            table.person_id,
            sa.func.sum(sa.cast(col(table.status).in_(ATTENDED), as_int)),
            sa.func.sum(sa.cast(table.status == "excused", as_int)),
        )
        .where(table.cohort_id == rows.cohort_id, col(table.session_id).in_(started))
        .group_by(col(table.person_id))
    )
    if only is not None:
        per_person = per_person.where(col(table.person_id).in_(list(only)))
    learners = {learner.person_id for learner in rows.learners}
    rows.attendance_by_person = {
        pid: (int(attended or 0), int(excused or 0))
        for pid, attended, excused in (await session.exec(per_person)).all()
        if pid in learners
    }


async def _last_activity(session: AsyncSession, rows: CohortRows, who: Any) -> None:
    query = select(ReportLastSeen.person_id, ReportLastSeen.at).where(
        ReportLastSeen.cohort_id == rows.cohort_id, col(ReportLastSeen.person_id).in_(who)
    )
    rows.last_activity = dict((await session.exec(query)).all())


async def manager_links(session: AsyncSession, cohort_id: int) -> dict[int, list[int]]:
    """manager id -> the learner ids who report to them in this cohort."""
    links: dict[int, list[int]] = defaultdict(list)
    query = select(ManagerLink.manager_id, ManagerLink.learner_id).where(ManagerLink.cohort_id == cohort_id)
    for manager_id, learner_id in (await session.exec(query)).all():
        links[manager_id].append(learner_id)
    return dict(links)
