"""Challenges' part of data rights: erasing removes what a person typed as quiz answers; whether
they answered, and right, stays (points and the leaderboard are made of it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.challenges.tables import ChallengeEntry
from bot.core.registry import personal_data
from bot.core.settings import Settings


async def erase(session: AsyncSession, person_id: int, now: datetime, settings: Settings) -> dict[str, int]:
    result = await session.execute(
        update(ChallengeEntry).where(col(ChallengeEntry.person_id) == person_id).values(answer=None)
    )
    return {"answers": int(result.rowcount)}  # type: ignore[attr-defined]


personal_data("challenges", erase=erase)
