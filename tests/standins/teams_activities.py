"""Bot Framework Activity JSON shaped like what Teams sends: tenant in `channelData`,
`from.aadObjectId`, personal / channel / groupChat conversations, mentions, card actions."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

BOT_ID = "28:00000000-0000-0000-0000-0000000b0771"
BOT_NAME = "cohortbot"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
TEAM_ID = "19:team-general@thread.tacv2"
CHANNEL_ID = "19:cohort-channel@thread.tacv2"

_ids = itertools.count(1)


@dataclass(frozen=True)
class TeamsUser:
    name: str
    locale: str = "en-US"  # what the user's Teams client sends as the activity's locale

    @property
    def id(self) -> str:
        return f"29:1{self.name}-user-id"

    @property
    def aad(self) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_DNS, self.name + ".example.com"))

    @property
    def account(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name.title(), "aadObjectId": self.aad}

    @property
    def personal_conversation(self) -> str:
        return f"a:1personal-chat-{self.name}"


def _base(service_url: str, user: TeamsUser, kind: str, **extra: Any) -> dict[str, Any]:
    activity_id = f"1{next(_ids):012d}"
    if kind == "personal":
        conversation = {"conversationType": "personal", "tenantId": TENANT, "id": user.personal_conversation}
        channel_data: dict[str, Any] = {"tenant": {"id": TENANT}}
    elif kind == "channel":
        conversation = {
            "isGroup": True,
            "conversationType": "channel",
            "tenantId": TENANT,
            "id": f"{CHANNEL_ID};messageid={activity_id}",
        }
        channel_data = {
            "teamsChannelId": CHANNEL_ID,
            "teamsTeamId": TEAM_ID,
            "channel": {"id": CHANNEL_ID},
            "team": {"id": TEAM_ID},
            "tenant": {"id": TENANT},
        }
    else:
        conversation = {
            "isGroup": True,
            "conversationType": "groupChat",
            "tenantId": TENANT,
            "id": "19:group@thread.v2",
        }
        channel_data = {"tenant": {"id": TENANT}}
    return {
        "id": activity_id,
        "timestamp": "2027-03-01T07:00:00.000Z",
        "localTimestamp": "2027-03-01T08:00:00.000+01:00",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": user.account,
        "conversation": conversation,
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "channelData": channel_data,
        "locale": user.locale,
        **extra,
    }


def message(
    service_url: str,
    user: TeamsUser,
    text: str,
    *,
    kind: str = "personal",
    mentions: tuple[TeamsUser, ...] = (),
) -> dict[str, Any]:
    """A message; in a channel or group chat it @mentions the bot first, as Teams requires."""
    entities: list[dict[str, Any]] = []
    parts = []
    if kind != "personal":
        parts.append(f"<at>{BOT_NAME}</at>")
        entities.append(
            {"type": "mention", "text": f"<at>{BOT_NAME}</at>", "mentioned": {"id": BOT_ID, "name": BOT_NAME}}
        )
    parts.append(text)
    for person in mentions:
        written = f"<at>{person.name.title()}</at>"
        parts.append(written)
        entities.append(
            {"type": "mention", "text": written, "mentioned": {"id": person.id, "name": person.name.title()}}
        )
    entities.append({"type": "clientInfo", "locale": user.locale, "country": "US", "platform": "Web"})
    return _base(
        service_url, user, kind, type="message", text=" ".join(parts), textFormat="plain", entities=entities
    )


def execute(
    service_url: str,
    user: TeamsUser,
    action: dict[str, Any],
    reply_to: str,
    inputs: dict[str, str] | None = None,
    *,
    kind: str = "personal",
) -> dict[str, Any]:
    """An `adaptiveCard/action` invoke, as an Action.Execute click sends it."""
    data = {**action["data"], **(inputs or {})}
    value = {"action": {"type": "Action.Execute", "verb": action["verb"], "data": data}, "trigger": "manual"}
    return _base(
        service_url, user, kind, type="invoke", name="adaptiveCard/action", value=value, replyToId=reply_to
    )


def submit(
    service_url: str,
    user: TeamsUser,
    action: dict[str, Any],
    reply_to: str,
    inputs: dict[str, str] | None = None,
    *,
    kind: str = "personal",
) -> dict[str, Any]:
    """A message carrying an Action.Submit's data merged with the card's inputs."""
    submit_action = action.get("fallback", action)
    value = {**submit_action["data"], **(inputs or {})}
    return _base(service_url, user, kind, type="message", value=value, replyToId=reply_to)


def installation(
    service_url: str, user: TeamsUser, action: str = "add", *, kind: str = "personal"
) -> dict[str, Any]:
    return _base(service_url, user, kind, type="installationUpdate", action=action)


def members_added(
    service_url: str, user: TeamsUser, *added: dict[str, Any], kind: str = "personal"
) -> dict[str, Any]:
    """conversationUpdate with membersAdded (the bot itself when the app is installed)."""
    activity = _base(service_url, user, kind, type="conversationUpdate", membersAdded=list(added))
    activity["channelData"]["eventType"] = "teamMemberAdded"
    return activity


BOT_ACCOUNT = {"id": BOT_ID, "name": BOT_NAME}


def actions_of(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every action of a card, in order."""
    found: list[dict[str, Any]] = []
    for element in card.get("body", []):
        if element.get("type") == "ActionSet":
            found.extend(element["actions"])
    return found


