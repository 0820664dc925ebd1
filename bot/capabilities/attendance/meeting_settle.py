"""A linked meeting whose end never came (the bot was removed, Teams dropped the event): settle its
participants anyway, half an hour after the planned end, counting their presence up to that end."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.attendance.meeting_links import MeetingLink
from bot.capabilities.attendance.meeting_records import settle
from bot.core.context import EventContext
from bot.core.models import Cohort, LiveSession
from bot.core.registry import on_event, planner
from schedules.events import PlannedEvent

SETTLE_AFTER = timedelta(minutes=30)
AUTH = "system:meeting-settle"


@planner
async def plan_meeting_settles(session: AsyncSession, cohort: Cohort, now: datetime) -> list[PlannedEvent]:
    rows = (
        await session.exec(
            select(LiveSession)
            .join(MeetingLink, col(MeetingLink.session_id) == LiveSession.id)
            .where(LiveSession.cohort_id == cohort.id, col(MeetingLink.ended_at).is_(None))
        )
    ).all()
    return [
        PlannedEvent(
            f"attendance:meeting-settle:{live.id}",
            "attendance.meeting_settle",
            live.starts_at + timedelta(minutes=live.duration_min) + SETTLE_AFTER,
            cohort.id,
            {"session_id": live.id},
            timedelta(days=2),
        )
        for live in rows
    ]


@on_event("attendance.meeting_settle")
async def on_settle(ctx: EventContext, event: PlannedEvent) -> None:
    live = await ctx.session.get(LiveSession, event.payload["session_id"])
    link = await ctx.session.get(MeetingLink, event.payload["session_id"])
    if live is None or link is None or link.ended_at is not None:
        return  # the meeting's end came and settled it
    cohort = await ctx.session.get_one(Cohort, live.cohort_id)
    planned_end = live.starts_at + timedelta(minutes=live.duration_min)
    await settle(ctx, cohort, live, planned_end, auth=AUTH, event_id=None)
