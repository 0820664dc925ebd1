"""Completion's part of data rights: raw xAPI statements name the learner (actor name, email,
account). Erasing empties the raw statements about a person, and the retention purge empties old
ones; the statement id, verb and outcome stay, so a resent statement is still recognised and the
completions it recorded still count."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.completion.models import XapiStatement
from bot.core.registry import personal_data, retention_purge
from bot.core.settings import Settings


async def erase(session: AsyncSession, person_id: int, now: datetime, settings: Settings) -> dict[str, int]:
    result = await session.execute(
        update(XapiStatement).where(col(XapiStatement.person_id) == person_id).values(raw={})
    )
    return {"raw_statements": int(result.rowcount)}  # type: ignore[attr-defined]


@retention_purge("completion.raw_statements")
async def purge_raw_statements(session: AsyncSession, cutoff: datetime) -> int:
    result = await session.execute(
        update(XapiStatement).where(col(XapiStatement.received_at) < cutoff).values(raw={})
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


personal_data("completion", erase=erase)
