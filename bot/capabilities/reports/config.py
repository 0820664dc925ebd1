"""The programme section `digests`: when digests go out and who counts as at risk."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.core.i18n import _
from bot.core.models import Cohort
from bot.core.registry import programme_section

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_INT_KEYS = {
    "hour": (0, 23),
    "missed_sessions": (1, 100),
    "overdue_modules": (1, 100),
    "inactive_days": (1, 365),
}


@dataclass(frozen=True)
class DigestConfig:
    """Digest schedule (weekday, local hour) and the at-risk thresholds."""

    enabled: bool = True
    weekday: int = 0  # Monday
    hour: int = 8  # local time of each recipient
    missed_sessions: int = 2
    overdue_modules: int = 1
    inactive_days: int | None = 14  # None: inactivity never makes someone at risk

    @staticmethod
    def of(cohort: Cohort) -> DigestConfig:
        """The cohort's configuration; a section that does not validate falls back to the defaults."""
        data = (cohort.programme or {}).get("digests")
        if not isinstance(data, dict) or validate_digests(data):
            return DigestConfig()
        values: dict[str, Any] = {k: v for k, v in data.items() if k != "weekday"}
        if "weekday" in data:
            values["weekday"] = WEEKDAYS.index(str(data["weekday"]).lower())
        return DigestConfig(**values)


@programme_section("digests")
def validate_digests(data: Any) -> list[tuple[str, str]]:
    """`digests: {enabled, weekday, hour, missed_sessions, overdue_modules, inactive_days}`."""
    if not isinstance(data, dict):
        return [("", _("must be a mapping, e.g. {weekday: monday, hour: 8}"))]
    errors: list[tuple[str, str]] = []
    for key, value in data.items():
        if key == "enabled":
            if not isinstance(value, bool):
                errors.append((key, _("must be true or false")))
        elif key == "weekday":
            if str(value).lower() not in WEEKDAYS:
                errors.append((key, _("must be a day name: {days}", days=", ".join(WEEKDAYS))))
        elif key in _INT_KEYS:
            low, high = _INT_KEYS[key]
            if key == "inactive_days" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                errors.append((key, _("must be a whole number from {low} to {high}", low=low, high=high)))
        else:
            known = ", ".join(["enabled", "weekday", *_INT_KEYS])
            errors.append((key, _("unknown setting; known: {known}", known=known)))
    return errors
