"""Attendance's part of data rights. Erasing removes the free-text reasons of a person's absence
requests (possibly health data) and their wrong-code counters; the requests themselves stay (the
attendance rates count them). A retention purge removes old absence reasons the same way.

TODO(issue 17, audit evidence): the hash-chained `attendance_record` rows keep the person's name,
platform ids and correction reasons; erasing them must record an erasure in the chain rather than
break it. The evidence engineer provides `evidence.erase_learner(...)`: call it from `erase` below.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.attendance.models import AbsenceRequest, CodeFailure
from bot.core.privacy import ERASED
from bot.core.registry import personal_data, retention_purge
from bot.core.settings import Settings


async def erase(session: AsyncSession, person_id: int, now: datetime, settings: Settings) -> dict[str, int]:
    reasons = await session.execute(
        update(AbsenceRequest).where(col(AbsenceRequest.person_id) == person_id).values(reason=ERASED)
    )
    failures = await session.execute(delete(CodeFailure).where(col(CodeFailure.person_id) == person_id))
    # TODO(issue 17): counts.update(await evidence.erase_learner(session, person_id, now))
    return {
        "absence_reasons": reasons.rowcount,  # type: ignore[attr-defined]
        "code_failures": failures.rowcount,  # type: ignore[attr-defined]
    }


@retention_purge("attendance.absence_reasons")
async def purge_absence_reasons(session: AsyncSession, cutoff: datetime) -> int:
    result = await session.execute(
        update(AbsenceRequest)
        .where(col(AbsenceRequest.requested_at) < cutoff, col(AbsenceRequest.reason) != ERASED)
        .values(reason=ERASED)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


personal_data("attendance", erase=erase)
