"""Help: the list of commands, and one command's usage and example."""

from bot.capabilities.help import commands  # noqa: F401  (imported for its registrations)
