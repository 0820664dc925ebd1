"""Session and module reminders: their tables, the planner, and the fan-out.

The planner (schedules/planner.py) turns the stored calendar into one event per (item, rule,
zone); firing one fans out to the learners of that zone in one transaction: an outbox row for
each learner who should hear it, and a reminder-log row for every learner, sent or not and why.
Controls are in `bot.capabilities.reminders.controls`, the log's views in `bot.capabilities.reminders.log`.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.attendance.windows import card_carries_reminder
from bot.core import i18n, texts
from bot.core.context import EventContext
from bot.core.i18n import N_
from bot.core.messages import Button, Buttons, Message, Text
from bot.core.models import (
    Cohort,
    Completion,
    Enrolment,
    LiveSession,
    Module,
    Person,
    utc_field,
)
from bot.core.outbox import NORMAL, URGENT, Compose, Recipient, addresses_of, enqueue_dms, insert_many
from bot.core.registry import (
    on_event,
    planner,
    programme_section,
)
from schedules import planner as plans
from schedules.events import PlannedEvent
from schedules.programme import SCHEDULER_VALIDATORS

for _name, _validator in SCHEDULER_VALIDATORS.items():
    programme_section(_name)(_validator)

texts.register(
    {
        "reminders.session": N_("Reminder: *{title}* starts {when}."),
        "reminders.session.where": N_("Where: {link}"),
        "reminders.module": N_("Reminder: *{title}* is due {when}."),
        "reminders.nudge": N_("*{title}* is due today, by {when}. Done already? Tell me with the button."),
        "reminders.done_button": N_("Mark as done"),
        "reminders.snoozed": N_("Optional reminders for *{cohort}* are snoozed until {until}."),
        "reminders.muted": N_(
            "Optional reminders for *{cohort}* are muted. `unmute {cohort}` brings them back."
        ),
        "reminders.unmuted": N_("Reminders for *{cohort}* are back on."),
        "reminders.essential": N_("Session reminders still come: they are not optional."),
        "reminders.status": N_("Reminders"),
    }
)


ITEM_WORDS = (N_("session"), N_("module"))  # how a log entry names its item


class ReminderLog(SQLModel, table=True):
    """Who was reminded of what and when, or why not: audit evidence of engagement actions."""

    __tablename__ = "reminder_log"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)  # the outbox key of this reminder for this learner
    event_key: str = Field(index=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    item: str  # session | module (shown through the catalogue: N_ below)
    item_id: int
    rule: str  # e.g. 1d, 15m, d2@0900, d0@0900n, now
    nominal_at: datetime = utc_field()
    logged_at: datetime = utc_field(index=True)
    status: str  # queued | skipped (delivery outcome: join the outbox on key)
    reason: str | None = None  # queued: deferred | manual; skipped: done | muted | snoozed | ...
    zone: str = ""


class ReminderPreference(SQLModel, table=True):
    """A learner's choice about optional reminders in one cohort."""

    __tablename__ = "reminder_preference"
    __table_args__ = (sa.UniqueConstraint("cohort_id", "person_id"),)
    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    muted: bool = False
    snoozed_until: datetime | None = utc_field(nullable=True)


# -- planning ----------------------------------------------------------------------------------------


def aware(value: datetime) -> datetime:
    """SQLite returns naive datetimes for plain DateTime columns: they are stored as UTC."""
    return value.replace(tzinfo=ZoneInfo("UTC")) if value.tzinfo is None else value


