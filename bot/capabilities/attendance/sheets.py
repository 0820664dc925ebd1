"""Attendance sheets as data: per session, per half-day (morning/afternoon, cohort time), per learner.

Rows are keyed by person, never by platform identity: learners imported by email who never wrote
to the bot have no identity yet, and each is still their own row.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.attendance.cards import count_of
from bot.capabilities.attendance.checkin import decisive_time
from bot.capabilities.attendance.evidence import ERASURE_AUTH
from bot.capabilities.attendance.meeting_sheet import MEETING, is_edge, meeting_note, meeting_presence
from bot.capabilities.attendance.models import AttendanceRecord, AttendanceSessionState
from bot.capabilities.attendance.presence import Presence
from bot.capabilities.attendance.roster import Learner, latest_records, learners
from bot.core import i18n
from bot.core.i18n import N_, _, _n
from bot.core.models import Cohort, LiveSession, Person

STATUS_ORDER = ("present", "late", "partial", "absent", "excused")
NOON = 13  # a session starting before 13:00 (cohort time) belongs to the morning


@dataclass(frozen=True)
class SheetRow:
    person_id: int
    name: str
    platform_id: str  # platform:user id, else email:<address> for someone not reached on a platform yet
    status: str  # a status, or "" when nothing is recorded yet
    at: datetime | None  # when it happened (the check-in time, or when it was recorded)
    recorded_by: str  # LEARNER | a trainer's name | AUTOMATIC | meeting
    note: str = ""
    minutes: float | None = None  # minutes in the linked meeting, within the planned time
    by_meeting: bool = False  # the meeting decided the status (see presence.py)
    corrected_from: str = ""  # the status a correction replaced, shown in the note when written


# Who recorded a status, when no person's name says it (shown in the document's language).
LEARNER, AUTOMATIC = N_("learner"), N_("automatic")


@dataclass
class SessionSheet:
    cohort: Cohort
    live: LiveSession
    rows: list[SheetRow]
    chain_head: str = ""
    totals: Counter[str] = field(default_factory=Counter)

    @property
    def tz(self) -> str:
        return self.cohort.tz

    @property
    def half_day(self) -> tuple[date, str]:
        local = self.live.starts_at.astimezone(ZoneInfo(self.tz))
        return local.date(), "morning" if local.hour < NOON else "afternoon"

    def title(self) -> str:
        local = self.live.starts_at.astimezone(ZoneInfo(self.tz))
        when = (
            i18n.long_time(self.live.starts_at, self.tz)
            if i18n.current() != "en"
            else f"{local:%a %d %b %Y %H:%M}"
        )
        return f"{self.live.title} (#{self.live.id}), {when} {self.tz}"

    @property
    def ends_at(self) -> datetime:
        return self.live.starts_at + timedelta(minutes=self.live.duration_min)

    @property
    def hours(self) -> float:
        return self.live.duration_min / 60

    def totals_line(self) -> str:
        # Partial exists only where a meeting measured presence: not worth a "0 partial" elsewhere.
        shown = [s for s in STATUS_ORDER if s != "partial" or self.totals[s]]
        parts = [count_of(s, self.totals[s]) for s in shown]
        if self.totals[""]:
            parts.append(_("{n} not recorded", n=i18n.number(self.totals[""])))
        line = _n("{n} learner: {parts}", "{n} learners: {parts}", len(self.rows), parts=", ".join(parts))
        measured = [r.minutes for r in self.rows if r.minutes is not None]
        if measured:
            total, mean = sum(measured), sum(measured) / len(measured)
            line += _(
                "; in the meeting: {total} min in all, {mean} on average",
                total=i18n.number(round(total, 1)),
                mean=i18n.number(round(mean, 1)),
            )
        return line


HALF_DAY_NAMES = {"morning": N_("morning"), "afternoon": N_("afternoon")}


@dataclass
class HalfDaySheet:
    cohort: Cohort
    day: date
    part: str  # morning | afternoon
    sessions: list[SessionSheet]

    def title(self) -> str:
        part = _(HALF_DAY_NAMES[self.part]) if self.part in HALF_DAY_NAMES else self.part
        english = i18n.current() == i18n.SOURCE_LANGUAGE
        day = f"{self.day:%a %d %b %Y}" if english else i18n.long_date(self.day)
        return f"{self.cohort.slug}: {day} {part}"

    def totals_line(self) -> str:
        people = {r.person_id for s in self.sessions for r in s.rows}
        sessions = _n("{n} session", "{n} sessions", len(self.sessions))
        return _n(
            "{n} learner over {sessions}", "{n} learners over {sessions}", len(people), sessions=sessions
        )

    @property
    def slug(self) -> str:
        return f"{self.day.isoformat()}-{'am' if self.part == 'morning' else 'pm'}"


@dataclass(frozen=True)
class LearnerSummary:
    person_id: int
    name: str
    platform_id: str
    counts: Counter[str]
    held: int  # sessions with at least one record
    hours: float = 0.0  # hours of the sessions attended (present or late)

    @property
    def expected(self) -> int:
        """Sessions the learner was expected at: an excused absence is not one (README, KPIs)."""
        return self.held - self.counts["excused"]

    @property
    def rate(self) -> float | None:
        if self.expected <= 0:
            return None
        return (self.counts["present"] + self.counts["late"]) / self.expected


async def session_sheet(session: AsyncSession, cohort: Cohort, live: LiveSession) -> SessionSheet:
    """Every learner (and anyone with a record) with their current status; corrections noted."""
    records = await latest_records(session, live.id or 0)
    roster = await learners(session, cohort.id or 0)
    names = await _names(session, [r[-1].actor_id for r in records.values() if r[-1].actor_id])
    measured = await meeting_presence(session, cohort, live, records)
    rows = []
    for learner in roster:
        history = records.pop(learner.id, [])
        rows.append(
            _row(
                learner.id,
                learner.person.display_name,
                _reached_as(learner),
                history,
                names,
                measured.get(learner.id),
            )
        )
    for person_id, history in records.items():  # recorded, but no longer an active learner
        last = history[-1]
        where = f"{last.platform}:{last.platform_user_id}" if last.platform else ""
        rows.append(_row(person_id, last.person_name, where, history, names, measured.get(person_id)))
    rows.sort(key=lambda r: (r.name.lower(), r.person_id))
    state = await session.get(AttendanceSessionState, live.id)
    sheet = SessionSheet(cohort, live, rows, chain_head=state.head_hash if state else "")
    sheet.totals = Counter(r.status for r in rows)
    return sheet


def _reached_as(learner: Learner) -> str:
    if learner.identity is not None:
        return f"{learner.identity.platform}:{learner.identity.user_id}"
    return f"email:{learner.person.email}" if learner.person.email else ""


def _row(
    person_id: int,
    name: str,
    platform_id: str,
    history: list[AttendanceRecord],
    names: dict[int, str],
    meeting: Presence | None = None,
) -> SheetRow:
    history = [r for r in history if r.auth != ERASURE_AUTH]  # an erasure is not an attendance fact
    note = meeting_note(history, meeting)
    if meeting is not None and note is not None:
        name = history[-1].person_name or name
        return SheetRow(
            person_id,
            name,
            platform_id,
            meeting.status,
            meeting.first_join,
            MEETING,
            note,
            meeting.minutes,
            True,
        )
    minutes = meeting.minutes if meeting is not None else None
    history = [r for r in history if not is_edge(r)]  # joins and leaves only count through `meeting`
    if not history:
        return SheetRow(person_id, name, platform_id, "", None, "", minutes=minutes)
    last = history[-1]
    by_self = last.actor_id == last.person_id
    at = decisive_time(last.event_time, last.received_at) if by_self else last.received_at
    recorded_by = LEARNER if by_self else names.get(last.actor_id or 0, AUTOMATIC)
    was = history[-2].status if len(history) > 1 else ""
    return SheetRow(
        person_id,
        last.person_name or name,
        platform_id,
        last.status,
        at,
        recorded_by,
        last.reason or "",
        minutes,
        corrected_from=was,
    )


async def _names(session: AsyncSession, ids: list[int | None]) -> dict[int, str]:
    wanted = [i for i in set(ids) if i]
    if not wanted:
        return {}
    rows = (await session.exec(select(Person).where(col(Person.id).in_(wanted)))).all()
    return {p.id or 0: p.display_name for p in rows}


async def cohort_sheets(session: AsyncSession, cohort: Cohort) -> list[SessionSheet]:
    sessions = (
        await session.exec(
            select(LiveSession).where(LiveSession.cohort_id == cohort.id).order_by(col(LiveSession.starts_at))
        )
    ).all()
    return [await session_sheet(session, cohort, live) for live in sessions]


def half_days(sheets: list[SessionSheet]) -> list[HalfDaySheet]:
    """Group session sheets by day and morning/afternoon; half-days without a session have no sheet."""
    groups: dict[tuple[date, str], list[SessionSheet]] = {}
    for sheet in sheets:
        groups.setdefault(sheet.half_day, []).append(sheet)
    return [
        HalfDaySheet(group[0].cohort, day, part, group)
        for (day, part), group in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] != "morning"))
    ]


def hours_attended(sheet: SessionSheet, row: SheetRow) -> float:
    """Measured by a meeting: its minutes. Present: the whole session. Late: from the check-in to
    the end. Otherwise none."""
    if row.by_meeting and row.minutes is not None:
        return min(sheet.hours, row.minutes / 60)
    if row.status == "present":
        return sheet.hours
    if row.status == "late" and row.at is not None:
        stayed = (sheet.ends_at - max(row.at, sheet.live.starts_at)).total_seconds() / 3600
        return max(0.0, min(sheet.hours, stayed))
    return 0.0


def learner_summaries(sheets: list[SessionSheet]) -> list[LearnerSummary]:
    """One summary per person over the sessions held (those with at least one record)."""
    held = [s for s in sheets if any(r.status for r in s.rows)]
    people: dict[int, tuple[SheetRow, Counter[str], list[float]]] = {}
    for sheet in held:
        for row in sheet.rows:
            _, counts, hours = people.setdefault(row.person_id, (row, Counter(), [0.0]))
            counts[row.status or "unrecorded"] += 1
            hours[0] += hours_attended(sheet, row)
    return sorted(
        (
            LearnerSummary(pid, row.name, row.platform_id, counts, len(held), round(hours[0], 2))
            for pid, (row, counts, hours) in people.items()
        ),
        key=lambda s: (s.name.lower(), s.person_id),
    )
