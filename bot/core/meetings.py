"""Online-meeting events, platform-neutral: a meeting started or ended, participants joined or left.

An adapter (Teams) turns its platform's meeting activities into a `MeetingEvent` and hands it to the
engine as the action `MEETING_ACTION`, whose value is `encode(event)`; the attendance capability
decodes it. Only plain data crosses: no platform type reaches `bot/`.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Literal, cast
from urllib.parse import unquote, urlsplit

MEETING_ACTION = "meeting.event"
# "added": the app was added to the meeting (its chat), which is when a trainer can pick the session.
Kind = Literal["added", "start", "end", "join", "leave"]
KINDS = ("added", "start", "end", "join", "leave")
# A Teams meeting chat's thread id, as it appears (URL-encoded) in classic join URLs.
_THREAD = re.compile(r"19:meeting_[A-Za-z0-9_\-=+/]+@thread\.v2")


@dataclass(frozen=True)
class Participant:
    """Who joined or left, as the platform vouches for them (never matched on the name)."""

    user_id: str
    name: str = ""
    directory_id: str = ""  # Teams: the AAD object id
    email: str = ""  # from the platform's member lookup, when it answered


@dataclass(frozen=True)
class MeetingEvent:
    kind: Kind
    workspace: str  # Teams: the tenant
    thread_id: str  # the meeting chat's conversation id
    meeting_id: str  # the platform's meeting id
    at: datetime  # the platform's time for the event (UTC)
    join_url: str = ""
    title: str = ""
    participants: tuple[Participant, ...] = ()


def encode(event: MeetingEvent) -> str:
    data = asdict(event)
    data["at"] = event.at.astimezone(UTC).isoformat()
    return json.dumps(data, separators=(",", ":"))


def decode(value: str) -> MeetingEvent:
    """The event an adapter encoded; ValueError for anything else."""
    try:
        data = json.loads(value)
        kind = data["kind"]
        if kind not in KINDS:
            raise ValueError(f"unknown meeting event {kind!r}")
        at = datetime.fromisoformat(data["at"])
        people = tuple(Participant(**p) for p in data.get("participants") or ())
        return MeetingEvent(
            kind=cast(Kind, kind),
            workspace=str(data["workspace"]),
            thread_id=str(data["thread_id"]),
            meeting_id=str(data["meeting_id"]),
            at=at if at.tzinfo else at.replace(tzinfo=UTC),
            join_url=str(data.get("join_url") or ""),
            title=str(data.get("title") or ""),
            participants=people,
        )
    except (KeyError, TypeError, json.JSONDecodeError) as e:
        raise ValueError(f"not a meeting event: {e}") from e


def thread_of_join_url(url: str) -> str | None:
    """The meeting chat's thread id in a classic Teams join URL (`/l/meetup-join/19%3ameeting_...`)."""
    found = _THREAD.search(unquote(url))
    return found.group(0) if found else None


def same_join_url(a: str, b: str) -> bool:
    """Two join URLs for one meeting: same host and path (the query carries tenant/organizer context)."""
    if not a or not b:
        return False
    pa, pb = urlsplit(a.strip()), urlsplit(b.strip())
    return (pa.netloc.lower(), unquote(pa.path).rstrip("/").lower()) == (
        pb.netloc.lower(),
        unquote(pb.path).rstrip("/").lower(),
    )
