"""The transactional outbox: messages are rows written in the same transaction as their cause.

Each row has a unique idempotency key, so enqueuing the same thing twice is a no-op.
A row is for one reader, so it is written in their language: a message given as a `Compose`
(a function that builds it) is built once per language among its recipients, inside
`i18n.use(lang)`; a ready `Message` is stored as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core import i18n
from bot.core.languages import cohort_language
from bot.core.messages import Message
from bot.core.models import Cohort, Identity, OutboxMessage, Person
from bot.core.store import insert_for

URGENT = 0  # replies and time-critical cards (check-in, a session starting): claimed first
NORMAL = 1
BULK = 2  # digests, leaderboards, results: go when nothing more urgent waits


class Address(NamedTuple):
    """Where a person is reached: what an outbox row needs, without loading Identity objects."""

    platform: str
    workspace: str
    user_id: str
    blocked: bool
    lang: str | None = None  # the language they read, when they have one of their own


# Builds a message in the current language (`bot.core.i18n`): called once per reader's language.
Compose = Callable[[], Message]


def compose(message: Message | Compose, lang: str) -> Message:
    """`message` for a reader of `lang`."""
    if isinstance(message, Message):
        return message
    with i18n.use(lang):
        return message()


async def addresses_of(session: AsyncSession, person_ids: list[int]) -> dict[int, Address]:
    """The address to reach each person on: the most recently linked identity that is not blocked
    (the same choice as `people.identities_of`, as plain columns: fan-outs reach thousands)."""
    rows = await session.exec(
        select(
            Identity.person_id,
            Identity.platform,
            Identity.workspace,
            Identity.user_id,
            Identity.blocked_at,
            Person.lang,
        )
        .join(Person, col(Person.id) == Identity.person_id)
        .where(col(Identity.person_id).in_(person_ids))
        .order_by(col(Identity.id))
    )
    best: dict[int, Address] = {}
    for person_id, platform, workspace, user_id, blocked_at, lang in rows.all():
        current = best.get(person_id)
        if current is None or current.blocked or blocked_at is None:
            best[person_id] = Address(platform, workspace, user_id, blocked_at is not None, lang)
    return best


@dataclass(frozen=True)
class Recipient:
    """One person to message, with the key that makes their copy unique."""

    person_id: int
    key: str
    message: Message | Compose


def insert_ignoring_duplicates(session: AsyncSession, table: Any, key: str = "key") -> Any:
    """INSERT ... ON CONFLICT (key) DO NOTHING for this database's dialect."""
    dialect = session.get_bind().dialect.name
    insert = insert_for(dialect)
    return insert(table).on_conflict_do_nothing(index_elements=[key])


def _insert_ignoring_duplicates(session: AsyncSession) -> Any:
    return insert_ignoring_duplicates(session, OutboxMessage)


async def insert_many(session: AsyncSession, table: Any, rows: list[dict[str, Any]], key: str = "key") -> int:
    """Insert rows in bulk (one executemany: SQLAlchemy compiles once and batches the VALUES),
    ignoring keys already present; returns how many are new."""
    if not rows:
        return 0
    conn = await session.connection()
    result = await conn.execute(insert_ignoring_duplicates(session, table, key), rows)
    return max(0, int(result.rowcount or 0))


