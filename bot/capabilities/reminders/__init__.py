"""Reminders: the planned fan-out (`fanout`), what learners and trainers control (`controls`), and
the reminder log kept as audit evidence (`log`)."""

# Imported for their registrations, in help order.
from bot.capabilities.reminders import fanout  # noqa: F401, I001
from bot.capabilities.reminders import controls  # noqa: F401
from bot.capabilities.reminders import log  # noqa: F401
