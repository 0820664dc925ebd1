"""Weekly digests: each manager gets their own people, the cohort's staff get the training report.

One scheduled event per (cohort, week, zone): managers in the same time zone share it, and it fans
out one DM per manager through the outbox, each keyed by cohort, week and manager.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.reports.config import DigestConfig
from bot.capabilities.reports.kpis import CohortReport
from bot.capabilities.reports.links import Scope, person_link
from bot.capabilities.reports.load import manager_links
from bot.capabilities.reports.render import digest_message, report_message
from bot.capabilities.reports.service import build_report, week_label
from bot.core.context import STAFF_ROLES, EventContext
from bot.core.models import Cohort, Enrolment, LiveSession, ManagerLink, Module, Person
from bot.core.outbox import BULK, Recipient
from bot.core.registry import on_event, planner
from bot.core.settings import Settings
from schedules.events import PlannedEvent

MANAGER_DIGEST = "reports.digest"
STAFF_DIGEST = "reports.staff_digest"
GRACE = timedelta(hours=12)  # a weekly digest a few hours late is still worth sending
MAX_WEEKS = 104
FEW = 1_000  # up to this many learners, a zone's digests load only them


async def manager_zones(session: AsyncSession, cohort: Cohort) -> dict[int, str]:
    """manager id -> the zone their digest is timed in (theirs, else the cohort's)."""
    rows = await session.exec(
        select(Person.id, Person.tz)
        .join(ManagerLink, col(ManagerLink.manager_id) == Person.id)
        .where(ManagerLink.cohort_id == cohort.id)
        .distinct()
    )
    return {pid: tz or cohort.tz for pid, tz in rows.all() if pid is not None}


async def _span(session: AsyncSession, cohort: Cohort) -> tuple[datetime, datetime] | None:
    """The first and last dated things of the cohort (sessions, module due dates)."""
    modules = (
        await session.exec(
            select(sa.func.min(Module.due_at), sa.func.max(Module.due_at)).where(
                Module.cohort_id == cohort.id
            )
        )
    ).one()
    sessions = (
        await session.exec(
            select(sa.func.min(LiveSession.starts_at), sa.func.max(LiveSession.starts_at)).where(
                LiveSession.cohort_id == cohort.id
            )
        )
    ).one()
    firsts = [t for t in (modules[0], sessions[0]) if t is not None]
    lasts = [t for t in (modules[1], sessions[1]) if t is not None]
    return (min(firsts), max(lasts)) if firsts else None


def _digest_days(cohort: Cohort, span: tuple[datetime, datetime], weekday: int) -> list[date]:
    """The configured weekday of every week from the cohort's start to a week after its last date."""
    zone = ZoneInfo(cohort.tz)
    first = date.fromisoformat(cohort.start_date) if cohort.start_date else span[0].astimezone(zone).date()
    last = span[1].astimezone(zone).date() + timedelta(days=7)
    day = first + timedelta(days=(weekday - first.weekday()) % 7)
    days: list[date] = []
    while day <= last and len(days) < MAX_WEEKS:
        days.append(day)
        day += timedelta(days=7)
    return days


@planner
async def plan_digests(session: AsyncSession, cohort: Cohort, now: datetime) -> list[PlannedEvent]:
    config = DigestConfig.of(cohort)
    if not config.enabled:
        return []
    span = await _span(session, cohort)
    if span is None:
        return []
    zones = sorted(set((await manager_zones(session, cohort)).values()))
    events = []
    for day in _digest_days(cohort, span, config.weekday):
        for zone, kind in [*((z, MANAGER_DIGEST) for z in zones), (cohort.tz, STAFF_DIGEST)]:
            due = datetime.combine(day, time(config.hour), tzinfo=ZoneInfo(zone)).astimezone(ZoneInfo("UTC"))
            week = week_label(due, zone)
            key = f"{kind}:{cohort.id}:{week}" + (f":{zone}" if kind == MANAGER_DIGEST else "")
            events.append(PlannedEvent(key, kind, due, cohort.id, {"zone": zone, "week": week}, grace=GRACE))
    return events


def manager_digests(
    report: CohortReport,
    links: dict[int, list[int]],
    zones: dict[int, str],
    week: str,
    page_links: dict[int, str] | None = None,
) -> list[Recipient]:
    """One digest per manager, about their own reports only (pure: the report is already computed),
    written by the outbox in each manager's language."""
    stats = {s.person_id: s for s in report.learners}
    recipients = []
    for manager_id, learner_ids in sorted(links.items()):
        mine = [stats[pid] for pid in learner_ids if pid in stats]
        if not mine or manager_id not in zones:
            continue
        link = (page_links or {}).get(manager_id)
        compose = partial(digest_message, report, mine, tz=zones[manager_id], link=link)
        recipients.append(
            Recipient(manager_id, f"{MANAGER_DIGEST}:{report.cohort_id}:{week}:{manager_id}", compose)
        )
    return recipients


def page_links(
    settings: Settings, cohort_id: int, people: list[int], scope: Scope, now: datetime
) -> dict[int, str]:
    """A private report-page link per person (the page re-checks their rights when opened)."""
    return {pid: person_link(settings, cohort_id, pid, scope, now) for pid in people}


@on_event(MANAGER_DIGEST)
async def send_manager_digests(ctx: EventContext, event: PlannedEvent) -> None:
    cohort = await ctx.session.get_one(Cohort, event.cohort_id)
    zone = event.payload["zone"]
    zones = {m: z for m, z in (await manager_zones(ctx.session, cohort)).items() if z == zone}
    links = {m: ids for m, ids in (await manager_links(ctx.session, cohort.id or 0)).items() if m in zones}
    if not links:
        return
    people = {pid for ids in links.values() for pid in ids}
    # Many people: load the whole cohort (set-based scans) rather than a huge IN list.
    some = people if len(people) <= FEW else None
    report = await build_report(ctx.session, cohort, ctx.now, person_ids=some, with_kpis=False)
    pages = page_links(ctx.settings, cohort.id or 0, sorted(links), "manager", ctx.now)
    digests = manager_digests(report, links, zones, event.payload["week"], pages)
    await ctx.dms(digests, cohort_id=cohort.id, priority=BULK)


async def staff_of(session: AsyncSession, cohort: Cohort) -> list[int]:
    rows = await session.exec(
        select(Enrolment.person_id).where(
            Enrolment.cohort_id == cohort.id,
            col(Enrolment.role).in_(STAFF_ROLES),
            Enrolment.status == "active",
        )
    )
    return list(rows.all())


@on_event(STAFF_DIGEST)
async def send_staff_digest(ctx: EventContext, event: PlannedEvent) -> None:
    cohort = await ctx.session.get_one(Cohort, event.cohort_id)
    staff = await staff_of(ctx.session, cohort)
    if not staff:
        return
    report = await build_report(ctx.session, cohort, ctx.now)
    week = event.payload["week"]
    pages = page_links(ctx.settings, cohort.id or 0, staff, "staff", ctx.now)
    # The charts are on the page: a card stays small instead of carrying an image.
    await ctx.dms(
        [
            Recipient(
                pid, f"{STAFF_DIGEST}:{cohort.id}:{week}:{pid}", partial(report_message, report, pages[pid])
            )
            for pid in staff
        ],
        cohort_id=cohort.id,
        priority=BULK,
    )