# -- meetings (issue 19): the event activities a bot in a Teams meeting receives ------------------


@dataclass(frozen=True)
class TeamsMeeting:
    """A scheduled Teams meeting: its chat thread, its id and its (classic) join URL."""

    slug: str

    @property
    def thread_id(self) -> str:
        return f"19:meeting_{self.slug}Y2Q3ZmM1@thread.v2"

    @property
    def meeting_id(self) -> str:
        return "MCMxOTptZWV0aW5nXz" + self.slug + "QHRocmVhZC52MiMw"

    @property
    def join_url(self) -> str:
        thread = self.thread_id.replace(":", "%3a").replace("@", "%40")
        context = f"%7b%22Tid%22%3a%22{TENANT}%22%2c%22Oid%22%3a%22organizer%22%7d"
        return f"https://teams.microsoft.com/l/meetup-join/{thread}/0?context={context}"


def _meeting_base(
    service_url: str, sender: dict[str, Any], meeting: TeamsMeeting, name: str, at: str, value: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": f"1{next(_ids):012d}",
        "type": "event",
        "name": name,
        "timestamp": at,
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": sender,
        "conversation": {
            "isGroup": True,
            "conversationType": "groupChat",
            "tenantId": TENANT,
            "id": meeting.thread_id,
        },
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "entities": [{"locale": "en-US", "country": "US", "type": "clientInfo"}],
        "channelData": {"tenant": {"id": TENANT}, "source": None, "meeting": {"id": meeting.meeting_id}},
        "value": value,
        "locale": "en-US",
    }


def meeting_start(
    service_url: str, organizer: TeamsUser, meeting: TeamsMeeting, at: str, title: str = "Kick-off"
) -> dict[str, Any]:
    """`application/vnd.microsoft.meetingStart` (Teams' times have 7 fractional digits)."""
    value = {
        "MeetingType": "Scheduled",
        "Title": title,
        "Id": meeting.meeting_id,
        "JoinUrl": meeting.join_url,
        "StartTime": at.replace("Z", "0000Z"),
    }
    sender = {"id": organizer.id, "aadObjectId": organizer.aad}
    return _meeting_base(service_url, sender, meeting, "application/vnd.microsoft.meetingStart", at, value)


def meeting_end(service_url: str, organizer: TeamsUser, meeting: TeamsMeeting, at: str) -> dict[str, Any]:
    value = {
        "MeetingType": "Scheduled",
        "Title": "Kick-off",
        "Id": meeting.meeting_id,
        "JoinUrl": meeting.join_url,
        "EndTime": at.replace("Z", "0000Z"),
    }
    sender = {"id": organizer.id, "aadObjectId": organizer.aad}
    return _meeting_base(service_url, sender, meeting, "application/vnd.microsoft.meetingEnd", at, value)


def participants(
    service_url: str, kind: str, meeting: TeamsMeeting, at: str, *users: TeamsUser
) -> dict[str, Any]:
    """`application/vnd.microsoft.meetingParticipantJoin` or `...Leave` (kind "join" / "leave")."""
    members = [
        {
            "user": {
                "tenantId": TENANT,
                "objectId": u.aad,
                "id": u.id,
                "name": u.name.title(),
                "aadObjectId": u.aad,
                "role": "Attendee",
            },
            "meeting": {"inMeeting": kind == "join", "role": "Attendee"},
        }
        for u in users
    ]
    name = "application/vnd.microsoft.meetingParticipant" + ("Join" if kind == "join" else "Leave")
    sender = {"id": users[0].id, "aadObjectId": users[0].aad}
    return _meeting_base(service_url, sender, meeting, name, at, {"members": members})
