"""Data rights: everything held about a person (export), erasing it while keeping aggregates
(erase), and the retention purge of raw statements, message bodies and free text.

The core handles its own tables; each capability registers how it exports and erases its own
(`registry.personal_data`) and what it purges (`registry.retention_purge`). Erasing keeps the rows
that counts are made of (enrolments, completions, attendance, ballots' choices), with the person
renamed `erased-<id>` and their contact details, platform identities and free text gone, and logs
a `privacy.erased` activity, so reports stay right and the erasure itself is on record.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, delete, or_, update
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.errors import UserError
from bot.core.i18n import _
from bot.core.models import Activity, Identity, OutboxMessage, Person, ProcessedInbound
from bot.core.registry import PERSONAL_DATA, RETENTION_PURGES, load_capabilities
from bot.core.settings import Settings
from bot.core.store import Store

# Keys of activity `data` that hold what someone typed or who they are.
FREE_TEXT_KEYS = frozenset({"text", "reason", "comment", "note", "answer", "name", "email", "message", "raw"})
# Columns that point at a person, in any table: what an export gathers.
PERSON_COLUMNS = ("person_id", "learner_id", "manager_id", "actor_id")
ERASED = "(erased)"
_ID_RE = re.compile(r"^#?(\d+)$")


async def find_person(session: AsyncSession, ref: str) -> Person:
    """A person by `#id`, email, `platform:user_id` (e.g. `slack:U0123`, `console:alice`), or a
    name when exactly one person has it (a console name first)."""
    ref = ref.strip()
    found: Person | None = None
    if match := _ID_RE.match(ref):
        found = await session.get(Person, int(match.group(1)))
    elif "@" in ref and ":" not in ref:
        found = (await session.exec(select(Person).where(Person.email == ref.lower()))).first()
    elif ":" in ref:
        platform, _sep, user_id = ref.partition(":")
        found = await _by_identity(session, platform, user_id)
    elif ref:
        found = await _by_identity(session, "console", ref.lower())
        if found is None:
            named = (await session.exec(select(Person).where(col(Person.display_name).ilike(ref)))).all()
            if len(named) > 1:
                raise UserError(
                    _(
                        "{n} people are named '{ref}': give #id, an email or platform:user_id.",
                        n=len(named),
                        ref=ref,
                    )
                )
            found = named[0] if named else None
    if found is None:
        raise UserError(
            _("No person matches '{ref}': give #id, an email, or platform:user_id (slack:U0123).", ref=ref)
        )
    return found


async def _by_identity(session: AsyncSession, platform: str, user_id: str) -> Person | None:
    identity = (
        await session.exec(select(Identity).where(Identity.platform == platform, Identity.user_id == user_id))
    ).first()
    return await session.get(Person, identity.person_id) if identity else None


def plain(row: SQLModel | Any) -> dict[str, Any]:
    """A row as JSON-able values (datetimes in ISO 8601)."""
    values = row.model_dump() if isinstance(row, SQLModel) else dict(row._mapping)
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


async def export_person(store: Store, settings: Settings, ref: str) -> dict[str, Any]:
    """Everything held about one person, as JSON-able data: their person row and identities, every
    row of every table that points at them, and what each capability adds."""
    load_capabilities()
    async with store.transaction() as session:
        person = await find_person(session, ref)
        pid = person.id or 0
        identities = (await session.exec(select(Identity).where(Identity.person_id == pid))).all()
        tables: dict[str, list[dict[str, Any]]] = {}
        for table in SQLModel.metadata.sorted_tables:
            columns = [table.c[name] for name in PERSON_COLUMNS if name in table.c]
            if not columns or table.name in ("identity",):
                continue
            rows = (await session.execute(select(table).where(or_(*(c == pid for c in columns))))).all()
            if rows:
                tables[table.name] = [plain(r) for r in rows]
        extra = {
            name: await export(session, pid, settings) for name, (export, _) in sorted(PERSONAL_DATA.items())
        }
    return {
        "person": plain(person),
        "identities": [plain(i) for i in identities],
        "tables": tables,
        **{name: data for name, data in extra.items() if data},
    }


async def erase_person(store: Store, settings: Settings, ref: str, now: datetime) -> dict[str, int]:
    """Erase one person's personal data in one transaction; returns what was erased, counted."""
    load_capabilities()
    async with store.transaction() as session:
        person = await find_person(session, ref)
        pid = person.id or 0
        erased = await _erase_core(session, person, now)
        for name, (_, erase) in sorted(PERSONAL_DATA.items()):
            for what, count in (await erase(session, pid, now, settings)).items():
                erased[f"{name}.{what}"] = count
        # The erasure is on record (who, when), with nothing of what was erased.
        session.add(Activity(at=now, person_id=pid, kind="privacy.erased", data={"counts": erased}))
    return erased


