"""Named messages: a key per sentence a capability reuses, its English text the gettext message id.

Capabilities add theirs with `register({...})` under a prefix of their own, marking each text
with `N_` (or `Np_` for a countable one) so extraction finds it; `t(key, ...)` gives it in the
current language (`bot.core.i18n`). One-off sentences call `i18n._` directly.
"""

from __future__ import annotations

from datetime import datetime

from bot.core import i18n
from bot.core.i18n import N_

CATALOGUE: dict[str, str | tuple[str, str]] = {
    "welcome": N_(
        "Welcome to *{cohort}*! I'll remind you of sessions and due dates here. "
        "Type `status {cohort}` any time."
    ),
    "welcome.team": N_("You're in team *{team}*."),
    "status.none": N_("You're not in any cohort yet."),
    "status.next_session": N_("Next session"),
    "status.next_due": N_("Next due"),
    "status.nothing": N_("nothing scheduled"),
}


def register(entries: dict[str, str | tuple[str, str]]) -> None:
    for key, text in entries.items():
        if key in CATALOGUE and CATALOGUE[key] != text:
            raise ValueError(f"text {key!r} registered twice with different wording")
        CATALOGUE[key] = text


def t(key: str, /, n: int | None = None, **values: object) -> str:
    """The message named `key` in the current language; a countable one takes `n`."""
    text = CATALOGUE[key]
    if isinstance(text, tuple):
        if n is None:
            raise TypeError(f"text {key!r} is countable: pass n=")
        return i18n._n(text[0], text[1], n, **values)
    return i18n._(text, **values)


def local_time(when: datetime, tz: str | None) -> str:
    """How a time is shown to a person: in their zone, e.g. 'Mon 9 Mar 09:30 (Europe/Paris)'."""
    return f"{i18n.short_time(when, tz)} ({tz or 'UTC'})"


def local_date(when: datetime, tz: str | None) -> str:
    """'Mon 9 Mar' / 'lun. 9 mars'."""
    return i18n.short_date(when, tz)
