"""Which live session a meeting is: the link table, and finding the session an event belongs to.

A session is linked to a Teams meeting in two ways: its place is the meeting's join URL (`session
... link=<join URL>`), or a trainer picks the session on the card posted in the meeting chat. A
recurring meeting keeps one chat and one join URL for every occurrence, so a meeting may be linked to
several sessions: an event belongs to the one whose planned time is nearest.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.meetings import MeetingEvent, same_join_url, thread_of_join_url
from bot.core.models import LiveSession, utc_field

# An event this long before the start or after the end still belongs to the session.
SLACK = timedelta(hours=2)


class MeetingLink(SQLModel, table=True):
    """A live session held in an online meeting (Teams: its chat thread, meeting id and join URL)."""

    __tablename__ = "attendance_meeting_link"
    __table_args__ = (sa.Index("ix_attendance_meeting_link_thread", "thread_id"),)
    session_id: int = Field(primary_key=True, foreign_key="live_session.id")
    thread_id: str = ""  # known from the join URL, or from the first event of the meeting
    meeting_id: str = ""
    join_url: str = ""
    linked_by: int | None = Field(default=None, foreign_key="person.id")  # None: by the session's link
    linked_at: datetime = utc_field()
    started_at: datetime | None = utc_field(nullable=True)
    ended_at: datetime | None = utc_field(nullable=True)


def is_meeting_url(place: str | None) -> bool:
    return bool(place) and ("teams.microsoft.com/" in (place or "") or "teams.live.com/" in (place or ""))


async def session_for_event(
    session: AsyncSession, event: MeetingEvent, now: datetime
) -> tuple[MeetingLink, LiveSession] | None:
    """The linked session this event belongs to (linking sessions whose place is this meeting's
    join URL on first sight), or None for a meeting no session is linked to."""
    rows = await _linked(session, event)
    # First sight of this meeting around its time: link the sessions held in it by their place.
    linked_near = any(_distance(live, event.at) <= SLACK for _, live in rows)
    if not linked_near and await _link_by_place(session, event, now):
        rows = await _linked(session, event)
    near = [(link, live) for link, live in rows if _distance(live, event.at) <= SLACK]
    if not near:
        return None
    link, live = min(near, key=lambda pair: _distance(pair[1], event.at))
    # Learn the meeting's ids from its events: later events carry only some of them.
    learnt = {
        name: value
        for name, value in (
            ("thread_id", event.thread_id),
            ("meeting_id", event.meeting_id),
            ("join_url", event.join_url),
        )
        if value and not getattr(link, name)
    }
    if learnt:
        for name, value in learnt.items():
            setattr(link, name, value)
        session.add(link)
    return link, live


async def _linked(session: AsyncSession, event: MeetingEvent) -> list[tuple[MeetingLink, LiveSession]]:
    clauses = [col(MeetingLink.thread_id) == event.thread_id]
    if event.meeting_id:
        clauses.append(col(MeetingLink.meeting_id) == event.meeting_id)
    query = (
        select(MeetingLink, LiveSession)
        .join(LiveSession, col(LiveSession.id) == MeetingLink.session_id)
        .where(or_(*clauses))
    )
    return list((await session.exec(query)).all())


def _distance(live: LiveSession, at: datetime) -> timedelta:
    """How far `at` is from the session's planned time (zero inside it)."""
    ends = live.starts_at + timedelta(minutes=live.duration_min)
    if at < live.starts_at:
        return live.starts_at - at
    return max(timedelta(0), at - ends)


async def _link_by_place(session: AsyncSession, event: MeetingEvent, now: datetime) -> int:
    """Link sessions around `event.at` whose place is this meeting's join URL (not linked yet);
    returns how many."""
    linked = select(MeetingLink.session_id)
    candidates = (
        await session.exec(
            select(LiveSession).where(
                col(LiveSession.location).is_not(None),
                col(LiveSession.starts_at) >= event.at - timedelta(days=1),
                col(LiveSession.starts_at) <= event.at + timedelta(days=1),
                col(LiveSession.id).not_in(linked),
            )
        )
    ).all()
    added = 0
    for live in candidates:
        place = live.location or ""
        if not is_meeting_url(place):
            continue
        thread = thread_of_join_url(place)
        if (thread and thread == event.thread_id) or same_join_url(place, event.join_url):
            session.add(
                MeetingLink(
                    session_id=live.id or 0,
                    thread_id=thread or event.thread_id,
                    meeting_id=event.meeting_id,
                    join_url=place,
                    linked_at=now,
                )
            )
            added += 1
    await session.flush()
    return added


async def link_session(
    session: AsyncSession, live: LiveSession, event: MeetingEvent, by: int, now: datetime
) -> MeetingLink:
    """Link `live` to the meeting of `event` (a trainer's choice on the meeting chat's card)."""
    link = await session.get(MeetingLink, live.id)
    if link is None:
        link = MeetingLink(session_id=live.id or 0, linked_at=now)
    link.thread_id, link.meeting_id = event.thread_id, event.meeting_id
    link.join_url = event.join_url or link.join_url
    link.linked_by, link.linked_at = by, now
    if event.kind == "start":
        link.started_at = event.at
    session.add(link)
    await session.flush()
    return link