def _as_utc(value: Any) -> datetime:
    """A time read through a UNION loses its column type: SQLite hands back text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return aware(value)


def zone_of(cohort: Cohort) -> Any:
    return func.coalesce(Person.tz, cohort.tz)


async def calendar_of(session: AsyncSession, cohort: Cohort) -> plans.Calendar:
    programme = cohort.programme or {}
    # One round trip for both kinds of item: the runner plans often.
    items_query: Any = sa.union_all(
        select(sa.literal("session"), LiveSession.id, LiveSession.starts_at).where(
            LiveSession.cohort_id == cohort.id
        ),
        select(sa.literal("module"), Module.id, Module.due_at).where(Module.cohort_id == cohort.id),
    )
    rows = (await session.exec(items_query)).all()  # type: ignore[call-overload]
    items = [plans.Item(str(kind), int(item_id), _as_utc(at)) for kind, item_id, at in rows]
    return plans.Calendar(
        cohort_id=cohort.id or 0,
        tz=cohort.tz,
        start=date.fromisoformat(cohort.start_date) if cohort.start_date else None,
        items=tuple(items),
        rules=plans.rules_of(programme),
        quiet=plans.quiet_of(programme),
        per_enrolment=programme.get("dates_from") == "enrolment" and cohort.start_date is not None,
    )


async def audiences_of(session: AsyncSession, cohort: Cohort, per_enrolment: bool) -> list[plans.Audience]:
    """The distinct (zone[, enrolment day]) groups of the cohort's active learners."""
    learners = learner_query(cohort, zone_of(cohort), Enrolment.enrolled_at)
    if not per_enrolment:
        zones = (await session.exec(learners.with_only_columns(zone_of(cohort)).distinct())).all()
        return [plans.Audience(str(row[0])) for row in zones]
    tz = ZoneInfo(cohort.tz)
    rows = (await session.exec(learners)).all()
    return list({plans.Audience(str(z), aware(at).astimezone(tz).date()) for _, z, at in rows})


def learner_query(cohort: Cohort, *columns: Any) -> Any:
    return (
        select(Enrolment.person_id, *columns)
        .join(Person, col(Person.id) == Enrolment.person_id)
        .where(Enrolment.cohort_id == cohort.id, Enrolment.role == "learner", Enrolment.status == "active")
    )


@planner
async def plan_reminders(session: AsyncSession, cohort: Cohort, now: datetime) -> list[PlannedEvent]:
    calendar = await calendar_of(session, cohort)
    if not calendar.items:
        return []
    audiences = await audiences_of(session, cohort, calendar.per_enrolment)
    sizes = await zone_sizes(session, cohort)
    return [
        PlannedEvent(
            key=r.key,
            kind=r.kind,
            due_at=r.due_at,
            cohort_id=cohort.id,
            payload=r.payload,
            grace=r.grace,
            # A session about to start must reach everyone by its reminder time: start early.
            audience=sizes.get(r.payload["zone"], 0) if r.kind == "reminder.session" else 0,
        )
        for r in plans.plan(calendar, audiences)
    ]


async def zone_sizes(session: AsyncSession, cohort: Cohort) -> dict[str, int]:
    """Active learners per zone (an upper bound of who a reminder to that zone reaches)."""
    zone = zone_of(cohort)
    query = (
        sa.select(zone, func.count())
        .select_from(Enrolment)
        .join(Person, col(Person.id) == Enrolment.person_id)
        .where(Enrolment.cohort_id == cohort.id, Enrolment.role == "learner", Enrolment.status == "active")
        .group_by(zone)
    )
    return {str(z): int(n) for z, n in (await session.exec(query)).all()}  # type: ignore[call-overload]


# -- firing: the fan-out ----------------------------------------------------------------------------


def outbox_key(item: str, item_id: int, person_id: int, rule: str) -> str:
    return f"reminder:{item[0]}{item_id}:{person_id}:{rule}"


def reminder_message(item: str, row: LiveSession | Module, zone: str, *, nudge: bool) -> Message:
    """The reminder in the current language (the outbox builds one per reader's language)."""
    if isinstance(row, LiveSession):
        when = f"{i18n.long_time(row.starts_at, zone)} ({zone})"
        text = texts.t("reminders.session", title=row.title, when=when)
        blocks: list[Any] = [Text(text)]
        if row.location:
            blocks.append(Text(texts.t("reminders.session.where", link=row.location)))
        return Message(text, tuple(blocks))
    key = "reminders.nudge" if nudge else "reminders.module"
    text = texts.t(key, title=row.title, when=texts.local_time(row.due_at, zone))
    button = Button(
        texts.t("reminders.done_button"), action="module.done", value=str(row.id), style="primary"
    )
    return Message(text, (Text(text), Buttons((button,))))


