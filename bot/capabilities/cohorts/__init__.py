"""Cohorts: create them, enroll people, add sessions and modules, apply a programme, show status;
and the language each person reads."""

from bot.capabilities.cohorts import commands, language, welcome  # noqa: F401  (registrations)
