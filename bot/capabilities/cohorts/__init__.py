"""Cohorts: create them, enroll people, add sessions and modules, apply a programme, show status."""

from bot.capabilities.cohorts import commands, welcome  # noqa: F401  (imported for their registrations)
