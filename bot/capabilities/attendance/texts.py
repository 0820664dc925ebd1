"""Attendance wording, registered in the shared catalogue under `attendance.`."""

from __future__ import annotations

from bot.core.i18n import N_, Np_
from bot.core.texts import register

# "3 present", "1 late": a count with its status, agreeing in number where the language does.
STATUS_COUNTS = {
    "present": Np_("{n} present", "{n} present"),
    "late": Np_("{n} late", "{n} late"),
    "partial": Np_("{n} partial", "{n} partial"),
    "absent": Np_("{n} absent", "{n} absent"),
    "excused": Np_("{n} excused", "{n} excused"),
}

STATUS_LABELS = {
    "present": N_("Present"),
    "late": N_("Late"),
    "partial": N_("Partial"),
    "absent": N_("Absent"),
    "excused": N_("Excused"),
}

register(
    {
        "attendance.card.title": N_("Check-in: {title}"),
        "attendance.card.open": N_(
            "Check-in is open for *{title}* (starts {starts}). Click *Check in* when you are there; "
            "after {late} it counts as late. Closes at {closes}."
        ),
        "attendance.card.code": N_("This session needs the code your trainer announces."),
        "attendance.card.code_prompt": N_("Session code"),
        "attendance.card.reminder": N_(
            "You haven't checked in to *{title}* yet. Check-in closes at {closes}."
        ),
        "attendance.card.closed": N_("Check-in for *{title}* is closed. You are recorded *{status}*."),
        "attendance.button.checkin": N_("Check in"),
        "attendance.button.absent": N_("I can't attend"),
        "attendance.checked_in": N_("✓ Checked in at {time} ({status})"),
        "attendance.already": N_("You already checked in at {time} ({status}). Nothing changed."),
        "attendance.already_recorded": N_(
            "You are already recorded *{status}* for *{title}*. Nothing changed."
        ),
        "attendance.not_open": N_("Check-in for *{title}* opens at {opens}. Click again then."),
        "attendance.closed": N_(
            "Check-in for *{title}* closed at {closes}. If you were there, ask your trainer to correct it."
        ),
        "attendance.code_needed": N_(
            "*{title}* needs the code your trainer announces: "
            "type it in the box, or `checkin {cohort} <code>`."
        ),
        "attendance.code_wrong": Np_(
            "That code is wrong or has expired: codes change every few minutes. {n} try left.",
            "That code is wrong or has expired: codes change every few minutes. {n} tries left.",
        ),
        "attendance.code_locked": N_("Too many wrong codes for *{title}*: ask your trainer to record you."),
        "attendance.absence.ask": N_("Why can't you attend *{title}*? Your trainer will see your reason."),
        "attendance.absence.prompt": N_("Reason"),
        "attendance.absence.noted": N_(
            "Noted: you can't attend *{title}* ({reason}). It counts as excused once a trainer approves it."
        ),
        "attendance.absence.approved": N_("Your absence from *{title}* is approved: you are excused."),
        "attendance.channel.open": N_(
            "Check-in is open for *{title}* until {closes}. Learners: use the button in your DM "
            "or `checkin {cohort}`."
        ),
        "attendance.channel.closed": N_("Check-in for *{title}* is closed: {totals}."),
    }
)
