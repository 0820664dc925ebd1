"""Presence measured by a meeting: the programme's rules, and a learner's status and minutes from
their chained join / leave records.

Which source wins for one learner, always the same way whatever the order things arrived in:
1. a trainer's correction (the latest record being a correction) wins over everything;
2. otherwise the meeting wins when it saw the learner (joined at least once): it measures how long
   they stayed, a click only that they were there once;
3. otherwise their click (or the automatic Absent at the window's end) stands.
Every record is kept in the chain either way; the sheet notes the click the meeting overrode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from bot.capabilities.attendance.meeting_time import (
    Edge,
    PresenceRules,
    spans_from_edges,
    status_from_presence,
)
from bot.capabilities.attendance.models import AttendanceRecord
from bot.core.i18n import _
from bot.core.models import Cohort, LiveSession

# programme key -> (lowest, highest), in percent of the planned duration
PERCENT_KEYS = {"present_pct": (1, 100), "absent_below_pct": (0, 100)}


def presence_rules(cohort: Cohort) -> PresenceRules:
    """Defaults (Present at 80 %, Absent below 25 %, Late after 5 min), then the cohort's
    `attendance` section: `present_pct`, `absent_below_pct`, `late_after_min`."""
    section: dict[str, Any] = (cohort.programme or {}).get("attendance") or {}
    base = PresenceRules()
    present = section.get("present_pct")
    absent = section.get("absent_below_pct")
    late = section.get("late_after_min")
    return PresenceRules(
        present_ratio=base.present_ratio if present is None else int(present) / 100,
        absent_ratio=base.absent_ratio if absent is None else int(absent) / 100,
        late_after=base.late_after if late is None else timedelta(minutes=int(late)),
    )


def validate_percentages(data: dict[str, Any]) -> list[tuple[str, str]]:
    """Errors for the `attendance` section's meeting keys (called by its validator)."""
    errors: list[tuple[str, str]] = []
    for key, (low, high) in PERCENT_KEYS.items():
        value = data.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            errors.append((key, _("must be a whole percentage from {low} to {high}", low=low, high=high)))
    present, absent = data.get("present_pct"), data.get("absent_below_pct")
    if not errors and isinstance(present, int) and isinstance(absent, int) and absent > present:
        errors.append(("absent_below_pct", _("must not be above present_pct")))
    return errors


@dataclass(frozen=True)
class Presence:
    """What a meeting says about one learner."""

    status: str  # present | late | partial | absent
    minutes: float  # within the planned session
    first_join: datetime


def edges_of(history: Sequence[AttendanceRecord]) -> list[Edge]:
    """The join and leave edges in a learner's records, at the platform's time."""
    edges: list[Edge] = []
    for record in history:
        if record.source == "meeting" and record.meeting_event in ("join", "leave"):
            kind: Literal["join", "leave"] = "join" if record.meeting_event == "join" else "leave"
            edges.append((record.event_time or record.received_at, kind))
    return edges


def presence_of(
    history: Sequence[AttendanceRecord], live: LiveSession, rules: PresenceRules, ended_at: datetime | None
) -> Presence | None:
    """The learner's presence by the meeting, or None when the meeting never saw them join."""
    edges = edges_of(history)
    joins = [at for at, kind in edges if kind == "join"]
    if not joins:
        return None
    ends = live.starts_at + timedelta(minutes=live.duration_min)
    spans = spans_from_edges(edges, ended_at)
    status, minutes = status_from_presence(spans, live.starts_at, ends, rules)
    return Presence(status, round(minutes, 1), min(joins))


def deciding_record(history: Sequence[AttendanceRecord]) -> AttendanceRecord | None:
    """The record that decides the status when the meeting does not: the latest correction, else
    the latest record that is not a meeting edge."""
    for record in reversed(history):
        if record.correction:
            return record
    decided = [r for r in history if not (r.source == "meeting" and r.meeting_event in ("join", "leave"))]
    return decided[-1] if decided else None


def provisional_status(at: datetime, live: LiveSession, rules: PresenceRules) -> str:
    """A join's status before the meeting ends: Present, or Late after the threshold."""
    return "late" if at > live.starts_at + rules.late_after else "present"
