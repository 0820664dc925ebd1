"""Digests, the training-manager report, charts, exports and certificates (issue #9, reporting side).

Importing the package registers its verb (`report`), action (`reports.nudge`), planner and event
handlers (weekly digests), programme section (`digests`), activity listener and tables
(`report_attendance`, `report_last_seen`: summaries of the activity log) and demo sections.
"""

from bot.capabilities.reports import commands, config, demo, digests, nudge, summary

__all__ = ["commands", "config", "demo", "digests", "nudge", "summary"]
