"""Minutes present from meeting join/leave events: reconnections, two devices, late joins, early
leaves, a meeting that ends with people still in it."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.capabilities.attendance.meeting_time import (
    PresenceRules,
    merge,
    minutes_within,
    spans_from_edges,
    status_from_presence,
)

T0 = datetime(2027, 3, 2, 13, 0, tzinfo=UTC)  # a 60-minute session from 13:00 to 14:00
T1 = T0 + timedelta(minutes=60)


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def test_a_reconnection_is_one_stay_minus_the_gap() -> None:
    spans = spans_from_edges([(at(-2), "join"), (at(20), "leave"), (at(23), "join"), (at(61), "leave")], None)
    assert spans == [(at(-2), at(20)), (at(23), at(61))]
    assert minutes_within(spans, T0, T1) == 57  # 20 + 37, clipped to the planned hour


def test_two_devices_count_once() -> None:
    edges = [(at(0), "join"), (at(10), "join"), (at(30), "leave"), (at(50), "leave")]
    assert spans_from_edges(edges, None) == [(at(0), at(50))]


def test_a_leave_and_rejoin_in_the_same_second_is_continuous() -> None:
    assert spans_from_edges(
        [(at(0), "join"), (at(30), "leave"), (at(30), "join"), (at(60), "leave")], None
    ) == [(at(0), at(60))]


def test_still_in_the_meeting_when_it_ends() -> None:
    assert spans_from_edges([(at(5), "join")], ended_at=at(55)) == [(at(5), at(55))]
    assert spans_from_edges([(at(5), "join")], ended_at=None) == []  # not over: not counted yet


def test_statuses_follow_the_rules() -> None:
    rules = PresenceRules(present_ratio=0.8, absent_ratio=0.25, late_after=timedelta(minutes=5))
    assert status_from_presence([(at(-5), at(60))], T0, T1, rules) == ("present", 60)
    assert status_from_presence([(at(12), at(60))], T0, T1, rules) == ("late", 48)
    assert status_from_presence([(at(0), at(30))], T0, T1, rules) == ("partial", 30)
    assert status_from_presence([(at(0), at(10))], T0, T1, rules) == ("absent", 10)
    assert status_from_presence([], T0, T1, rules) == ("absent", 0)
    assert status_from_presence([(at(-30), at(-1))], T0, T1, rules) == ("absent", 0)


minutes = st.integers(min_value=-90, max_value=150)


@given(st.lists(st.tuples(minutes, st.integers(min_value=0, max_value=120)), max_size=12))
def test_merged_spans_are_disjoint_and_never_exceed_the_session(raw: list[tuple[int, int]]) -> None:
    spans = [(at(start), at(start + length)) for start, length in raw]
    merged = merge(spans)
    assert all(a[1] < b[0] for a, b in itertools.pairwise(merged))
    assert 0 <= minutes_within(spans, T0, T1) <= 60
    # every instant covered by an input span is covered by the merge
    for start, end in spans:
        if end > start:
            assert any(m0 <= start and end <= m1 for m0, m1 in merged)
