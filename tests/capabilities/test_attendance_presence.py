"""Meeting presence rules from the programme's `attendance` section: validated like its other
keys, and applied to a learner's chained join / leave records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.capabilities.attendance.models import AttendanceRecord
from bot.capabilities.attendance.presence import deciding_record, presence_of, presence_rules
from bot.capabilities.attendance.rules import validate_section
from bot.core.models import Cohort, LiveSession

START = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
LIVE = LiveSession(id=1, cohort_id=1, title="Kick-off", starts_at=START, duration_min=100)


def record(
    seq: int, minute: int, *, event: str | None, source: str = "meeting", **kw: object
) -> AttendanceRecord:
    values: dict[str, object] = {
        "session_id": 1,
        "seq": seq,
        "cohort_id": 1,
        "person_id": 7,
        "person_name": "Alice",
        "platform": "teams",
        "platform_user_id": "29:alice",
        "status": "present",
        "event_time": START + timedelta(minutes=minute),
        "received_at": START + timedelta(minutes=minute, seconds=1),
        "auth": "bf-jwt",
        "idempotency_key": f"k{seq}",
        "prev_hash": "",
        "hash": "",
        "source": source,
        "meeting_event": event,
        **kw,
    }
    return AttendanceRecord(**values)  # type: ignore[arg-type]


def cohort(**section: object) -> Cohort:
    return Cohort(slug="spoc", programme={"attendance": section})


def test_the_programme_sets_present_absent_and_late() -> None:
    history = [record(1, 12, event="join"), record(2, 82, event="leave")]  # 70 of 100 minutes, late
    default = presence_of(history, LIVE, presence_rules(cohort()), None)
    assert default is not None and (default.status, default.minutes) == ("late", 70)
    lenient = presence_rules(cohort(present_pct=60, late_after_min=15))
    assert presence_of(history, LIVE, lenient, None).status == "present"  # type: ignore[union-attr]
    strict = presence_rules(cohort(absent_below_pct=75, late_after_min=15))
    assert presence_of(history, LIVE, strict, None).status == "absent"  # type: ignore[union-attr]
    assert presence_of([record(1, 0, event=None, source="click")], LIVE, lenient, None) is None


@pytest.mark.parametrize(
    ("section", "key", "says"),
    [
        ({"present_pct": 0}, "present_pct", "from 1 to 100"),
        ({"present_pct": 101}, "present_pct", "from 1 to 100"),
        ({"present_pct": "80"}, "present_pct", "whole percentage"),
        ({"absent_below_pct": True}, "absent_below_pct", "from 0 to 100"),
        ({"present_pct": 50, "absent_below_pct": 60}, "absent_below_pct", "above present_pct"),
    ],
)
def test_bad_presence_rules_are_named(section: dict[str, object], key: str, says: str) -> None:
    errors = dict(validate_section(section))
    assert says in errors[key]


def test_good_presence_rules_pass() -> None:
    assert validate_section({"present_pct": 80, "absent_below_pct": 25, "late_after_min": 5}) == []


def test_a_correction_decides_over_clicks_and_meetings() -> None:
    click = record(1, 0, event=None, source="click", status="late")
    join = record(2, 1, event="join")
    assert deciding_record([click, join]) is click  # an edge is never the deciding record
    correction = record(3, 5, event=None, source="click", status="excused", correction=True)
    assert deciding_record([click, join, correction, record(4, 6, event="leave")]) is correction
