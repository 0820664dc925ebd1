"""Attendance wording, registered in the shared catalogue under `attendance.`."""

from __future__ import annotations

from bot.core.texts import register

STATUS_LABELS = {
    "present": "Present",
    "late": "Late",
    "partial": "Partial",
    "absent": "Absent",
    "excused": "Excused",
}

register(
    {
        "attendance.card.title": "Check-in: {title}",
        "attendance.card.open": (
            "Check-in is open for *{title}* (starts {starts}). Click *Check in* when you are there; "
            "after {late} it counts as late. Closes at {closes}."
        ),
        "attendance.card.code": "This session needs the code your trainer announces.",
        "attendance.card.code_prompt": "Session code",
        "attendance.card.reminder": "You haven't checked in to *{title}* yet. Check-in closes at {closes}.",
        "attendance.card.closed": "Check-in for *{title}* is closed. You are recorded *{status}*.",
        "attendance.button.checkin": "Check in",
        "attendance.button.absent": "I can't attend",
        "attendance.checked_in": "✓ Checked in at {time} ({status})",
        "attendance.already": "You already checked in at {time} ({status}). Nothing changed.",
        "attendance.already_recorded": "You are already recorded *{status}* for *{title}*. Nothing changed.",
        "attendance.not_open": "Check-in for *{title}* opens at {opens}. Click again then.",
        "attendance.closed": (
            "Check-in for *{title}* closed at {closes}. If you were there, ask your trainer to correct it."
        ),
        "attendance.code_needed": (
            "*{title}* needs the code your trainer announces: "
            "type it in the box, or `checkin {cohort} <code>`."
        ),
        "attendance.code_wrong": "That code is wrong or has expired: codes change every few minutes. "
        "{left} tries left.",
        "attendance.code_locked": "Too many wrong codes for *{title}*: ask your trainer to record you.",
        "attendance.absence.ask": "Why can't you attend *{title}*? Your trainer will see your reason.",
        "attendance.absence.prompt": "Reason",
        "attendance.absence.noted": (
            "Noted: you can't attend *{title}* ({reason}). It counts as excused once a trainer approves it."
        ),
        "attendance.absence.approved": "Your absence from *{title}* is approved: you are excused.",
        "attendance.channel.open": (
            "Check-in is open for *{title}* until {closes}. Learners: use the button in your DM "
            "or `checkin {cohort}`."
        ),
        "attendance.channel.closed": "Check-in for *{title}* is closed: {totals}.",
    }
)