async def _erase_core(session: AsyncSession, person: Person, now: datetime) -> dict[str, int]:
    pid = person.id or 0
    # Messages to them, and messages to others that name them (a trainer's card "alice can't
    # attend: <reason>", found by name or email in the body: a few bodies too many is harmless).
    # Undelivered ones are not sent any more; the bodies go; the keys stay, so nothing is re-sent.
    names = [n for n in (person.display_name, person.email) if n and len(n) >= 3]
    about = or_(
        col(OutboxMessage.person_id) == pid,
        *(cast(OutboxMessage.payload, String).contains(n) for n in names),
    )
    unsent = await session.execute(
        update(OutboxMessage)
        .where(about, col(OutboxMessage.status).in_(("pending", "sending")))
        .values(status="failed", last_error="about an erased person")
    )
    bodies = await session.execute(update(OutboxMessage).where(about).values(payload={}))
    await session.execute(
        update(OutboxMessage).where(col(OutboxMessage.person_id) == pid).values(address="erased")
    )
    person.display_name = f"erased-{pid}"
    person.email = person.tz = person.site = person.department = person.seniority = None
    session.add(person)
    identities = await session.execute(delete(Identity).where(col(Identity.person_id) == pid))
    activities = await _strip_free_text(
        session, or_(col(Activity.person_id) == pid, col(Activity.actor_id) == pid)
    )
    return {
        "person": 1,
        "identities": identities.rowcount,  # type: ignore[attr-defined]
        "activities": activities,
        "messages": bodies.rowcount,  # type: ignore[attr-defined]
        "unsent_messages": unsent.rowcount,  # type: ignore[attr-defined]
    }


async def _strip_free_text(session: AsyncSession, where: Any) -> int:
    """Remove FREE_TEXT_KEYS from the data of the activities matching `where`; how many changed."""
    changed = 0
    as_text = cast(Activity.data, String)  # only rows whose JSON names such a key are read
    holds_text = or_(*(as_text.contains(f'"{key}"') for key in sorted(FREE_TEXT_KEYS)))
    for activity in (await session.exec(select(Activity).where(where, holds_text))).all():
        if FREE_TEXT_KEYS & set(activity.data):
            activity.data = {k: (ERASED if k in FREE_TEXT_KEYS else v) for k, v in activity.data.items()}
            session.add(activity)
            changed += 1
    return changed


async def purge_expired(store: Store, settings: Settings, now: datetime) -> dict[str, int]:
    """Apply RETENTION_DAYS: message bodies, free text and raw statements older than that go."""
    if not settings.retention_days:
        return {}
    load_capabilities()
    cutoff = now - timedelta(days=settings.retention_days)
    async with store.transaction() as session:
        bodies = await session.execute(
            update(OutboxMessage)
            .where(
                col(OutboxMessage.created_at) < cutoff,
                col(OutboxMessage.status).in_(("sent", "failed")),
            )
            .values(payload={})
        )
        purged = {
            "messages": bodies.rowcount,  # type: ignore[attr-defined]
            "activities": await _strip_free_text(session, col(Activity.at) < cutoff),
            "processed_inbound": (
                await session.execute(delete(ProcessedInbound).where(col(ProcessedInbound.at) < cutoff))
            ).rowcount,  # type: ignore[attr-defined]
        }
        for name, purge in sorted(RETENTION_PURGES.items()):
            purged[name] = await purge(session, cutoff)
    return purged
