"""Session and module reminders: the planner, the fan-out, the reminder log, and their controls.

The planner (schedules/planner.py) turns the stored calendar into one event per (item, rule,
zone); firing one fans out to the learners of that zone in one transaction: an outbox row for
each learner who should hear it, and a reminder-log row for every learner, sent or not and why.
Learners snooze or mute optional reminders; trainers pause, resume and remind now.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import texts
from bot.context import Ctx, EventContext
from bot.errors import UserError
from bot.grammar import Arg, ArgError, Slug, Title, Word
from bot.messages import Button, Buttons, Fields, Header, Message, Reply, Text, say
from bot.models import (
    Cohort,
    Completion,
    Enrolment,
    FiredEvent,
    LiveSession,
    Module,
    OutboxMessage,
    Person,
    utc_field,
)
from bot.outbox import Recipient, addresses_of, enqueue_dms, insert_many
from bot.registry import (
    PLANNERS,
    demo_section,
    demo_setup,
    learner_status,
    on_event,
    planner,
    programme_section,
    staff_status,
    verb,
)
from bot.scheduling import PlannedEvent
from schedules import planner as plans
from schedules.programme import SCHEDULER_VALIDATORS, parse_duration

for _name, _validator in SCHEDULER_VALIDATORS.items():
    programme_section(_name)(_validator)

texts.register(
    {
        "reminders.session": "Reminder: *{title}* starts {when}.",
        "reminders.session.where": "Where: {link}",
        "reminders.module": "Reminder: *{title}* is due {when}.",
        "reminders.nudge": "*{title}* is due today, by {when}. Done already? Tell me with the button.",
        "reminders.done_button": "Mark as done",
        "reminders.snoozed": "Optional reminders for *{cohort}* are snoozed until {until}.",
        "reminders.muted": "Optional reminders for *{cohort}* are muted. `unmute {cohort}` brings them back.",
        "reminders.unmuted": "Reminders for *{cohort}* are back on.",
        "reminders.essential": "Session reminders still come: they are not optional.",
        "reminders.status": "Reminders",
    }
)

MAX_SNOOZE = timedelta(days=30)


class ReminderLog(SQLModel, table=True):
    """Who was reminded of what and when, or why not: audit evidence of engagement actions."""

    __tablename__ = "reminder_log"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)  # the outbox key of this reminder for this learner
    event_key: str = Field(index=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    item: str  # session | module
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


def _aware(value: datetime) -> datetime:
    """SQLite returns naive datetimes for plain DateTime columns: they are stored as UTC."""
    return value.replace(tzinfo=ZoneInfo("UTC")) if value.tzinfo is None else value


def _as_utc(value: Any) -> datetime:
    """A time read through a UNION loses its column type: SQLite hands back text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return _aware(value)


def _zone_of(cohort: Cohort) -> Any:
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
    learners = _learner_query(cohort, _zone_of(cohort), Enrolment.enrolled_at)
    if not per_enrolment:
        zones = (await session.exec(learners.with_only_columns(_zone_of(cohort)).distinct())).all()
        return [plans.Audience(str(row[0])) for row in zones]
    tz = ZoneInfo(cohort.tz)
    rows = (await session.exec(learners)).all()
    return list({plans.Audience(str(z), _aware(at).astimezone(tz).date()) for _, z, at in rows})


def _learner_query(cohort: Cohort, *columns: Any) -> Any:
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
    return [
        PlannedEvent(
            key=r.key, kind=r.kind, due_at=r.due_at, cohort_id=cohort.id, payload=r.payload, grace=r.grace
        )
        for r in plans.plan(calendar, audiences)
    ]


# -- firing: the fan-out ----------------------------------------------------------------------------


def outbox_key(item: str, item_id: int, person_id: int, rule: str) -> str:
    return f"reminder:{item[0]}{item_id}:{person_id}:{rule}"


