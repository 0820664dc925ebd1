"""Attach a platform account that a directory found by email to the person enrolled with that
email (merging a split record if the account was already bound to someone else), and announce
the link so capabilities can catch up (e.g. send the welcome the person could not get before)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlmodel import col, select

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


async def link_many(ctx: EventContext, found: list[Found], *, source: str) -> int:
    """Link a batch (a roster sync finds thousands): accounts new to us whose email belongs to
    someone known are attached with a few statements for the whole batch; anything else (an
    account already bound, a merge to make) goes through `link_found` one by one. Returns how
    many accounts were linked."""
    if not found:
        return 0
    accounts = {(f.profile.platform, f.profile.workspace, f.profile.user_id) for f in found}
    known = set(
        (
            await ctx.session.exec(
                select(Identity.platform, Identity.workspace, Identity.user_id).where(
                    col(Identity.user_id).in_([user_id for _, _, user_id in accounts])
                )
            )
        ).all()
    )
    owners: dict[str, tuple[int, str | None]] = {}
    for person_id, email, tz in (
        await ctx.session.exec(
            select(Person.id, Person.email, Person.tz)
            .where(col(Person.email).in_([f.email.lower() for f in found]))
            .order_by(col(Person.id).desc())  # the oldest wins, as in `person_by_email`
        )
    ).all():
        owners[(email or "").lower()] = (person_id or 0, tz)
    simple: dict[int, Found] = {}
    one_by_one: list[Found] = []
    for account in found:
        owner = owners.get(account.email.lower())
        key = (account.profile.platform, account.profile.workspace, account.profile.user_id)
        if owner is None or key in known or owner[0] in simple:
            one_by_one.append(account)
        else:
            simple[owner[0]] = account
    if simple:
        connection = await ctx.session.connection()
        await connection.execute(
            insert(Identity.__table__),  # type: ignore[attr-defined]
            [
                {
                    "person_id": person_id,
                    "platform": a.profile.platform,
                    "workspace": a.profile.workspace,
                    "user_id": a.profile.user_id,
                    "conversation_ref": a.conversation_ref or {},
                }
                for person_id, a in simple.items()
            ],
        )
        zones = [
            {"pid": pid, "tz": a.profile.tz}
            for pid, a in simple.items()
            if a.profile.tz and owners[a.email.lower()][1] is None
        ]
        if zones:
            table = Person.__table__  # type: ignore[attr-defined]
            await connection.execute(
                update(table).where(table.c.id == bindparam("pid")).values(tz=bindparam("tz")), zones
            )
        platform = next(iter(simple.values())).profile.platform
        await ctx.log_many(
            LINKED, [{"person_id": pid, "platform": platform, "source": source} for pid in simple]
        )
    for account in one_by_one:
        await link_found(ctx, account, source=source)
    return len(simple) + len(one_by_one)


async def announce(ctx: EventContext, person_ids: list[int], **data: Any) -> None:
    """Log one `identity.linked` per person (its listeners run in the same transaction)."""
    for person_id in dict.fromkeys(person_ids):
        await ctx.log(LINKED, person_id=person_id, **data)


def is_personal_chat(reference: dict[str, Any] | None) -> bool:
    """A Teams reference to the person's own 1:1 chat with the bot (the best place for DMs)."""
    conversation = (reference or {}).get("conversation") or {}
    return bool(conversation.get("id")) and conversation.get("conversationType", "personal") == "personal"
