"""Time present in a meeting, from join and leave events: pure functions, no database.

Teams tells a bot in a meeting when each participant joins and leaves. A person may drop out and
come back (a reconnection), join twice from two devices, or never get a leave event because the
meeting ended. Their presence is the union of their intervals, clipped to the session's planned
time; their status follows the programme's rules (see `PresenceRules`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Span = tuple[datetime, datetime]
Edge = tuple[datetime, Literal["join", "leave"]]


@dataclass(frozen=True)
class PresenceRules:
    """Present at `present_ratio` of the planned time or more; Absent below `absent_ratio`;
    Late when the first join comes after `late_after` past the start; Partial in between."""

    present_ratio: float = 0.8
    absent_ratio: float = 0.25
    late_after: timedelta = timedelta(minutes=5)


def spans_from_edges(edges: Iterable[Edge], ended_at: datetime | None) -> list[Span]:
    """Pair joins with leaves, in time order. Overlapping joins (two devices) count once: a person
    is present while at least one of their connections is. A join never closed lasts until the
    meeting ended (or is dropped if it has not ended yet: still in the meeting, not counted yet)."""
    spans: list[Span] = []
    open_count = 0
    opened_at: datetime | None = None
    # At one instant, leaves before joins: a leave and a rejoin at the same second is one stay.
    for at, kind in sorted(edges, key=lambda e: (e[0], e[1] == "join")):
        if kind == "join":
            if open_count == 0:
                opened_at = at
            open_count += 1
        elif open_count > 0:
            open_count -= 1
            if open_count == 0 and opened_at is not None:
                spans.append((opened_at, at))
                opened_at = None
        # a leave with no join (we joined the meeting late): nothing to close
    if open_count > 0 and opened_at is not None and ended_at is not None and ended_at > opened_at:
        spans.append((opened_at, ended_at))
    return merge(spans)


def merge(spans: Iterable[Span]) -> list[Span]:
    """The union of intervals, as disjoint spans in time order (touching spans join)."""
    merged: list[Span] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def minutes_within(spans: Iterable[Span], starts_at: datetime, ends_at: datetime) -> float:
    """Minutes of presence inside the planned session, never more than its length."""
    total = timedelta()
    for start, end in merge(spans):
        lo, hi = max(start, starts_at), min(end, ends_at)
        if hi > lo:
            total += hi - lo
    return total.total_seconds() / 60


def status_from_presence(
    spans: list[Span], starts_at: datetime, ends_at: datetime, rules: PresenceRules
) -> tuple[str, float]:
    """(status, minutes present) for one person: present, late, partial or absent."""
    planned = (ends_at - starts_at).total_seconds() / 60
    minutes = minutes_within(spans, starts_at, ends_at)
    ratio = minutes / planned if planned > 0 else 0.0
    inside = [s for s in merge(spans) if s[1] > starts_at and s[0] < ends_at]
    if not inside or ratio < rules.absent_ratio:
        return "absent", minutes
    if inside[0][0] > starts_at + rules.late_after:
        return "late", minutes
    return ("present" if ratio >= rules.present_ratio else "partial"), minutes
