"""The reminder log: who was reminded of what and when, delivered or why not (audit evidence),
as counts and latest entries for trainers, in `status`, and at the end of the demo."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.reminders.fanout import ReminderLog, aware
from bot.core import texts
from bot.core.context import Ctx
from bot.core.grammar import Slug, Word
from bot.core.i18n import N_, _
from bot.core.messages import Fields, Header, Message, Reply, Text
from bot.core.models import Cohort, FiredEvent, OutboxMessage, Person
from bot.core.registry import demo_section, staff_status, verb

# -- the reminder log ----------------------------------------------------------------------------


# The words of the log, for extraction: outcomes and reasons are stored in English and shown
# through `label` in the reader's language.
WORDS = (
    N_("skipped"), N_("sent"), N_("failed"), N_("pending"), N_("sending"), N_("not queued"),
    N_("queued"), N_("deferred by quiet hours"), N_("events skipped"), N_("past their grace"),
    N_("cohort paused"), N_("done"), N_("muted"), N_("snoozed"), N_("unreachable"),
    N_("enrolled_later"), N_("manual"), N_("deferred"), N_("entries"),
)  # fmt: skip


def label(key: str) -> str:
    """A log key like 'skipped: done' in the current language, word by word."""
    return ": ".join(_(part) for part in key.split(": "))


def delivery_state(log: ReminderLog, outbox: OutboxMessage | None) -> str:
    """What happened to one logged reminder, in a word: sent, failed, pending, or why not."""
    if log.status == "skipped":
        return f"{_('skipped')} ({_(log.reason) if log.reason else ''})"
    if outbox is None:
        return _("not queued")
    if outbox.status == "failed":
        return f"{_('failed')} ({outbox.last_error})"
    return _(outbox.status)


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
    row = await ctx.staff_cohort(cohort, N_("read the reminder log"))
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
        f"{texts.local_time(aware(e.logged_at), row.tz)}  {names.get(e.person_id, e.person_id)}  "
        f"{_(e.item)} {e.item_id} ({e.rule}): {delivery_state(e, out)}"
        for e, out in entries
    ]
    title = (
        _("{cohort}: reminder log for {person}", cohort=row.slug, person=who.display_name)
        if who
        else _("{cohort}: reminder log", cohort=row.slug)
    )
    blocks: list[Any] = [
        Header(title),
        Fields(tuple((label(k), str(n)) for k, n in sorted(summary.items())) or ((_("entries"), "0"),)),
    ]
    if lines:
        blocks.append(Text(_("Latest:") + "\n" + "\n".join(lines)))
    return Reply(Message(title, tuple(blocks)))


@staff_status
async def reminder_figures(ctx: Ctx, cohort: Cohort) -> list[Any]:
    summary = await log_summary(ctx.session, cohort)
    if not summary:
        return []
    shown = ", ".join(f"{label(k)} {n}" for k, n in sorted(summary.items()))
    return [Fields(((texts.t("reminders.status"), shown),))]


# -- demo ------------------------------------------------------------------------------------------


@demo_section(20)
async def demo_reminder_log(demo: Any) -> None:
    async with demo.app.store.transaction() as session:
        cohort = (await session.exec(select(Cohort))).first()
        if cohort is None:
            return
        summary = await log_summary(session, cohort)
    demo.print(_("-- reminder log (who was reminded of what, when, or why not; `reminders demo-spoc`) --"))
    for key, n in sorted(summary.items()):
        demo.print(f"  {label(key):<38} {n}")