def reminder_message(item: str, row: LiveSession | Module, zone: str, *, nudge: bool) -> Message:
    if isinstance(row, LiveSession):
        text = texts.t("reminders.session", title=row.title, when=texts.local_time(row.starts_at, zone))
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
        await ctx.session.exec(_learner_query(cohort, Enrolment.enrolled_at).where(_zone_of(cohort) == zone))
    ).all()
    if payload.get("enrolled_on"):
        day, tz = date.fromisoformat(payload["enrolled_on"]), ZoneInfo(cohort.tz)
        learners = [(p, at) for p, at in learners if _aware(at).astimezone(tz).date() == day]
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
        learners=[(int(p), _aware(at)) for p, at in learners],
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
    done = await _done(ctx.session, item, item_id, person_ids)
    muted, snoozed = await _quietened(ctx.session, cohort, ctx.now) if optional else (set(), set())
    addresses = await addresses_of(ctx.session, person_ids)
    recipients: list[Recipient] = []
    log_rows: list[dict[str, Any]] = []
    outcome: Counter[str] = Counter()
    message: Message | None = None
    for person_id, enrolled_at in learners:
        reason = (
            skip
            or ("enrolled_later" if enrolled_at > planned_at else None)
            or ("done" if person_id in done else None)
            or ("muted" if person_id in muted else None)
            or ("snoozed" if person_id in snoozed else None)
            or ("unreachable" if person_id not in addresses or addresses[person_id].blocked else None)
        )
        key = outbox_key(item, item_id, person_id, rule)
        if reason is None:
            message = message or reminder_message(item, row, zone, nudge=nudge)
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
    await enqueue_dms(ctx.session, recipients, now=ctx.now, cohort_id=cohort.id, addresses=addresses)
    await _insert_log(ctx.session, log_rows)
    return outcome


async def _done(session: AsyncSession, item: str, item_id: int, person_ids: list[int]) -> set[int]:
    if item != "module" or not person_ids:
        return set()
    rows = await session.exec(select(Completion.person_id).where(Completion.module_id == item_id))
    return set(rows.all())


async def _quietened(session: AsyncSession, cohort: Cohort, now: datetime) -> tuple[set[int], set[int]]:
    prefs = (
        await session.exec(select(ReminderPreference).where(ReminderPreference.cohort_id == cohort.id))
    ).all()
    muted = {p.person_id for p in prefs if p.muted}
    snoozed = {p.person_id for p in prefs if p.snoozed_until and _aware(p.snoozed_until) > now}
    return muted, snoozed


