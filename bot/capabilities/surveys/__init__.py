"""Micro-surveys in chat: defined by trainers or the programme, answered in the chat (named or
anonymous), followed up once, closed at their deadline, and reported as results, CSV and KPIs."""

from bot.capabilities.surveys import demo, models, planning, privacy, results, verbs

__all__ = ["demo", "models", "planning", "privacy", "results", "verbs"]
