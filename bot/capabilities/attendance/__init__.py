"""Attendance: check-in windows per live session, audit-grade hash-chained records, sheets and exports.

Importing the package registers its verbs, actions, scheduled events, status blocks and demo parts.
"""

from bot.capabilities.attendance import (  # noqa: F401  (imported for their registrations)
    absences,
    checkin,
    checkpoint_events,
    demo_part,
    meeting_links,
    meeting_records,
    meeting_settle,
    models,
    privacy,
    rules,
    status,
    trainer,
    windows,
)
