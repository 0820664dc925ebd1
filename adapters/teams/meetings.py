"""Teams meeting activities (`application/vnd.microsoft.meetingStart|meetingEnd|
meetingParticipantJoin|meetingParticipantLeave`) as platform-neutral `MeetingEvent`s.

Shapes as Teams documents them: the meeting chat is the conversation (`19:meeting_...@thread.v2`),
`channelData.meeting.id` the meeting's id, start and end carry `Id`, `JoinUrl`, `Title` and
`StartTime` / `EndTime` in `value`, joins and leaves `value.members[]` with `user.id`,
`user.aadObjectId` and `meeting.inMeeting`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botbuilder.schema import Activity

from adapters.teams.translate import tenant_of
from bot.core.dedupe import opaque_key
from bot.core.meetings import Kind, MeetingEvent, Participant

EVENT_KINDS: dict[str, Kind] = {
    "application/vnd.microsoft.meetingStart": "start",
    "application/vnd.microsoft.meetingEnd": "end",
    "application/vnd.microsoft.meetingParticipantJoin": "join",
    "application/vnd.microsoft.meetingParticipantLeave": "leave",
}


def is_meeting_chat(activity: Activity) -> bool:
    """A meeting's chat: Teams says so in `channelData.meeting`, or by the thread's name."""
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    conversation = activity.conversation.id if activity.conversation else ""
    return bool((channel_data.get("meeting") or {}).get("id")) or conversation.startswith("19:meeting_")


def meeting_event(activity: Activity, kind: Kind | None = None) -> MeetingEvent | None:
    """The event (`kind` for an activity that is not itself a meeting event, e.g. the app added to
    a meeting chat), or None when there is none we can place (no meeting chat)."""
    kind = kind or EVENT_KINDS.get(activity.name or "")
    if kind is None or activity.conversation is None or not activity.conversation.id:
        return None
    value = activity.value if isinstance(activity.value, dict) else {}
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    meeting_id = str((channel_data.get("meeting") or {}).get("id") or value.get("Id") or "")
    stamp = value.get("StartTime") if kind == "start" else value.get("EndTime") if kind == "end" else None
    return MeetingEvent(
        kind=kind,
        workspace=tenant_of(activity),
        thread_id=activity.conversation.id,
        meeting_id=meeting_id,
        at=_parse_time(stamp) or _aware(activity.timestamp) or datetime.now(UTC),
        join_url=str(value.get("JoinUrl") or ""),
        title=str(value.get("Title") or ""),
        participants=participants_of(value) if kind in ("join", "leave") else (),
    )


def participants_of(value: dict[str, Any]) -> tuple[Participant, ...]:
    """The users of `value.members` (entries without a user id are skipped: nothing vouches for them)."""
    found = []
    for member in value.get("members") or []:
        user = (member or {}).get("user") if isinstance(member, dict) else None
        if not isinstance(user, dict) or not user.get("id"):
            continue
        found.append(
            Participant(
                user_id=str(user["id"]),
                name=str(user.get("name") or ""),
                directory_id=str(user.get("aadObjectId") or user.get("objectId") or ""),
                email=_email(user),
            )
        )
    return tuple(found)


def event_key(activity: Activity, secret: bytes) -> str:
    """Stable per delivery: the activity id, or (lacking one) the meeting, event, time and members."""
    if activity.id:
        return opaque_key("teams:meeting:", secret, activity.id)
    conversation = activity.conversation.id if activity.conversation else ""
    return opaque_key(
        "teams:meeting:", secret, conversation, activity.name, activity.timestamp, repr(activity.value)
    )


def _email(user: dict[str, Any]) -> str:
    email = user.get("email") or user.get("userPrincipalName") or ""
    return str(email) if "@" in str(email) else ""


def _aware(at: datetime | None) -> datetime | None:
    if at is None:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _parse_time(text: Any) -> datetime | None:
    """Teams' times carry 7 fractional digits (`2023-02-23T19:34:07.1019885Z`): keep 6."""
    if not isinstance(text, str) or not text:
        return None
    raw = text.strip().replace("Z", "+00:00")
    head, dot, rest = raw.partition(".")
    if dot:
        digits = "".join(c for c in rest if c.isdigit())
        zone = rest[len(digits) :]
        raw = f"{head}.{digits[:6]}{zone}"
    try:
        return _aware(datetime.fromisoformat(raw))
    except ValueError:
        return None
