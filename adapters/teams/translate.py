"""Teams activities as the engine's Inbound: who (tenant + user), what (command text or card
action), where (personal chat, channel, group chat), and the reference to reach them later."""

from __future__ import annotations

import html
import re
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ChannelAccount

from adapters.teams.cards import read_action
from bot.core.dedupe import opaque_key
from bot.core.inbound import Action, Inbound, Profile

PLATFORM = "teams"
_TAG = re.compile(r"<[^>]+>")


def tenant_of(activity: Activity) -> str:
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = (channel_data.get("tenant") or {}).get("id")
    if not tenant and activity.conversation is not None:
        tenant = activity.conversation.tenant_id
    return str(tenant or "")


def profile_of(account: ChannelAccount, tenant: str, locale: str | None = None) -> Profile:
    email = getattr(account, "email", None) or getattr(account, "user_principal_name", None)
    return Profile(
        platform=PLATFORM,
        workspace=tenant,
        user_id=account.id,
        name=account.name or None,
        email=email if email and "@" in email else None,
        locale=locale,
    )


def conversation_type(activity: Activity) -> str:
    conversation = activity.conversation
    return (conversation.conversation_type if conversation else None) or "personal"


def channel_address(activity: Activity) -> str | None:
    """Where a cohort created here posts: the channel (not the reply thread), or the group chat."""
    kind = conversation_type(activity)
    if kind == "personal" or activity.conversation is None:
        return None
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    channel_id = (channel_data.get("channel") or {}).get("id")
    return str(channel_id or activity.conversation.id.split(";", 1)[0])


def reference_of(activity: Activity, *, user: ChannelAccount | None = None) -> dict[str, Any]:
    """The serialized ConversationReference for proactive messages, for `user` (default: the sender).
    A channel reference points at the channel itself, so posting to it starts a new thread."""
    reference = TurnContext.get_conversation_reference(activity)
    if user is not None:
        reference.user = user
    data: dict[str, Any] = reference.serialize()
    data.pop("activityId", None)
    address = channel_address(activity)
    if address and conversation_type(activity) == "channel":
        data["conversation"] = {**data["conversation"], "id": address}
    return data


def command_text(activity: Activity) -> tuple[str, dict[str, Profile]]:
    """The text without the bot's own mention; other mentions become tokens mapped to profiles."""
    text = activity.text or ""
    tenant = tenant_of(activity)
    bot_id = activity.recipient.id if activity.recipient else None
    mentions: dict[str, Profile] = {}
    for entity in activity.entities or []:
        props = entity.additional_properties if hasattr(entity, "additional_properties") else {}
        if entity.type != "mention":
            continue
        written = props.get("text") or ""
        mentioned = props.get("mentioned") or {}
        if not written or not mentioned.get("id"):
            continue
        if mentioned["id"] == bot_id:
            text = text.replace(written, " ", 1)
            continue
        token = f"<@m{len(mentions) + 1}>"
        mentions[token] = Profile(PLATFORM, tenant, mentioned["id"], mentioned.get("name") or None)
        text = text.replace(written, f" \x00{len(mentions)}\x00 ", 1)  # placeholder: survives tag stripping
    text = html.unescape(_TAG.sub(" ", text.replace("<br>", "\n")))
    for n, token in enumerate(mentions, start=1):
        text = text.replace(f"\x00{n}\x00", token)
    return " ".join(text.split()), mentions


def click_key(activity: Activity, secret: bytes) -> str:
    """Stable per click: a redelivered invoke carries the same activity id (or, lacking one, the
    same sender, card and time). Keyed hash, and never the card's data: that is the answer, and
    the stored key must not tie it to the sender (an anonymous survey)."""
    if activity.id:
        return opaque_key("teams:click:", secret, activity.id)
    sender = activity.from_property.id if activity.from_property else ""
    return opaque_key("teams:click:", secret, sender, activity.reply_to_id, activity.timestamp)


def to_inbound(activity: Activity, *, auth: str, secret: bytes) -> Inbound | None:
    """A message (command or Action.Submit) or an `adaptiveCard/action` invoke as an Inbound;
    None when there is nothing for the engine (an empty message, a foreign card's data)."""
    tenant = tenant_of(activity)
    sender = profile_of(activity.from_property, tenant, activity.locale)  # the sender's client locale
    common: dict[str, Any] = {
        "sender": sender,
        "channel_id": channel_address(activity),
        "event_time": activity.timestamp,
        "auth": auth,
        "conversation_ref": reference_of(activity),
    }
    if activity.type == "invoke":
        invoke_action = (activity.value or {}).get("action") or {}
        data = invoke_action.get("data")
        routed = read_action(data)
        if routed is None:
            return None
        action_id, value, inputs, source_key = routed
        return Inbound(
            action=Action(action_id, value, inputs),
            dedupe_key=click_key(activity, secret),
            source_key=source_key,
            **common,
        )
    routed = read_action(activity.value)
    if routed is not None:  # Action.Submit: a message whose value is the card's data and inputs
        action_id, value, inputs, source_key = routed
        return Inbound(
            action=Action(action_id, value, inputs),
            dedupe_key=click_key(activity, secret),
            source_key=source_key,
            **common,
        )
    text, mentions = command_text(activity)
    if not text:
        return None
    return Inbound(text=text, mentions=mentions, dedupe_key=f"teams:{activity.id}", **common)
