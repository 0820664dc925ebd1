"""When checkpoints are taken: daily (if a chain moved), when a session's check-in closes, on demand.

Each one is announced to the staff (admins and trainers) of the cohorts whose chains it covers and
moved since the previous checkpoint: the file's SHA-256 in their chat history is a copy of the
evidence that a database writer cannot reach.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, time, timedelta
from functools import partial

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.attendance import checkpoints
from bot.core.context import STAFF_ROLES, EventContext
from bot.core.errors import ConfigurationError
from bot.core.i18n import N_, _, _n
from bot.core.messages import Message, Text
from bot.core.models import Cohort, Enrolment
from bot.core.outbox import Compose, Recipient
from bot.core.registry import on_event, planner
from bot.core.texts import register, t
from schedules.events import PlannedEvent

log = logging.getLogger(__name__)
DAILY_AT = time(23, 55)  # UTC: the day's last checkpoint, before the date in its key changes
# Why a checkpoint was taken is signed into it in English, and shown in the reader's language.
REASONS = (N_("daily"), N_("on demand"), N_("audit pack"))
SESSION_CLOSED_RE = re.compile(r"^session (\d+) closed$")

register(
    {
        "evidence.checkpoint": N_(
            "Evidence checkpoint {at} ({reason}): {chains}, {records}, "
            "signed by key {fingerprint}. SHA-256 of the checkpoint file: `{digest}`. "
            "Keep this message: with the file, it proves later that no record was removed or rewritten."
        ),
    }
)


@planner
async def plan_daily_checkpoint(session: AsyncSession, cohort: Cohort, now: datetime) -> list[PlannedEvent]:
    """Today's and tomorrow's checkpoints; every active cohort plans the same keys, so each fires once."""
    today = now.astimezone(UTC).date()
    events = []
    for day in (today, today + timedelta(days=1)):
        due = datetime.combine(day, DAILY_AT, tzinfo=UTC)
        key = f"evidence:checkpoint:{day.isoformat()}"
        events.append(PlannedEvent(key, "evidence.checkpoint", due, None, {}, timedelta(hours=23)))
    return events


@on_event("evidence.checkpoint")
async def on_daily(ctx: EventContext, event: PlannedEvent) -> None:
    await take_and_announce(ctx, "daily", only_if_changed=True)


async def take_and_announce(ctx: EventContext, reason: str, *, only_if_changed: bool = False) -> str | None:
    """Take a checkpoint and tell the staff of the cohorts that moved; the file's digest, or None.

    Without a signing key (a server database with no EVIDENCE_SIGNING_KEY) it logs why and does
    nothing: closing a session must not fail for want of a checkpoint.
    """
    before = await checkpoints.latest(ctx.session)
    try:
        taken = await checkpoints.take(
            ctx.session, ctx.settings, ctx.now, reason, only_if_changed=only_if_changed
        )
    except (ConfigurationError, OSError) as e:  # no key, or its file or the export folder unreadable
        log.warning("no evidence checkpoint (%s): %s", reason, e)
        return None
    if taken is None:
        return None
    row, signed = taken
    body = signed["checkpoint"]
    old = {c["session"]: c["head"] for c in json.loads(before.body)["chains"]} if before else {}
    moved = sorted({c["cohort"] for c in body["chains"] if old.get(c["session"]) != c["head"]})
    digest = checkpoints.file_digest(signed)
    values = dict(
        at=body["at"],
        reason=reason,
        chains=body["chain_count"],
        records=body["records"],
        fingerprint=body["key"][:16],
        digest=digest,
    )
    await _tell_staff(ctx, moved, partial(_checkpoint_message, values), f"evidence:checkpoint:{row.id}")
    return digest


def reason_words(reason: str) -> str:
    """A checkpoint's stored reason ("session 12 closed", "daily") in the reader's language."""
    closed = SESSION_CLOSED_RE.match(reason)
    if closed:
        return _("session {id} closed", id=closed[1])
    return _(reason) if reason in REASONS else reason


def _checkpoint_message(values: dict[str, object]) -> Message:
    chains, records = int(str(values["chains"])), int(str(values["records"]))
    text = t(
        "evidence.checkpoint",
        **{
            **values,
            "reason": reason_words(str(values["reason"])),
            "chains": _n("{n} attendance chain", "{n} attendance chains", chains),
            "records": _n("{n} record", "{n} records", records),
        },
    )
    return Message(text, (Text(text),))


async def _tell_staff(ctx: EventContext, slugs: list[str], message: Compose, key: str) -> None:
    if not slugs:
        return
    rows = await ctx.session.exec(
        select(Enrolment.person_id, Enrolment.cohort_id)
        .join(Cohort, col(Cohort.id) == Enrolment.cohort_id)
        .where(
            col(Cohort.slug).in_(slugs), col(Enrolment.role).in_(STAFF_ROLES), Enrolment.status == "active"
        )
    )
    people = sorted({person_id for person_id, _ in rows.all()})
    await ctx.dms([Recipient(p, f"{key}:{p}", message) for p in people])
