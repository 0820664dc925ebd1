"""Completion: how module completions come in (chat, trainers, CSV, xAPI) and how learners are imported.

Every source goes through `recording.record_completion`, which keeps the core `Completion` row and
logs `module.completed` once per real change.
"""

from bot.capabilities.completion import activities, chat, demo, lms_ids, models, privacy, xapi_out

__all__ = ["activities", "chat", "demo", "lms_ids", "models", "privacy", "xapi_out"]
