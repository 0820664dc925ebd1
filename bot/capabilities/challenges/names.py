"""Display names of people, fetched in one query for lists and leaderboards."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.models import Person


async def display_names(session: AsyncSession, person_ids: list[int]) -> dict[int, str]:
    if not person_ids:
        return {}
    rows = await session.exec(select(Person.id, Person.display_name).where(col(Person.id).in_(person_ids)))
    return {pid: name for pid, name in rows.all() if pid is not None}
