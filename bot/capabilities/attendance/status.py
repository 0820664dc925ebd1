"""Attendance in `status` (a learner's own record, per-session totals for trainers) and in reports."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.attendance.cards import count_of
from bot.capabilities.attendance.models import AttendanceRecord
from bot.capabilities.attendance.texts import STATUS_LABELS
from bot.core import i18n
from bot.core.context import Ctx
from bot.core.i18n import _, _n
from bot.core.messages import Block, Text
from bot.core.models import Cohort
from bot.core.registry import kpi, learner_status, staff_status


async def current_statuses(
    session: AsyncSession, cohort: Cohort, person_id: int | None = None
) -> dict[tuple[int, int], str]:
    """(session, person) -> current status: each pair's record with the highest seq."""
    last = (
        select(
            AttendanceRecord.session_id,
            AttendanceRecord.person_id,
            func.max(AttendanceRecord.seq).label("seq"),
        )
        .where(AttendanceRecord.cohort_id == cohort.id)
        .group_by(col(AttendanceRecord.session_id), col(AttendanceRecord.person_id))
    )
    if person_id is not None:
        last = last.where(AttendanceRecord.person_id == person_id)
    sub = last.subquery()
    rows = await session.exec(
        select(AttendanceRecord.session_id, AttendanceRecord.person_id, AttendanceRecord.status).join(
            sub,
            (col(AttendanceRecord.session_id) == sub.c.session_id) & (col(AttendanceRecord.seq) == sub.c.seq),
        )
    )
    return {(s, p): status for s, p, status in rows.all()}


@learner_status
async def learner_attendance(ctx: Ctx, cohort: Cohort, person_id: int) -> list[Block]:
    statuses = Counter((await current_statuses(ctx.session, cohort, person_id)).values())
    held = sum(statuses.values())
    if not held:
        return []
    parts = ", ".join(count_of(s, statuses[s]) for s in STATUS_LABELS if statuses[s])
    attended = statuses["present"] + statuses["late"]
    line = _n(
        "*Attendance*: {attended}/{n} session ({parts})",
        "*Attendance*: {attended}/{n} sessions ({parts})",
        held,
        attended=i18n.number(attended),
        parts=parts,
    )
    return [Text(line)]


@staff_status
async def cohort_attendance(ctx: Ctx, cohort: Cohort) -> list[Block]:
    per_session: dict[int, Counter[str]] = {}
    for (session_id, _person), status in (await current_statuses(ctx.session, cohort)).items():
        per_session.setdefault(session_id, Counter())[status] += 1
    if not per_session:
        return []
    lines = []
    for session_id in sorted(per_session):
        c = per_session[session_id]
        counts = ", ".join(count_of(s, c[s]) for s in STATUS_LABELS if c[s])
        lines.append(f"#{session_id}: {counts}")
    return [Text(_("*Attendance* (`sheet <cohort> #id` for a sheet)") + "\n" + "\n".join(lines))]


@kpi("attendance")
async def attendance_kpi(session: AsyncSession, cohort: Cohort) -> dict[str, Any]:
    """Current statuses over every recorded session: counts and the attendance rate (present + late)."""
    counts = Counter((await current_statuses(session, cohort)).values())
    recorded = sum(counts.values())
    attended = counts["present"] + counts["late"]
    return {
        "attendance_records": recorded,
        **{f"attendance_{s}": counts[s] for s in STATUS_LABELS},
        "attendance_rate": round(attended / recorded, 4) if recorded else None,
    }
