"""Loads every capability and every adapter's own plug-ins, so the registry and the table
metadata are complete. The composition root calls this before anything runs."""

from __future__ import annotations

from bot.core import registry

# Adapters whose `plugins` module registers something with the engine (tables, verbs).
ADAPTERS_WITH_PLUGINS: tuple[str, ...] = ("adapters.slack", "adapters.teams")


def load_all() -> None:
    for adapter in ADAPTERS_WITH_PLUGINS:
        registry.add_plugin(f"{adapter}.plugins")
    registry.load_capabilities()
