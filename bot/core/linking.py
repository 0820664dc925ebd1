"""Attach a platform account that a directory found by email to the person enrolled with that
email (merging a split record if the account was already bound to someone else), and announce
the link so capabilities can catch up (e.g. send the welcome the person could not get before)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.core.context import EventContext
from bot.core.directory import Found
from bot.core.models import Identity, Person
from bot.core.people import upsert_profile

LINKED = "identity.linked"


async def link_found(ctx: EventContext, found: Found, *, source: str) -> tuple[Person, Identity]:
    """Link `found` in `ctx`'s transaction; logs `identity.linked` when someone known by email
    gets their first (or a merged) account."""
    links: list[int] = []
    profile = replace(found.profile, email=found.email.lower())
    person, identity = await upsert_profile(ctx.session, profile, ctx.now, links=links)
    if found.conversation_ref and not is_personal_chat(identity.conversation_ref):
        identity.conversation_ref = found.conversation_ref
        ctx.session.add(identity)
    await announce(ctx, links, platform=profile.platform, source=source)
    return person, identity


async def announce(ctx: EventContext, person_ids: list[int], **data: Any) -> None:
    """Log one `identity.linked` per person (its listeners run in the same transaction)."""
    for person_id in dict.fromkeys(person_ids):
        await ctx.log(LINKED, person_id=person_id, **data)


def is_personal_chat(reference: dict[str, Any] | None) -> bool:
    """A Teams reference to the person's own 1:1 chat with the bot (the best place for DMs)."""
    conversation = (reference or {}).get("conversation") or {}
    return bool(conversation.get("id")) and conversation.get("conversationType", "personal") == "personal"
