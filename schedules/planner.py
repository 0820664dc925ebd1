"""The reminder planner: a pure function from a cohort's calendar, rules and audience to timed events.

One event per (item, rule, zone) — and per enrolment day when dates count from each learner's
enrolment — never one per learner. Times are computed in each zone: a "1 day before" keeps the
wall-clock time across a daylight-saving change, an `at: 09:00` is 09:00 where the learner is,
and quiet hours / non-working days defer a reminder to the next allowed moment, or drop it when
that moment would be after the session started or the module was due.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from schedules.programme import WEEKDAYS, end_of_day, local_moment, parse_duration, parse_time

# What applies when a cohort has no programme, or its programme has no `reminders:` section.
DEFAULT_RULES: tuple[dict[str, Any], ...] = (
    {"of": "session", "before": "1d"},
    {"of": "session", "before": "15m", "quiet_hours": "ignore"},
    {"of": "module", "days_before": 2, "at": "09:00"},
    {"of": "module", "days_before": 0, "at": "09:00", "nudge": True},
)
DEFAULT_QUIET_HOURS = {"from": "21:00", "to": "08:00"}
SHORT_NOTICE = timedelta(hours=1)  # a reminder this close to its session is useless once it started
DEFAULT_GRACE = timedelta(hours=6)


@dataclass(frozen=True)
class Rule:
    of: str  # session | module
    before: timedelta | None = None  # "1d", "15m": relative to the session start or module due time
    days_before: int = 0  # with `at`: that many days before the item's date, at `at` local time
    at: time | None = None
    nudge: bool = False  # module: a nudge on the due date, worded as such
    optional: bool = True  # learners may snooze or mute it
    respect_quiet: bool = True
    grace: timedelta | None = None

    @staticmethod
    def parse(data: Mapping[str, Any]) -> Rule:
        of = str(data["of"])
        return Rule(
            of=of,
            before=parse_duration(data["before"]) if "before" in data else None,
            days_before=int(data.get("days_before", 0)),
            at=parse_time(data["at"]) if "at" in data else None,
            nudge=bool(data.get("nudge", False)),
            optional=bool(data.get("optional", of == "module")),
            respect_quiet=data.get("quiet_hours", "respect") != "ignore",
            grace=parse_duration(data["grace"]) if "grace" in data else None,
        )

    @property
    def id(self) -> str:
        """Stable and readable, e.g. `1d`, `15m`, `d2@0900`, `d0@0900n`: part of event and outbox keys."""
        if self.before is not None:
            return duration_id(self.before)
        assert self.at is not None
        return f"d{self.days_before}@{self.at:%H%M}" + ("n" if self.nudge else "")


def duration_id(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    return "".join(f"{n}{u}" for n, u in ((days, "d"), (hours, "h"), (mins, "m")) if n) or "0m"


@dataclass(frozen=True)
class QuietHours:
    """When not to disturb learners, in their own zone: nightly hours and non-working days."""

    start: time | None = None  # quiet from...
    end: time | None = None  # ...until (may wrap past midnight)
    working_days: frozenset[int] = frozenset(range(7))

    @staticmethod
    def parse(quiet: Mapping[str, Any] | None, working_days: Iterable[str] | None) -> QuietHours:
        days = frozenset(WEEKDAYS.index(str(d).lower()[:3]) for d in working_days) if working_days else None
        return QuietHours(
            start=parse_time(quiet["from"]) if quiet else None,
            end=parse_time(quiet["to"]) if quiet else None,
            working_days=days if days is not None else frozenset(range(7)),
        )

    def _quiet_at(self, t: time) -> bool:
        if self.start is None or self.end is None or self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    def next_allowed(self, moment: datetime, tz: str) -> datetime:
        """The first moment at or after `moment` outside quiet hours, on a working day, in `tz`."""
        zone = ZoneInfo(tz)
        wake = self.end or time(0, 0)
        for _ in range(16):
            local = moment.astimezone(zone)
            if local.weekday() not in self.working_days:
                moment = local_moment(local.date() + timedelta(days=1), wake, tz)
                continue
            if self._quiet_at(local.time().replace(tzinfo=None)):
                day = (
                    local.date()
                    if local.time().replace(tzinfo=None) < wake
                    else local.date() + timedelta(days=1)
                )
                moment = local_moment(day, wake, tz)
                continue
            return moment
        return moment


@dataclass(frozen=True)
class Item:
    """A session (start) or a module (due) as the planner sees it."""

    kind: str  # session | module
    id: int
    deadline: datetime  # session start, or end of the module's due day (cohort zone), UTC


@dataclass(frozen=True)
class Audience:
    """One group of learners that share the same reminder times."""

    zone: str
    enrolled_on: date | None = None  # set when dates count from each learner's enrolment


@dataclass(frozen=True)
class Calendar:
    cohort_id: int
    tz: str  # the cohort's zone: the one session times and due dates are written in
    start: date | None
    items: tuple[Item, ...]
    rules: tuple[Rule, ...]
    quiet: QuietHours = field(default_factory=QuietHours)
    per_enrolment: bool = False  # modules count from each learner's enrolment (self-paced)


@dataclass(frozen=True)
class Reminder:
    """One planned reminder event, before it becomes a PlannedEvent."""

    key: str
    kind: str  # reminder.session | reminder.module
    due_at: datetime
    grace: timedelta
    payload: dict[str, Any]


def plan(calendar: Calendar, audiences: Iterable[Audience]) -> list[Reminder]:
    """Every reminder event of the calendar for these audiences (fired or not), sorted by time."""
    return list(_plan_cached(calendar, frozenset(audiences)))


@functools.lru_cache(maxsize=256)
def _plan_cached(calendar: Calendar, audiences: frozenset[Audience]) -> tuple[Reminder, ...]:
    # A pure function of hashable values: the runner re-plans often, the calendar rarely changes.
    out: list[Reminder] = []
    groups = sorted(audiences, key=lambda a: (a.zone, a.enrolled_on or date.min))
    for item in calendar.items:
        for rule in calendar.rules:
            if rule.of != item.kind:
                continue
            for audience in groups:
                reminder = _plan_one(calendar, item, rule, audience)
                if reminder is not None:
                    out.append(reminder)
    out.sort(key=lambda r: (r.due_at, r.key))
    return tuple(out)


def item_deadline(calendar: Calendar, item: Item, audience: Audience) -> datetime:
    """When the item happens for this audience: shifted to the learner's enrolment if self-paced."""
    if item.kind != "module" or not calendar.per_enrolment or audience.enrolled_on is None:
        return item.deadline
    assert calendar.start is not None
    offset = item.deadline.astimezone(ZoneInfo(calendar.tz)).date() - calendar.start
    return end_of_day(audience.enrolled_on + offset, calendar.tz)