@on_event("reminder.session")
@on_event("reminder.module")
async def fire_reminder(ctx: EventContext, event: PlannedEvent) -> None:
    payload = event.payload
    cohort = await ctx.session.get_one(Cohort, event.cohort_id)
    zone = str(payload["zone"])
    learners = (
        await ctx.session.exec(learner_query(cohort, Enrolment.enrolled_at).where(zone_of(cohort) == zone))
    ).all()
    if payload.get("enrolled_on"):
        day, tz = date.fromisoformat(payload["enrolled_on"]), ZoneInfo(cohort.tz)
        learners = [(p, at) for p, at in learners if aware(at).astimezone(tz).date() == day]
    await fan_out(
        ctx,
        cohort,
        event.key,
        item=str(payload["item"]),
        item_id=int(payload["item_id"]),
        rule=str(payload["rule"]),
        zone=zone,
        nominal_at=datetime.fromisoformat(payload["nominal_at"]),
        planned_at=event.due_at,
        learners=[(int(p), aware(at)) for p, at in learners],
        skip=payload.get("skip"),
        deferred=bool(payload.get("deferred")),
        nudge=bool(payload.get("nudge")),
        optional=bool(payload.get("optional")),
    )


async def fan_out(
    ctx: EventContext,
    cohort: Cohort,
    event_key: str,
    *,
    item: str,
    item_id: int,
    rule: str,
    zone: str,
    nominal_at: datetime,
    planned_at: datetime,
    learners: list[tuple[int, datetime]],
    skip: str | None = None,
    deferred: bool = False,
    nudge: bool = False,
    optional: bool = True,
    manual: bool = False,
) -> Counter[str]:
    """Queue one reminder per learner who should get it; log every learner's outcome.
    Whoever enrolled after the reminder was due (it fires late, on catch-up) is not reminded of
    the past. Returns how many were queued and skipped, by reason."""
    row: LiveSession | Module | None = await ctx.session.get(
        LiveSession if item == "session" else Module, item_id
    )
    if row is None:
        return Counter()
    person_ids = [p for p, _ in learners]
    # One DM where there would be two: the check-in card, open now or in a moment, carries it.
    in_card = item == "session" and await card_carries_reminder(ctx.session, cohort, item_id, nominal_at)
    done = await _done(ctx.session, item, item_id, person_ids)
    muted, snoozed = await quietened(ctx.session, cohort, ctx.now) if optional else (set(), set())
    addresses = await addresses_of(ctx.session, person_ids)
    recipients: list[Recipient] = []
    log_rows: list[dict[str, Any]] = []
    outcome: Counter[str] = Counter()
    message: Compose | None = None  # one per fan-out: the outbox builds it once per language
    for person_id, enrolled_at in learners:
        reason = (
            skip
            or ("enrolled_later" if enrolled_at > planned_at else None)
            or ("checkin_card" if in_card else None)
            or ("done" if person_id in done else None)
            or ("muted" if person_id in muted else None)
            or ("snoozed" if person_id in snoozed else None)
            or ("unreachable" if person_id not in addresses or addresses[person_id].blocked else None)
        )
        key = outbox_key(item, item_id, person_id, rule)
        if reason is None:
            message = message or partial(reminder_message, item, row, zone, nudge=nudge)
            recipients.append(Recipient(person_id, key, message))
        status = "skipped" if reason else "queued"
        reason = reason or ("manual" if manual else "deferred" if deferred else None)
        outcome[f"{status}:{reason}" if reason else status] += 1
        log_rows.append(
            {
                "key": key,
                "event_key": event_key,
                "cohort_id": cohort.id,
                "person_id": person_id,
                "item": item,
                "item_id": item_id,
                "rule": rule,
                "nominal_at": nominal_at,
                "logged_at": ctx.now,
                "status": status,
                "reason": reason,
                "zone": zone,
            }
        )
    # A session about to start is time-critical; a module due date is not.
    priority = URGENT if item == "session" else NORMAL
    await enqueue_dms(
        ctx.session, recipients, now=ctx.now, cohort_id=cohort.id, addresses=addresses, priority=priority
    )
    await _insert_log(ctx.session, log_rows)
    return outcome


async def _done(session: AsyncSession, item: str, item_id: int, person_ids: list[int]) -> set[int]:
    if item != "module" or not person_ids:
        return set()
    rows = await session.exec(select(Completion.person_id).where(Completion.module_id == item_id))
    return set(rows.all())


async def quietened(session: AsyncSession, cohort: Cohort, now: datetime) -> tuple[set[int], set[int]]:
    prefs = (
        await session.exec(select(ReminderPreference).where(ReminderPreference.cohort_id == cohort.id))
    ).all()
    muted = {p.person_id for p in prefs if p.muted}
    snoozed = {p.person_id for p in prefs if p.snoozed_until and aware(p.snoozed_until) > now}
    return muted, snoozed


async def _insert_log(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    await insert_many(session, ReminderLog.__table__, rows)  # type: ignore[attr-defined]
