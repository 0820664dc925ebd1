"""A session sheet's meeting part: each learner's presence measured by the linked meeting, and the
note it gives when the meeting decides their status (the rule is in `presence.py`)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.attendance.meeting_links import MeetingLink
from bot.capabilities.attendance.models import AttendanceRecord
from bot.capabilities.attendance.presence import Presence, deciding_record, presence_of, presence_rules
from bot.capabilities.attendance.texts import STATUS_LABELS
from bot.core.models import Cohort, LiveSession

MEETING = "meeting"


def is_edge(record: AttendanceRecord) -> bool:
    """A join or leave: evidence of presence, not a status by itself."""
    return record.source == MEETING and record.meeting_event in ("join", "leave")


async def meeting_presence(
    session: AsyncSession, cohort: Cohort, live: LiveSession, records: dict[int, list[AttendanceRecord]]
) -> dict[int, Presence]:
    """Presence per person who joined the session's meeting (none when it has no meeting).
    A meeting without its end event counts until the planned end."""
    if not any(is_edge(r) for history in records.values() for r in history):
        return {}
    link = await session.get(MeetingLink, live.id)
    ended = link.ended_at if link is not None and link.ended_at is not None else None
    if ended is None:
        ended = live.starts_at + timedelta(minutes=live.duration_min)
    rules = presence_rules(cohort)
    measured = {}
    for person_id, history in records.items():
        presence = presence_of(history, live, rules, ended)
        if presence is not None:
            measured[person_id] = presence
    return measured


def meeting_note(history: list[AttendanceRecord], meeting: Presence | None) -> str | None:
    """When the meeting decides the learner's status (it saw them, no trainer corrected them): the
    sheet's note (the click it overrides, if any). None when the click or a correction decides."""
    if meeting is None:
        return None
    decided = deciding_record(history)
    if decided is not None and decided.correction:
        return None
    click = next((r for r in reversed(history) if r.source != MEETING), None)
    return f"check-in: {STATUS_LABELS.get(click.status, click.status)}" if click is not None else ""
