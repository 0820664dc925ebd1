"""The planner as a pure function: wall-clock days across DST, quiet hours, one event per zone,
self-paced dates grouped by enrolment day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from schedules.planner import Audience, Calendar, Item, QuietHours, Rule, plan
from schedules.programme import local_moment

PARIS, NEW_YORK, KOLKATA = "Europe/Paris", "America/New_York", "Asia/Kolkata"


def local(when: datetime, tz: str) -> str:
    return when.astimezone(ZoneInfo(tz)).strftime("%a %d %b %H:%M")


def calendar(*items: Item, rules: tuple[Rule, ...], tz: str = PARIS, **kw: object) -> Calendar:
    return Calendar(cohort_id=1, tz=tz, start=date(2027, 3, 1), items=items, rules=rules, **kw)  # type: ignore[arg-type]


def test_one_day_before_keeps_the_wall_clock_time_over_the_eu_change() -> None:
    # Sunday 28 March 09:00 in Paris, hours after the clocks jumped: the day before is 23 hours earlier.
    session = Item("session", 1, local_moment(date(2027, 3, 28), time(9, 0), PARIS))
    rules = (Rule("session", before=timedelta(days=1), respect_quiet=False),)
    [reminder] = plan(calendar(session, rules=rules), [Audience(PARIS)])
    assert local(reminder.due_at, PARIS) == "Sat 27 Mar 09:00"
    assert session.deadline - reminder.due_at == timedelta(hours=23)


def test_one_day_before_over_the_us_change() -> None:
    session = Item("session", 1, local_moment(date(2027, 3, 15), time(9, 0), NEW_YORK))
    rules = (Rule("session", before=timedelta(days=1, hours=1), respect_quiet=False),)
    [reminder] = plan(calendar(session, rules=rules, tz=NEW_YORK), [Audience(NEW_YORK)])
    assert local(reminder.due_at, NEW_YORK) == "Sun 14 Mar 08:00"


def test_a_local_time_the_clocks_skip_moves_forward_once_and_one_they_repeat_fires_once() -> None:
    module = Item("module", 7, local_moment(date(2027, 3, 29), time(23, 59), PARIS))
    skipped = Rule("module", days_before=1, at=time(2, 30), respect_quiet=False)
    [reminder] = plan(calendar(module, rules=(skipped,)), [Audience(PARIS)])
    assert local(reminder.due_at, PARIS) == "Sun 28 Mar 03:30"
    autumn = Item("module", 8, local_moment(date(2027, 11, 1), time(23, 59), NEW_YORK))
    repeated = Rule("module", days_before=1, at=time(1, 30), respect_quiet=False)
    reminders = plan(calendar(autumn, rules=(repeated,), tz=NEW_YORK), [Audience(NEW_YORK)])
    assert [local(r.due_at, NEW_YORK) for r in reminders] == ["Sun 31 Oct 01:30"]
    assert (
        reminders[0].due_at.utcoffset() == timedelta(0) and reminders[0].due_at.hour == 5
    )  # EDT, the first 01:30


def test_quiet_hours_and_weekends_defer_to_the_next_allowed_moment() -> None:
    quiet = QuietHours(start=time(21, 0), end=time(8, 0), working_days=frozenset(range(5)))
    friday_night = local_moment(date(2027, 3, 5), time(22, 30), PARIS)
    assert local(quiet.next_allowed(friday_night, PARIS), PARIS) == "Mon 08 Mar 08:00"
    tuesday_early = local_moment(date(2027, 3, 2), time(6, 0), PARIS)
    assert local(quiet.next_allowed(tuesday_early, PARIS), PARIS) == "Tue 02 Mar 08:00"
    fine = local_moment(date(2027, 3, 2), time(12, 0), PARIS)
    assert quiet.next_allowed(fine, PARIS) == fine


def test_a_reminder_quiet_hours_would_push_past_its_session_is_dropped_with_a_reason() -> None:
    quiet = QuietHours(start=time(21, 0), end=time(8, 0))
    session = Item("session", 1, local_moment(date(2027, 3, 2), time(7, 30), PARIS))
    [reminder] = plan(
        calendar(session, rules=(Rule("session", before=timedelta(hours=2)),), quiet=quiet), [Audience(PARIS)]
    )
    assert reminder.payload["skip"] == "quiet_hours"
    deferred = Item("session", 2, local_moment(date(2027, 3, 2), time(9, 0), PARIS))
    [ok] = plan(
        calendar(deferred, rules=(Rule("session", before=timedelta(hours=2)),), quiet=quiet),
        [Audience(PARIS)],
    )
    assert (
        local(ok.due_at, PARIS) == "Tue 02 Mar 08:00"
        and ok.payload["deferred"]
        and ok.payload["skip"] is None
    )


def test_a_short_notice_reminder_is_never_late_after_the_start() -> None:
    session = Item("session", 1, local_moment(date(2027, 3, 2), time(14, 0), PARIS))
    [reminder] = plan(
        calendar(session, rules=(Rule("session", before=timedelta(minutes=15)),)), [Audience(PARIS)]
    )
    assert reminder.due_at + reminder.grace == session.deadline


def test_one_event_per_zone_with_stable_keys() -> None:
    session = Item("session", 4, local_moment(date(2027, 3, 2), time(14, 0), PARIS))
    rules = (Rule("session", before=timedelta(days=1)), Rule("session", before=timedelta(minutes=15)))
    audiences = [Audience(PARIS), Audience(NEW_YORK), Audience(KOLKATA), Audience(PARIS)]
    first = plan(calendar(session, rules=rules), audiences)
    assert len(first) == 6
    assert "rem:1:s4:1d:America/New_York" in {r.key for r in first}
    assert [r.key for r in plan(calendar(session, rules=rules), reversed(audiences))] == [
        r.key for r in first
    ]


def test_self_paced_modules_count_from_each_enrolment_day() -> None:
    module = Item("module", 3, local_moment(date(2027, 3, 3), time(23, 59), PARIS))  # day 2 of the track
    rule = Rule("module", days_before=1, at=time(10, 0), respect_quiet=False)
    groups = [
        Audience(PARIS, date(2027, 3, 1)),
        Audience(PARIS, date(2027, 3, 10)),
        Audience(KOLKATA, date(2027, 3, 10)),
    ]
    reminders = plan(calendar(module, rules=(rule,), per_enrolment=True), groups)
    assert [(local(r.due_at, r.payload["zone"]), r.payload["enrolled_on"]) for r in reminders] == [
        ("Tue 02 Mar 10:00", "2027-03-01"),
        ("Thu 11 Mar 10:00", "2027-03-10"),
        ("Thu 11 Mar 10:00", "2027-03-10"),
    ]
    # A rule that would fall before the learners arrived is not planned for them.
    early = Rule("module", days_before=3, at=time(10, 0), respect_quiet=False)
    assert (
        plan(calendar(module, rules=(early,), per_enrolment=True), [Audience(PARIS, date(2027, 3, 1))]) == []
    )
