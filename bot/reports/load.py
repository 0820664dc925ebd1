"""Load everything a report or a digest needs in a handful of set-based queries.

No query runs per learner: completions and attendance are aggregated by SQL GROUP BY, so a
cohort of 10,000 learners comes back as a few thousand small rows, not hundreds of thousands.
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

from bot.models import Activity, Cohort, Completion, Enrolment, LiveSession, ManagerLink, Module, Person
from bot.registry import KPIS

DONE = ("completed", "passed")
ATTENDED = ("present", "late")
# Activity kinds that show a learner doing something (attendance counts only when they came).
LEARNER_KINDS = ("module.completed", "survey.answered", "challenge.answered")


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
    last_at: datetime | None


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
    # Latest attendance status counts: per learner (over sessions that started), per session.
    attendance_by_person: dict[int, Counter[str]] = field(default_factory=dict)
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
    await _completions(session, rows, who, everyone, past_due)
    await _attendance(session, rows, who, everyone, [s.id for s in rows.sessions if s.starts_at <= now])
    await _last_activity(session, rows, who)
    if with_kpis:
        for name, provider in sorted(KPIS.items()):
            rows.kpis[name] = dict(await provider(session, cohort))
    return rows


async def _learners(session: AsyncSession, cid: int, person_ids: Collection[int] | None) -> list[Learner]:
    query = (
        select(Person, Enrolment.enrolled_at)
        .join(Enrolment, col(Enrolment.person_id) == Person.id)
        .where(Enrolment.cohort_id == cid, Enrolment.role == "learner", Enrolment.status == "active")
        .order_by(col(Person.display_name), col(Person.id))
    )
    if person_ids is not None:
        query = query.where(col(Person.id).in_(list(person_ids)))
    return [
        Learner(p.id or 0, p.display_name, p.site, p.department, p.seniority, p.tz, enrolled_at)
        for p, enrolled_at in (await session.exec(query)).all()
    ]


async def _completions(
    session: AsyncSession, rows: CohortRows, who: Any, everyone: Any, past_due: list[int]
) -> None:
    done = col(Completion.status).in_(DONE)
    as_int = sa.Integer
    per_person = (
        select(
            Completion.person_id,
            sa.func.sum(sa.cast(done, as_int)),
            sa.func.sum(sa.cast(sa.and_(done, col(Completion.module_id).in_(past_due)), as_int)),
            sa.func.sum(sa.cast(Completion.status == "failed", as_int)),
            sa.func.max(Completion.at),
        )
        .join(Module, col(Module.id) == Completion.module_id)
        .where(Completion.cohort_id == rows.cohort_id, Module.cohort_id == rows.cohort_id)
        .where(col(Completion.person_id).in_(who))
        .group_by(col(Completion.person_id))
    )
    for pid, n_done, n_past, n_failed, last in (await session.exec(per_person)).all():
        rows.by_person[pid] = PersonCompletions(int(n_done or 0), int(n_past or 0), int(n_failed or 0), last)
    per_module = (
        select(
            Completion.module_id,
            sa.func.sum(sa.cast(done, as_int)),
            sa.func.sum(sa.cast(Completion.status == "failed", as_int)),
            sa.func.sum(Completion.score),
            sa.func.count(Completion.score),
        )
        .where(Completion.cohort_id == rows.cohort_id, col(Completion.person_id).in_(everyone))
        .group_by(col(Completion.module_id))
    )
    for mid, n_done, n_failed, score_sum, scored in (await session.exec(per_module)).all():
        rows.by_module[mid] = ModuleCompletions(
            int(n_done or 0), int(n_failed or 0), float(score_sum or 0.0), int(scored or 0)
        )


async def _attendance(
    session: AsyncSession, rows: CohortRows, who: Any, everyone: Any, started: list[int]
) -> None:
    # Corrections are new records: the latest record per (session, learner) is the truth.
    session_id = col(Activity.data)["session_id"].as_integer()
    status = col(Activity.data)["status"].as_string()
    latest = (
        select(sa.func.max(Activity.id))
        .where(Activity.cohort_id == rows.cohort_id, Activity.kind == "attendance.recorded")
        .where(col(Activity.person_id).in_(everyone))
        .group_by(col(Activity.person_id), session_id)
    )
    per_session = (
        select(session_id, status, sa.func.count())
        .where(col(Activity.id).in_(latest))
        .group_by(session_id, status)
    )
    by_session: dict[int, Counter[str]] = defaultdict(Counter)
    for sid, state, n in (await session.exec(per_session)).all():
        by_session[int(sid)][str(state)] += int(n)
    rows.attendance_by_session = dict(by_session)
    per_person = (
        select(Activity.person_id, status, sa.func.count())
        .where(col(Activity.id).in_(latest), col(Activity.person_id).in_(who), session_id.in_(started))
        .group_by(col(Activity.person_id), status)
    )
    by_person: dict[int, Counter[str]] = defaultdict(Counter)
    for pid, state, n in (await session.exec(per_person)).all():
        by_person[int(pid)][str(state)] += int(n)
    rows.attendance_by_person = dict(by_person)


async def _last_activity(session: AsyncSession, rows: CohortRows, who: Any) -> None:
    status = col(Activity.data)["status"].as_string()
    learner_did_something = sa.or_(
        col(Activity.kind).in_(LEARNER_KINDS),
        sa.and_(Activity.kind == "attendance.recorded", status.in_(ATTENDED)),
        Activity.actor_id == Activity.person_id,
    )
    query = (
        select(Activity.person_id, sa.func.max(Activity.at))
        .join(
            Enrolment,
            sa.and_(
                col(Enrolment.cohort_id) == Activity.cohort_id,
                col(Enrolment.person_id) == Activity.person_id,
            ),
        )
        .where(Activity.cohort_id == rows.cohort_id, col(Activity.person_id).in_(who))
        .where(col(Activity.at) >= Enrolment.enrolled_at, learner_did_something)
        .group_by(col(Activity.person_id))
    )
    rows.last_activity = {int(pid): at for pid, at in (await session.exec(query)).all() if at is not None}


async def manager_links(session: AsyncSession, cohort_id: int) -> dict[int, list[int]]:
    """manager id -> the learner ids who report to them in this cohort."""
    links: dict[int, list[int]] = defaultdict(list)
    query = select(ManagerLink.manager_id, ManagerLink.learner_id).where(ManagerLink.cohort_id == cohort_id)
    for manager_id, learner_id in (await session.exec(query)).all():
        links[manager_id].append(learner_id)
    return dict(links)