async def _insert_log(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    await insert_many(session, ReminderLog.__table__, rows)  # type: ignore[attr-defined]


# -- learner controls --------------------------------------------------------------------------------


class Period(Arg):
    """How long, like 2d, 12h or 1d12h (up to 30 days)."""

    def convert(self, token: str) -> timedelta:
        period = parse_duration(token)
        if period is None or not timedelta(minutes=1) <= period <= MAX_SNOOZE:
            raise ArgError(f"'{token}' is not a period: write it like 2d, 12h or 1d12h (at most 30d)")
        return period


async def _my_preference(ctx: Ctx, slug: str) -> tuple[Cohort, ReminderPreference]:
    cohort = await ctx.cohort(slug)
    if await ctx.role_in(cohort) is None:
        raise UserError(f"You are not in '{cohort.slug}'. `list` shows your cohorts.")
    pref = (
        await ctx.session.exec(
            select(ReminderPreference).where(
                ReminderPreference.cohort_id == cohort.id, ReminderPreference.person_id == ctx.actor.id
            )
        )
    ).first()
    return cohort, pref or ReminderPreference(cohort_id=cohort.id or 0, person_id=ctx.actor.id or 0)


@verb(
    "snooze",
    Slug("cohort"),
    Period("period like 2d", key="period"),
    summary="pause optional reminders (modules, nudges) for a while",
    example="snooze spring-onboarding 2d",
)
async def snooze(ctx: Ctx, cohort: str, period: timedelta) -> Reply:
    row, pref = await _my_preference(ctx, cohort)
    pref.snoozed_until = ctx.now + period
    ctx.session.add(pref)
    await ctx.log(
        "reminders.snoozed", cohort_id=row.id, person_id=ctx.actor.id, until=pref.snoozed_until.isoformat()
    )
    until = texts.local_time(pref.snoozed_until, ctx.actor.tz or row.tz)
    return say(
        texts.t("reminders.snoozed", cohort=row.slug, until=until) + " " + texts.t("reminders.essential")
    )


@verb(
    "mute",
    Slug("cohort"),
    summary="stop optional reminders (modules, nudges)",
    example="mute spring-onboarding",
)
async def mute(ctx: Ctx, cohort: str) -> Reply:
    row, pref = await _my_preference(ctx, cohort)
    pref.muted = True
    ctx.session.add(pref)
    await ctx.log("reminders.muted", cohort_id=row.id, person_id=ctx.actor.id)
    return say(texts.t("reminders.muted", cohort=row.slug) + " " + texts.t("reminders.essential"))


@verb(
    "unmute",
    Slug("cohort"),
    summary="optional reminders back on (ends a snooze too)",
    example="unmute spring-onboarding",
)
async def unmute(ctx: Ctx, cohort: str) -> Reply:
    row, pref = await _my_preference(ctx, cohort)
    pref.muted, pref.snoozed_until = False, None
    ctx.session.add(pref)
    await ctx.log("reminders.unmuted", cohort_id=row.id, person_id=ctx.actor.id)
    return say(texts.t("reminders.unmuted", cohort=row.slug))


@learner_status
async def my_reminders(ctx: Ctx, cohort: Cohort, person_id: int) -> list[Any]:
    muted, snoozed = await _quietened(ctx.session, cohort, ctx.now)
    if person_id in muted:
        state = f"optional ones muted (`unmute {cohort.slug}`)"
    elif person_id in snoozed:
        state = f"optional ones snoozed (`unmute {cohort.slug}`)"
    else:
        return []
    return [Fields(((texts.t("reminders.status"), state),))]


# -- trainer controls --------------------------------------------------------------------------------


@verb(
    "pause", Slug("cohort"), summary="pause a cohort: no scheduled reminders until `resume`", staff_only=True
)
async def pause(ctx: Ctx, cohort: str) -> Reply:
    row = await ctx.cohort(cohort)
    await ctx.require_staff(row, "pause it")
    if row.status != "active":
        raise UserError(f"'{row.slug}' is already {row.status}.")
    row.status = "paused"
    ctx.session.add(row)
    await ctx.log("cohort.paused", cohort_id=row.id, actor_id=ctx.actor.id)
    return say(f"*{row.slug}* is paused: nothing scheduled is sent until `resume {row.slug}`.")


@verb(
    "resume",
    Slug("cohort"),
    summary="resume a paused cohort (what fell due while paused is not sent)",
    staff_only=True,
)
async def resume(ctx: Ctx, cohort: str) -> Reply:
    row = await ctx.cohort(cohort)
    await ctx.require_staff(row, "resume it")
    if row.status != "paused":
        raise UserError(f"'{row.slug}' is not paused (it is {row.status}).")
    row.status = "active"
    ctx.session.add(row)
    missed = await _skip_missed(ctx, row)
    await ctx.log("cohort.resumed", cohort_id=row.id, actor_id=ctx.actor.id, skipped=missed)
    skipped = f" {missed} scheduled events that fell due meanwhile were skipped." if missed else ""
    return say(f"*{row.slug}* is running again.{skipped}")


async def _skip_missed(ctx: Ctx, cohort: Cohort) -> int:
    """Record the events that fell due during the pause as skipped, so they never fire late."""
    events: list[PlannedEvent] = []
    for plan_events in PLANNERS:
        events.extend(e for e in await plan_events(ctx.session, cohort, ctx.now) if e.due_at <= ctx.now)
    if not events:
        return 0
    fired = set(
        (
            await ctx.session.exec(
                select(FiredEvent.key).where(col(FiredEvent.key).in_([e.key for e in events]))
            )
        ).all()
    )
    missed = [e for e in events if e.key not in fired]
    for e in missed:
        ctx.session.add(
            FiredEvent(
                key=e.key,
                kind=e.kind,
                cohort_id=cohort.id,
                due_at=e.due_at,
                fired_at=ctx.now,
                outcome="paused",
            )
        )
    return len(missed)


@verb(
    "remind",
    Slug("cohort"),
    Title("session or module"),
    summary="send a reminder of a session or module now (modules: only to whoever is not done)",
    example='remind spring-onboarding "Security basics"',
    staff_only=True,
)
async def remind(ctx: Ctx, cohort: str, session_or_module: str) -> Reply:
    row = await ctx.cohort(cohort)
    await ctx.require_staff(row, "send reminders")
    item, found = await _find_item(ctx, row, session_or_module)
    learners = (await ctx.session.exec(_learner_query(row, Enrolment.enrolled_at, _zone_of(row)))).all()
    by_zone: dict[str, list[tuple[int, datetime]]] = {}
    for person_id, enrolled_at, zone in learners:
        by_zone.setdefault(str(zone), []).append((int(person_id), _aware(enrolled_at)))
    stamp = ctx.now.strftime("%Y%m%dT%H%M%S")
    total: Counter[str] = Counter()
    for zone, people in sorted(by_zone.items()):
        total += await fan_out(
            ctx,
            row,
            f"manual:{row.id}:{item[0]}{found.id}:{stamp}",
            item=item,
            item_id=found.id or 0,
            rule=f"now{stamp}",
            zone=zone,
            nominal_at=ctx.now,
            planned_at=ctx.now,
            learners=people,
            manual=True,
        )
    await ctx.log("reminders.sent_now", cohort_id=row.id, actor_id=ctx.actor.id, item=item, item_id=found.id)
    sent = total["queued:manual"]
    skipped = sum(n for k, n in total.items() if k.startswith("skipped"))
    why = ", ".join(f"{k.split(':', 1)[1]} {n}" for k, n in sorted(total.items()) if k.startswith("skipped"))
    return say(
        f"Reminder of *{found.title}* sent to {sent} learners"
        + (f"; not to {skipped} ({why})." if skipped else ".")
    )


async def _find_item(ctx: Ctx, cohort: Cohort, title: str) -> tuple[str, LiveSession | Module]:
    sessions = (await ctx.session.exec(select(LiveSession).where(LiveSession.cohort_id == cohort.id))).all()
    modules = (await ctx.session.exec(select(Module).where(Module.cohort_id == cohort.id))).all()
    candidates: list[tuple[str, LiveSession | Module]] = [("session", s) for s in sessions]
    candidates += [("module", m) for m in modules]
    for kind, row in candidates:
        if row.title.lower() == title.lower():
            return kind, row
    import difflib

    near = difflib.get_close_matches(title, [r.title for _, r in candidates], n=1, cutoff=0.4)
    hint = f' Did you mean "{near[0]}"?' if near else ""
    raise UserError(f"'{cohort.slug}' has no session or module called \"{title}\".{hint}")


# -- the reminder log ----------------------------------------------------------------------------


def delivery_state(log: ReminderLog, outbox: OutboxMessage | None) -> str:
    """What happened to one logged reminder, in a word: sent, failed, pending, or why not."""
    if log.status == "skipped":
        return f"skipped ({log.reason})"
    if outbox is None:
        return "not queued"
    if outbox.status == "failed":
        return f"failed ({outbox.last_error})"
    return outbox.status


async def log_entries(
    session: AsyncSession, cohort: Cohort, person_id: int | None = None, limit: int | None = None
) -> list[tuple[ReminderLog, OutboxMessage | None]]:
    query = (
        select(ReminderLog, OutboxMessage)
        .join(OutboxMessage, col(OutboxMessage.key) == ReminderLog.key, isouter=True)
        .where(ReminderLog.cohort_id == cohort.id)
        .order_by(col(ReminderLog.logged_at).desc(), col(ReminderLog.id).desc())
    )
    if person_id is not None:
        query = query.where(ReminderLog.person_id == person_id)
    if limit:
        query = query.limit(limit)
    return [(log, out) for log, out in (await session.exec(query)).all()]


async def log_summary(session: AsyncSession, cohort: Cohort) -> Counter[str]:
    """Counts by outcome: sent, failed, pending, deferred (quiet hours, still sent), skipped (why)."""
    rows = (
        await session.exec(
            select(ReminderLog.status, ReminderLog.reason, OutboxMessage.status, func.count())
            .join(OutboxMessage, col(OutboxMessage.key) == ReminderLog.key, isouter=True)
            .where(ReminderLog.cohort_id == cohort.id)
            .group_by(ReminderLog.status, ReminderLog.reason, OutboxMessage.status)
        )
    ).all()
    counts: Counter[str] = Counter()
    for status, reason, delivery, n in rows:
        if status == "skipped":
            counts[f"skipped: {reason}"] += n
            continue
        counts[delivery or "not queued"] += n
        if reason == "deferred":
            counts["deferred by quiet hours"] += n
    late = await session.exec(
        select(FiredEvent.outcome, func.count())
        .where(FiredEvent.cohort_id == cohort.id, col(FiredEvent.kind).startswith("reminder."))
        .where(col(FiredEvent.outcome).in_(["late", "paused"]))
        .group_by(FiredEvent.outcome)
    )
    for outcome, n in late.all():
        counts[f"events skipped: {'past their grace' if outcome == 'late' else 'cohort paused'}"] += n
    return counts


@verb(
    "reminders",
    Slug("cohort"),
    Word("person", optional=True),
    summary="the reminder log: who was reminded of what, when, delivered or why not",
    example="reminders spring-onboarding @alice",
    staff_only=True,
)
async def reminders_log(ctx: Ctx, cohort: str, person: str | None) -> Reply:
    row = await ctx.cohort(cohort)
    await ctx.require_staff(row, "read the reminder log")
    who = await ctx.person(person) if person else None
    summary = await log_summary(ctx.session, row)
    entries = await log_entries(ctx.session, row, who.id if who else None, limit=15)
    names = {
        p.id: p.display_name
        for p in (
            await ctx.session.exec(
                select(Person).where(col(Person.id).in_({e.person_id for e, _ in entries}))
            )
        ).all()
    }
    lines = [
        f"{texts.local_time(_aware(e.logged_at), row.tz)}  {names.get(e.person_id, e.person_id)}  "
        f"{e.item} {e.item_id} ({e.rule}): {delivery_state(e, out)}"
        for e, out in entries
    ]
    title = f"{row.slug}: reminder log" + (f" for {who.display_name}" if who else "")
    blocks: list[Any] = [
        Header(title),
        Fields(tuple((k, str(n)) for k, n in sorted(summary.items())) or (("entries", "0"),)),
    ]
    if lines:
        blocks.append(Text("Latest:\n" + "\n".join(lines)))
    return Reply(Message(title, tuple(blocks)))


@staff_status
async def reminder_figures(ctx: Ctx, cohort: Cohort) -> list[Any]:
    summary = await log_summary(ctx.session, cohort)
    if not summary:
        return []
    shown = ", ".join(f"{k} {n}" for k, n in sorted(summary.items()))
    return [Fields(((texts.t("reminders.status"), shown),))]


# -- demo ------------------------------------------------------------------------------------------


@demo_setup(20)
async def demo_reminder_controls(demo: Any) -> None:
    """An early session whose day-before reminder falls in quiet hours, one learner snoozing
    optional reminders for a week and one muting them."""
    await demo.say("tina", 'session demo-spoc "Early-bird Q&A" 2027-03-17 07:30 30m')
    await demo.say("bruno", "snooze demo-spoc 7d")
    await demo.say("chloe", "mute demo-spoc")


@demo_section(20)
async def demo_reminder_log(demo: Any) -> None:
    async with demo.app.store.transaction() as session:
        cohort = (await session.exec(select(Cohort))).first()
        if cohort is None:
            return
        summary = await log_summary(session, cohort)
    demo.print("-- reminder log (who was reminded of what, when, or why not; `reminders demo-spoc`) --")
    for label, n in sorted(summary.items()):
        demo.print(f"  {label:<38} {n}")