async def insert_rows(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    """Insert outbox rows in bulk, ignoring keys already queued; returns how many are new."""
    return await insert_many(session, OutboxMessage.__table__, rows)  # type: ignore[attr-defined]


async def enqueue_dms(
    session: AsyncSession,
    recipients: list[Recipient],
    *,
    now: datetime,
    cohort_id: int | None = None,
    addresses: dict[int, Address] | None = None,
    priority: int = NORMAL,
) -> int:
    """Queue one DM per recipient on the platform they are reached on; returns how many are new.

    People with no identity yet (enrolled by email, never seen) are skipped: nothing to send to.
    Pass `addresses` (from `addresses_of`) when the caller already looked them up.
    """
    if not recipients:
        return 0
    if addresses is None:
        addresses = await addresses_of(session, [r.person_id for r in recipients])
    rows = []
    # A fan-out shares one message per language: build and serialise it once for each.
    payloads: dict[tuple[int, str], dict[str, Any]] = {}
    fallback: str | None = None  # the cohort's language, for readers without their own
    for r in recipients:
        identity = addresses.get(r.person_id)
        if identity is None:
            continue
        lang = identity.lang
        if lang is None and not isinstance(r.message, Message):
            if fallback is None:
                fallback = await cohort_language(session, cohort_id)
            lang = fallback
        lang = lang or i18n.SOURCE_LANGUAGE
        payload = payloads.get((id(r.message), lang))
        if payload is None:
            payload = payloads[(id(r.message), lang)] = compose(r.message, lang).to_dict()
        rows.append(
            {
                "key": r.key,
                "kind": "message",
                "cohort_id": cohort_id,
                "person_id": r.person_id,
                "platform": identity.platform,
                "workspace": identity.workspace,
                "address": identity.user_id,
                "payload": payload,
                "priority": priority,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        )
    return await insert_rows(session, rows)


async def enqueue_dm(
    session: AsyncSession,
    person_id: int,
    message: Message | Compose,
    *,
    key: str,
    now: datetime,
    cohort_id: int | None = None,
) -> bool:
    return await enqueue_dms(session, [Recipient(person_id, key, message)], now=now, cohort_id=cohort_id) == 1


async def enqueue_channel_post(
    session: AsyncSession,
    cohort: Cohort,
    message: Message | Compose,
    *,
    key: str,
    now: datetime,
    priority: int = NORMAL,
) -> bool:
    """Queue a post to the cohort's channel, if it has one, in the cohort's language."""
    if not cohort.channel_platform or not cohort.channel_id:
        return False
    row = {
        "key": key,
        "kind": "message",
        "cohort_id": cohort.id,
        "person_id": None,
        "platform": cohort.channel_platform,
        "workspace": cohort.channel_workspace,
        "address": cohort.channel_id,
        "payload": compose(message, cohort.lang).to_dict(),
        "priority": priority,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    result = await session.exec(_insert_ignoring_duplicates(session).values([row]))  # type: ignore[call-overload]
    return bool(result.rowcount)


async def enqueue_update(
    session: AsyncSession, original_key: str, message: Message, *, key: str, now: datetime
) -> bool:
    """Queue a replacement of an already queued message (e.g. close a check-in card)."""
    return await enqueue_updates(session, [Update(original_key, key, message)], now=now) == 1


@dataclass(frozen=True)
class Update:
    """A replacement for the message queued under `original_key`, with its own idempotency key."""

    original_key: str
    key: str
    message: Message


async def enqueue_updates(session: AsyncSession, updates: list[Update], *, now: datetime) -> int:
    """Queue many replacements a few statements at a time (closing a card for a whole cohort);
    returns how many are new. Updates of messages that were never queued are skipped."""
    added = 0
    for start in range(0, len(updates), UPDATE_BATCH):
        added += await _enqueue_update_batch(session, updates[start : start + UPDATE_BATCH], now)
    return added


UPDATE_BATCH = 500  # keeps each statement well under SQLite's and asyncpg's bound-parameter limits


async def _enqueue_update_batch(session: AsyncSession, updates: list[Update], now: datetime) -> int:
    keys = [u.original_key for u in updates]
    found = await session.exec(select(OutboxMessage).where(col(OutboxMessage.key).in_(keys)))
    originals = {row.key: row for row in found.all()}
    rows = [
        {
            "key": u.key,
            "kind": "update",
            "cohort_id": original.cohort_id,
            "person_id": original.person_id,
            "platform": original.platform,
            "workspace": original.workspace,
            "address": original.address,
            "payload": u.message.to_dict(),
            "updates_key": u.original_key,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for u in updates
        if (original := originals.get(u.original_key)) is not None
    ]
    if not rows:
        return 0
    result = await session.exec(_insert_ignoring_duplicates(session).values(rows))  # type: ignore[call-overload]
    return int(result.rowcount or 0)
