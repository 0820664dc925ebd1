"""Every learner-facing sentence, in one catalogue, so wording stays consistent and can be translated.

Capabilities add their own sentences with `register({...})` under a prefix of their own.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

CATALOGUE: dict[str, str] = {
    "welcome": (
        "Welcome to *{cohort}*! I'll remind you of sessions and due dates here. "
        "Type `status {cohort}` any time."
    ),
    "welcome.team": "You're in team *{team}*.",
    "status.none": "You're not in any cohort yet.",
    "status.next_session": "Next session",
    "status.next_due": "Next due",
    "status.nothing": "nothing scheduled",
}


def register(entries: dict[str, str]) -> None:
    for key, text in entries.items():
        if key in CATALOGUE and CATALOGUE[key] != text:
            raise ValueError(f"text {key!r} registered twice with different wording")
        CATALOGUE[key] = text


def t(key: str, **values: object) -> str:
    return CATALOGUE[key].format(**values)


def local_time(when: datetime, tz: str | None) -> str:
    """How a time is shown to a person: in their zone, e.g. 'Mon 9 Mar 09:30 (Europe/Paris)'."""
    zone = ZoneInfo(tz or "UTC")
    local = when.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %H:%M} ({zone.key})"


def local_date(when: datetime, tz: str | None) -> str:
    local = when.astimezone(ZoneInfo(tz or "UTC"))
    return f"{local:%a} {local.day} {local:%b}"
