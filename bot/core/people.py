"""Who is who: the caller's identity, and the people named in a command (mentions, emails, names)."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.errors import UserError
from bot.core.grammar import brief
from bot.core.i18n import _, language_of
from bot.core.identity_cache import IdentityCache
from bot.core.inbound import Profile
from bot.core.merging import merge_people
from bot.core.models import Identity, Person

SLACK_MENTION_RE = re.compile(r"^<@([A-Z0-9]+)(?:\|([^>]*))?>$")
EMAIL_RE = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
# A console name: letters of any script first (émilie, 李雷, Σοφία), then letters, digits, . _ -.
NAME_RE = re.compile(r"^[^\W\d_][\w.-]{0,40}$")
# Built once with bound parameters: it runs on every inbound, and building it cost more than running it.
_IDENTITY_AND_PERSON = (
    select(Identity, Person)
    .join(Person, col(Person.id) == Identity.person_id)
    .where(
        Identity.platform == bindparam("platform"),
        Identity.workspace == bindparam("workspace"),
        Identity.user_id == bindparam("user_id"),
    )
)


async def upsert_profile(
    session: AsyncSession,
    profile: Profile,
    now: datetime,
    *,
    links: list[int] | None = None,
    cache: IdentityCache | None = None,
) -> tuple[Person, Identity]:
    """Find or create the person behind a platform profile, refreshing what the platform told us.

    The profile's email (vouched for by the platform) links the account to someone enrolled by
    email: at once for a new account, or later for an account first seen without it (its profile
    lookup failed), by merging the two person records. Each person linked so is added to `links`.
    `cache` (the engine's, on SQLite) spares the lookup of an account seen before.
    """
    key = (profile.platform, profile.workspace, profile.user_id)
    found = None
    if cache is not None:
        await session.connection()  # the transaction has begun: the cache has seen other writers
        found = cache.recall(session, key)
    if found is None:
        params = {"platform": profile.platform, "workspace": profile.workspace, "user_id": profile.user_id}
        found = (await session.exec(_IDENTITY_AND_PERSON, params=params)).first()
        if found is not None and cache is not None:
            cache.remember(key, *found)
    if found is None:
        person, enrolled_before = await _person_for_new_identity(session, profile, now)
        if links is not None and enrolled_before:
            links.append(person.id or 0)
        identity = Identity(
            person_id=person.id,
            platform=profile.platform,
            workspace=profile.workspace,
            user_id=profile.user_id,
        )
        session.add(identity)
        await session.flush()
        return person, identity
    identity, person = found
    if profile.email and not person.email:
        enrolled = await person_by_email(session, profile.email)
        if enrolled is not None and enrolled.id != person.id:
            await merge_people(
                session, keep=enrolled.id or 0, merge=person.id or 0, now=now, reason="profile email"
            )
            if links is not None:
                links.append(enrolled.id or 0)
            person = enrolled
    changed = False
    if profile.name and person.display_name != profile.name and person.display_name == profile.user_id:
        person.display_name, changed = profile.name, True
    if profile.email and not person.email:
        person.email, changed = profile.email.lower(), True
    if profile.tz and person.tz != profile.tz:
        person.tz, changed = profile.tz, True
    lang = language_of(profile.locale)
    if lang and person.lang != lang and not person.lang_chosen:
        person.lang, changed = lang, True
    if changed:
        session.add(person)
    return person, identity


async def person_by_email(session: AsyncSession, email: str) -> Person | None:
    """The person enrolled with this email (the oldest, should there be several)."""
    query = select(Person).where(Person.email == email.lower()).order_by(col(Person.id))
    return (await session.exec(query)).first()


async def _person_for_new_identity(
    session: AsyncSession, profile: Profile, now: datetime
) -> tuple[Person, bool]:
    """The person a new account belongs to, and whether they were known (by email) before it."""
    if profile.email:
        existing = await person_by_email(session, profile.email)
        if existing is not None:
            return existing, True
    person = Person(
        display_name=profile.name or profile.user_id,
        email=profile.email.lower() if profile.email else None,
        tz=profile.tz,
        lang=language_of(profile.locale),
        created_at=now,
    )
    session.add(person)
    await session.flush()
    return person, False


async def resolve_person(
    session: AsyncSession,
    token: str,
    *,
    platform: str,
    workspace: str,
    mentions: dict[str, Profile],
    now: datetime,
) -> Person:
    """Turn one written person (mention, email, or console name) into a Person, or a UserError."""
    if token in mentions:
        person, _identity = await upsert_profile(session, mentions[token], now)
        return person
    mention = SLACK_MENTION_RE.match(token)
    if mention:
        profile = Profile(
            "slack", workspace if platform == "slack" else "", mention.group(1), mention.group(2)
        )
        person, _identity = await upsert_profile(session, profile, now)
        return person
    if EMAIL_RE.match(token):
        email = token.lower()
        found = (await session.exec(select(Person).where(Person.email == email))).first()
        if found is not None:
            return found
        person = Person(display_name=email.split("@")[0], email=email, created_at=now)
        session.add(person)
        await session.flush()
        return person
    name = unicodedata.normalize("NFC", token.lstrip("@")).lower()
    if platform == "console" and NAME_RE.match(name):
        person, _identity = await upsert_profile(session, Profile("console", "", name, name), now)
        return person
    if NAME_RE.match(name):
        # On a chat platform a bare name is ambiguous: accept it only if exactly one person has it.
        matches = (await session.exec(select(Person).where(col(Person.display_name).ilike(name)))).all()
        if len(matches) == 1:
            return matches[0]
    raise UserError(
        _("I don't know who '{who}' is: mention them (@name) or write their email.", who=brief(token))
    )


async def identities_of(session: AsyncSession, person_ids: list[int]) -> dict[int, Identity]:
    """The identity to reach each person on: the most recently linked one that is not blocked."""
    rows = (
        await session.exec(
            select(Identity).where(col(Identity.person_id).in_(person_ids)).order_by(col(Identity.id))
        )
    ).all()
    best: dict[int, Identity] = {}
    for identity in rows:
        current = best.get(identity.person_id)
        if current is None or (current.blocked_at is not None) or identity.blocked_at is None:
            best[identity.person_id] = identity
    return best


def matches_admin(identity: Identity | None, vouched_email: str | None, admins: list[str]) -> bool:
    """Is the caller one of the configured admins?

    Only what the platform vouches for counts: the platform user id of the identity the request
    was authenticated as, the email the platform's profile API returned for it (Slack
    `users.info`, Teams member lookup), or a console name when the request came from the
    console. Never a display name: users choose those (a user named `boss@corp.example` is not
    that admin).
    """
    if not admins or identity is None:
        return False
    emails = {a for a in admins if "@" in a}
    if identity.user_id.lower() in set(admins) - emails:
        return True  # a platform user id (in the console: the console name)
    if identity.platform == "console" or not vouched_email:
        return False
    return vouched_email.lower() in emails
