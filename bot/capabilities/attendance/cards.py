"""The messages learners see: the check-in card, its reminder, its closed form, the absence prompt."""

from __future__ import annotations

from datetime import datetime

from bot.capabilities.attendance.rules import Window
from bot.capabilities.attendance.texts import STATUS_COUNTS, STATUS_LABELS
from bot.core import i18n
from bot.core.i18n import _
from bot.core.messages import Block, Button, Buttons, Header, Message, Text, TextInput
from bot.core.models import LiveSession
from bot.core.texts import t

CHECKIN = "attendance.checkin"
ABSENT = "attendance.absent"


def hhmm(when: datetime, tz: str | None) -> str:
    """'14:05' / '14 h 05': a time of day the reader's way."""
    return i18n.time_of_day(when, tz)


def label(status: str) -> str:
    return _(STATUS_LABELS[status]) if status in STATUS_LABELS else status


def count_of(status: str, n: int) -> str:
    """'3 present' / '3 présents'."""
    forms = STATUS_COUNTS.get(status)
    return i18n._n(forms[0], forms[1], n) if forms else f"{i18n.number(n)} {status}"


def checkin_card(
    live: LiveSession, window: Window, tz: str | None, *, code_required: bool, reminder: bool = False
) -> Message:
    """The DM with the primary "Check in" button (and a code box when the session needs one)."""
    title = t("attendance.card.title", title=live.title)
    times = {"starts": hhmm(live.starts_at, tz), "late": hhmm(window.late_at, tz)}
    if reminder:
        body = t("attendance.card.reminder", title=live.title, closes=hhmm(window.closes_at, tz))
    else:
        body = t("attendance.card.open", title=live.title, closes=hhmm(window.closes_at, tz), **times)
    value = str(live.id)
    blocks: list[Block] = [Header(title), Text(body)]
    if code_required:
        blocks += [
            Text(t("attendance.card.code")),
            TextInput("code", t("attendance.card.code_prompt"), CHECKIN, value, multiline=False),
        ]
    blocks.append(
        Buttons(
            (
                Button(t("attendance.button.checkin"), CHECKIN, value, "primary"),
                Button(t("attendance.button.absent"), ABSENT, value),
            )
        )
    )
    return Message(body, tuple(blocks))


def done_card(live: LiveSession, text: str) -> Message:
    """A check-in card once answered: no buttons left to press."""
    return Message(text, (Header(t("attendance.card.title", title=live.title)), Text(text)))


def closed_card(live: LiveSession, status: str) -> Message:
    return done_card(live, t("attendance.card.closed", title=live.title, status=label(status)))


def absence_prompt(live: LiveSession) -> Message:
    text = t("attendance.absence.ask", title=live.title)
    return Message(
        text,
        (
            Header(t("attendance.card.title", title=live.title)),
            TextInput("reason", t("attendance.absence.prompt"), ABSENT, str(live.id), multiline=False),
        ),
    )
