"""Reach: resolve people enrolled by email to platform accounts before anything is due, and show
trainers who can be reached, per platform, and why the others cannot (`reach <cohort>`, `status`)."""

from bot.capabilities.reach import resolver, verbs  # noqa: F401  (imported for their registrations)