def nominal_time(calendar: Calendar, rule: Rule, deadline: datetime, zone: str) -> datetime:
    if rule.before is not None:
        # Whole days are counted on the cohort's wall clock (a session at 09:00 is reminded at
        # 09:00 the day before, even across a DST change); hours and minutes are elapsed time.
        days = timedelta(days=rule.before.days)
        local = deadline.astimezone(ZoneInfo(calendar.tz)).replace(tzinfo=None) - days
        anchor = local_moment(local.date(), local.time(), calendar.tz)
        return anchor - (rule.before - days)
    assert rule.at is not None
    day = deadline.astimezone(ZoneInfo(calendar.tz)).date() - timedelta(days=rule.days_before)
    return local_moment(day, rule.at, zone)


def _plan_one(calendar: Calendar, item: Item, rule: Rule, audience: Audience) -> Reminder | None:
    deadline = item_deadline(calendar, item, audience)
    nominal = nominal_time(calendar, rule, deadline, audience.zone)
    if nominal >= deadline:
        return None  # e.g. `at: 09:00` on the day of a session at 08:00: nothing useful to say
    if audience.enrolled_on is not None and calendar.per_enrolment and item.kind == "module":
        enrolled_day_start = local_moment(audience.enrolled_on, time(0, 0), calendar.tz)
        if nominal < enrolled_day_start:
            return None  # before these learners arrived: never remind anyone of the past
    due_at, skip = nominal, None
    if rule.respect_quiet:
        due_at = calendar.quiet.next_allowed(nominal, audience.zone)
        if due_at >= deadline:
            due_at, skip = nominal, "quiet_hours"
    default_grace = deadline - due_at if rule.before and rule.before <= SHORT_NOTICE else DEFAULT_GRACE
    grace = min(rule.grace or default_grace, deadline - due_at)
    kind = "reminder.session" if item.kind == "session" else "reminder.module"
    key = f"rem:{calendar.cohort_id}:{item.kind[0]}{item.id}:{rule.id}:{audience.zone}"
    if audience.enrolled_on is not None and calendar.per_enrolment and item.kind == "module":
        key += f":{audience.enrolled_on.isoformat()}"
    payload = {
        "item": item.kind,
        "item_id": item.id,
        "rule": rule.id,
        "zone": audience.zone,
        "enrolled_on": audience.enrolled_on.isoformat()
        if audience.enrolled_on and calendar.per_enrolment
        else None,
        "nominal_at": nominal.isoformat(),
        "deadline": deadline.isoformat(),
        "deferred": due_at != nominal,
        "skip": skip,
        "nudge": rule.nudge,
        "optional": rule.optional,
    }
    return Reminder(key=key, kind=kind, due_at=due_at, grace=grace, payload=payload)


def rules_of(programme: Mapping[str, Any]) -> tuple[Rule, ...]:
    return tuple(Rule.parse(r) for r in (programme.get("reminders") or DEFAULT_RULES))


def quiet_of(programme: Mapping[str, Any]) -> QuietHours:
    quiet = programme.get("quiet_hours", DEFAULT_QUIET_HOURS)
    return QuietHours.parse(quiet, programme.get("working_days"))
