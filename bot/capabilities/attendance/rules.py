"""Check-in window rules: defaults, the cohort's `attendance` programme section, per-session overrides."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from bot.capabilities.attendance.models import AttendanceSessionState
from bot.capabilities.attendance.presence import PERCENT_KEYS, validate_percentages
from bot.core.i18n import _
from bot.core.models import Cohort, LiveSession
from bot.core.registry import programme_section

Phase = Literal["before", "open", "closed"]

# programme key -> (lowest, highest) in minutes
MINUTE_KEYS = {
    "opens_before_min": (0, 720),
    "closes_after_min": (0, 720),
    "late_after_min": (0, 720),
    "code_every_min": (1, 60),
}
FLAG_KEYS = ("enabled", "require_code", "reminder")


@dataclass(frozen=True)
class WindowRules:
    """When check-in opens and closes around a session's start, and when Present turns Late."""

    opens_before: timedelta = timedelta(minutes=10)
    closes_after: timedelta = timedelta(minutes=15)
    late_after: timedelta = timedelta(minutes=5)
    require_code: bool = False  # cohort default; a session's own code setting wins
    code_step: timedelta = timedelta(minutes=3)
    reminder: bool = True
    enabled: bool = True  # False: no windows, no cards (e.g. optional webinars of a self-paced course)


@dataclass(frozen=True)
class Window:
    opens_at: datetime
    late_at: datetime
    closes_at: datetime

    def phase(self, when: datetime) -> Phase:
        if when < self.opens_at:
            return "before"
        return "open" if when < self.closes_at else "closed"

    def status_at(self, when: datetime) -> str:
        return "present" if when < self.late_at else "late"

    @property
    def reminder_at(self) -> datetime:
        """Mid-window: late enough that most have checked in, early enough to still come."""
        return self.opens_at + (self.closes_at - self.opens_at) / 2


def rules_for(cohort: Cohort, state: AttendanceSessionState | None) -> WindowRules:
    """Defaults, overridden by the cohort's programme section, overridden by the session's own."""
    section: dict[str, Any] = (cohort.programme or {}).get("attendance") or {}
    base = WindowRules()
    minutes = {key: section.get(key) for key in MINUTE_KEYS}
    if state is not None:
        for key, value in (
            ("opens_before_min", state.opens_before_min),
            ("closes_after_min", state.closes_after_min),
            ("late_after_min", state.late_after_min),
        ):
            if value is not None:
                minutes[key] = value

    def pick(key: str, default: timedelta) -> timedelta:
        value = minutes.get(key)
        return default if value is None else timedelta(minutes=int(value))

    return WindowRules(
        opens_before=pick("opens_before_min", base.opens_before),
        closes_after=pick("closes_after_min", base.closes_after),
        late_after=pick("late_after_min", base.late_after),
        require_code=bool(section.get("require_code", base.require_code)),
        code_step=pick("code_every_min", base.code_step),
        reminder=bool(section.get("reminder", base.reminder)),
        enabled=bool(section.get("enabled", base.enabled)),
    )


def window_of(live: LiveSession, rules: WindowRules, state: AttendanceSessionState | None) -> Window:
    """The session's window: opened early or closed early by a trainer if they did."""
    opens = live.starts_at - rules.opens_before
    closes = live.starts_at + rules.closes_after
    if state is not None and state.opened_at is not None:
        opens = min(opens, state.opened_at)
    if state is not None and state.closed_at is not None:
        closes = min(closes, state.closed_at)
    late = min(max(live.starts_at + rules.late_after, opens), closes)
    return Window(opens_at=opens, late_at=late, closes_at=max(opens, closes))


@programme_section("attendance")
def validate_section(data: Any) -> list[tuple[str, str]]:
    """Check the `attendance` section of a programme: minutes in range and known flags only."""
    if data is None:
        return []
    if not isinstance(data, dict):
        return [("", _("must be a mapping, e.g. {opens_before_min: 10, closes_after_min: 15}"))]
    errors: list[tuple[str, str]] = []
    for key, value in data.items():
        if key in MINUTE_KEYS:
            low, high = MINUTE_KEYS[key]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                errors.append(
                    (key, _("must be a whole number of minutes from {low} to {high}", low=low, high=high))
                )
        elif key in PERCENT_KEYS:
            continue  # meeting presence: checked by validate_percentages below
        elif key in FLAG_KEYS:
            if not isinstance(value, bool):
                errors.append((key, _("must be true or false")))
        else:
            known = ", ".join([*MINUTE_KEYS, *FLAG_KEYS, *PERCENT_KEYS])
            errors.append((key, _("unknown setting; known: {known}", known=known)))
    errors += validate_percentages(data)
    late, closes = data.get("late_after_min"), data.get("closes_after_min", 15)
    if isinstance(late, int) and isinstance(closes, int) and not errors and late > closes:
        errors.append(("late_after_min", _("must not be after the window closes (closes_after_min)")))
    return errors
