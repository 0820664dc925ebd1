"""Erase a learner's personal data from the attendance evidence without breaking any chain.

A record's hash covers a keyed digest of its personal fields (name, platform ids, reason, salt),
not the fields themselves. Erasing blanks those fields and the salt (so even the secret's holder
can no longer test a guess against the digest), flags the rows, and appends an erasure record to
each chain concerned: the chain records an erasure rather than breaking. What stays is what
attendance evidence is: a pseudonymous person id, statuses and times.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.attendance.evidence import ERASURE_AUTH, Fact, append, chain_for, session_state
from bot.capabilities.attendance.keys import chain_secret, settings_of
from bot.capabilities.attendance.models import AbsenceRequest, AttendanceRecord
from bot.core.models import Cohort, LiveSession
from bot.core.settings import Settings

ERASED_REASON = "personal data erased on request"


async def erase_learner(
    session: AsyncSession, person_id: int, now: datetime, settings: Settings | None = None
) -> int:
    """Blank the person's personal fields in every attendance record; returns how many records.

    Pass the running settings (`ctx.settings`); without them the environment's are read, with the
    database URL of `session` (which locates a SQLite database's chain secret).
    """
    secret = chain_secret(settings or await settings_of(session))
    rows = (
        await session.exec(
            select(AttendanceRecord)
            .where(AttendanceRecord.person_id == person_id, col(AttendanceRecord.erased).is_(False))
            .order_by(col(AttendanceRecord.session_id), col(AttendanceRecord.seq))
        )
    ).all()
    targets = [r for r in rows if r.auth != ERASURE_AUTH]
    if not targets:
        return 0
    last_status: dict[int, str] = {}
    for row in rows:
        last_status[row.session_id] = row.status
    await session.exec(
        update(AttendanceRecord)  # type: ignore[call-overload]
        .where(col(AttendanceRecord.id).in_([r.id for r in targets]))
        .values(
            person_name="",
            platform="",
            workspace="",
            platform_user_id="",
            reason=None,
            person_salt="",
            erased=True,
        )
    )
    await session.exec(
        update(AbsenceRequest)  # type: ignore[call-overload]
        .where(AbsenceRequest.person_id == person_id)
        .values(reason=ERASED_REASON)
    )
    for session_id, status in sorted(last_status.items()):
        live = await session.get_one(LiveSession, session_id)
        cohort = await session.get_one(Cohort, live.cohort_id)
        state = await session_state(session, session_id)
        fact = Fact(
            person_id=person_id,
            person_name="",
            platform="",
            workspace="",
            platform_user_id="",
            status=status,  # the learner's standing is evidence, not personal data: it stays
            auth=ERASURE_AUTH,
            idempotency_key=f"erase:{session_id}:{person_id}:{state.head_seq + 1}",
            reason=ERASED_REASON,
        )
        await append(session, state, chain_for(secret, cohort, live), [fact], now)
    return len(targets)
