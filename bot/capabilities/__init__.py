"""Capabilities: one package each, plugged into the core through `bot.core.registry`.

Importing this package imports every capability, so each registers its verbs, actions, planners,
tables and KPIs.
"""

import importlib

# Order matters only for help output and demo sections.
CAPABILITIES: tuple[str, ...] = (
    "help",
    "cohorts",
    "surveys",
    "challenges",
    "completion",
    "reports",
    "reminders",
    "attendance",
    "reach",
)

for _name in CAPABILITIES:
    importlib.import_module(f"{__name__}.{_name}")
