"""What adapters hand to the engine: who said or clicked what, where, and how it was authenticated."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Profile:
    """What a platform tells us about a user (all optional)."""

    platform: str
    workspace: str
    user_id: str
    name: str | None = None
    email: str | None = None
    tz: str | None = None
    locale: str | None = None  # the platform's locale for them, e.g. "fr-FR"


@dataclass(frozen=True)
class Action:
    """A button click or an answer: the action id, its value, and any typed or picked inputs."""

    action_id: str
    value: str = ""
    inputs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Inbound:
    """One platform-neutral request: a command (`text`) or an action (`action`)."""

    sender: Profile
    text: str | None = None
    action: Action | None = None
    channel_id: str | None = None  # where it was said or clicked
    # Mention tokens as written in `text` (e.g. "<@U0123ABCD>") and the profile behind each.
    mentions: dict[str, Profile] = field(default_factory=dict)
    # Mention tokens not looked up yet, and how to look them up: the engine calls `lookup_mentions`
    # only once the command may run (see bot/core/mentions.py).
    pending_mentions: tuple[str, ...] = ()
    lookup_mentions: Callable[[tuple[str, ...]], Awaitable[dict[str, Profile]]] | None = None
    dedupe_key: str | None = None  # platform event id: a retried delivery carries the same one
    event_time: datetime | None = None  # the platform's time for the event, when it sends one
    auth: str = "console"  # how the request was authenticated, kept as evidence
    conversation_ref: dict[str, Any] | None = None  # Teams: where to send proactive messages
    source_key: str | None = None  # outbox key of the message whose button was clicked
    # Where the platform takes an answer in place (Slack: the interaction's response_url): the
    # engine then queues its reply in the outbox with the commit (bot/core/replies.py).
    reply_to: str | None = None
