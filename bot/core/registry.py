"""Where capabilities plug in: command verbs, button actions, scheduled events, demo sections.

Each capability module registers its pieces with the decorators below; `load_capabilities()`
imports the capabilities package (and adapters' plug-ins) once, so nothing else needs to know them.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import Any

from bot.core.aliases import aliases_of
from bot.core.grammar import Arg, Verb

# Where the capabilities are (a package whose import registers each of them), and the modules
# the composition root adds for adapters that plug something in (bot/app/plugins.py). Named as
# strings so the core imports no capability and no adapter.
CAPABILITIES_PACKAGE = "bot.capabilities"
PLUGINS: list[str] = []

VERBS: dict[str, Verb] = {}
ACTIONS: dict[str, Callable[..., Awaitable[Any]]] = {}
PLANNERS: list[Callable[..., Awaitable[Any]]] = []
EVENT_HANDLERS: dict[str, Callable[..., Awaitable[Any]]] = {}
DEMO_SECTIONS: list[tuple[int, Callable[..., Awaitable[Any]]]] = []
# `status` contributions: async fn(ctx, cohort, person_id) -> list[Block] (learner view)
# and async fn(ctx, cohort) -> list[Block] (staff view of the whole cohort).
LEARNER_STATUS: list[Callable[..., Awaitable[Any]]] = []
STAFF_STATUS: list[Callable[..., Awaitable[Any]]] = []
# The home screen (Slack's App Home, a Teams personal card): async fn(ctx) -> Message.
HOME_VIEWS: list[Callable[..., Awaitable[Any]]] = []
# What a manager sees of a cohort their reports are in: async fn(ctx, cohort) -> Message | None.
MANAGER_VIEWS: list[Callable[..., Awaitable[Any]]] = []
DEMO_SETUP: list[tuple[int, Callable[..., Awaitable[Any]]]] = []
# Activity listeners: (kind prefix, async fn(ctx, activity)) run inside the logging transaction.
ACTIVITY_LISTENERS: list[tuple[str, Callable[..., Awaitable[Any]]]] = []
# The same for activities logged many at once: (kind prefix, async fn(ctx, activities)).
ACTIVITY_BATCH_LISTENERS: list[tuple[str, Callable[..., Awaitable[Any]]]] = []
# Programme file sections owned by capabilities: name -> fn(section_data) -> list[(path, error)].
PROGRAMME_SECTIONS: dict[str, Callable[[Any], list[tuple[str, str]]]] = {}
# Cohort KPIs contributed by capabilities: name -> async fn(session, cohort) -> dict[str, Any].
KPIS: dict[str, Callable[..., Awaitable[Any]]] = {}

# Data rights (see bot/core/privacy.py). Each capability exports and erases its own personal data:
# name -> (async export(session, person_id, settings) -> JSON-able dict,
#          async erase(session, person_id, now, settings) -> {what: how many}).
PERSONAL_DATA: dict[str, tuple[Callable[..., Awaitable[Any]], Callable[..., Awaitable[Any]]]] = {}
# Retention: name -> async fn(session, cutoff) -> how many rows it purged of raw statements, message
# bodies or free text older than `cutoff`.
RETENTION_PURGES: dict[str, Callable[..., Awaitable[int]]] = {}

_loaded = False


def add_plugin(module: str) -> None:
    """Have `load_capabilities` also import `module` (an adapter's plug-ins)."""
    global _loaded
    if module not in PLUGINS:
        PLUGINS.append(module)
        _loaded = False


def load_capabilities() -> None:
    """Import every capability and every added plug-in once, so their registrations are made."""
    global _loaded
    if _loaded:
        return
    for name in (CAPABILITIES_PACKAGE, *PLUGINS):
        importlib.import_module(name)
    _loaded = True


def verb(
    name: str,
    *args: Arg,
    summary: str,
    options: dict[str, Arg] | None = None,
    example: str = "",
    staff_only: bool = False,
    for_managers: bool = False,
) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """Register a command: `handler(ctx, **parsed_values)` returns a Reply, Message or str.
    `staff_only`: trainers and admins only; `for_managers`: also managers (help hides it from learners)."""

    def register(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        if name in VERBS:
            raise ValueError(f"verb {name!r} registered twice")
        VERBS[name] = Verb(
            name, args, summary, handler, options or {}, example, staff_only, aliases_of(name), for_managers
        )
        return handler

    return register


def action(action_id: str) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """Register a button/answer handler: `handler(ctx, value, inputs)` returns a Reply or None."""

    def register(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        ACTIONS[action_id] = handler
        return handler

    return register


def planner(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Register `async fn(session, cohort, now) -> list[PlannedEvent]` for the scheduler."""
    PLANNERS.append(fn)
    return fn


def on_event(kind: str) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """Register the handler `async fn(ctx: EventContext, event: PlannedEvent)` of one event kind."""

    def register(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        EVENT_HANDLERS[kind] = handler
        return handler

    return register


def demo_section(order: int) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """Register `async fn(demo) -> None` printing a part of the demo's final report."""

    def register(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        DEMO_SECTIONS.append((order, fn))
        return fn

    return register


def learner_status(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Add blocks to a learner's `status`: `async fn(ctx, cohort, person_id) -> list[Block]`."""
    LEARNER_STATUS.append(fn)
    return fn


def staff_status(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Add blocks to the cohort `status` trainers see: `async fn(ctx, cohort) -> list[Block]`."""
    STAFF_STATUS.append(fn)
    return fn


def home_view(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Provide a person's home screen: `async fn(ctx) -> Message` (the last one registered wins)."""
    HOME_VIEWS.append(fn)
    return fn


def manager_view(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Provide a manager's view of a cohort (`status`, the home screen): `async fn(ctx, cohort) ->
    Message | None` (None: nobody reports to the caller there). The last one registered wins."""
    MANAGER_VIEWS.append(fn)
    return fn


def demo_setup(order: int) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """Register `async fn(demo) -> None` run after the demo cohort is set up, before the clock runs."""

    def register(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        DEMO_SETUP.append((order, fn))
        return fn

    return register


def on_activity(kind_prefix: str) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """Register `async fn(ctx, activity)` called whenever an activity whose kind starts with
    `kind_prefix` is logged, in the same transaction (e.g. to award points)."""

    def register(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        ACTIVITY_LISTENERS.append((kind_prefix, fn))
        return fn

    return register


def on_activities(
    kind_prefix: str,
) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """Register `async fn(ctx, activities)` called with every batch of activities of a kind (one
    activity from `ctx.log`, many from `ctx.log_many`): one query for a thousand linked people."""

    def register(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        ACTIVITY_BATCH_LISTENERS.append((kind_prefix, fn))
        return fn

    return register


def programme_section(
    name: str,
) -> Callable[[Callable[[Any], list[tuple[str, str]]]], Callable[[Any], list[tuple[str, str]]]]:
    """Register the validator of a programme file's top-level section `name`:
    `fn(data) -> [(path inside the section, error message)]`, empty when valid."""

    def register(fn: Callable[[Any], list[tuple[str, str]]]) -> Callable[[Any], list[tuple[str, str]]]:
        PROGRAMME_SECTIONS[name] = fn
        return fn

    return register


def kpi(name: str) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """Register `async fn(session, cohort) -> dict[str, Any]` adding figures to cohort reports."""

    def register(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        KPIS[name] = fn
        return fn

    return register


def personal_data(
    name: str, *, erase: Callable[..., Awaitable[Any]], export: Callable[..., Awaitable[Any]] | None = None
) -> None:
    """Register how capability `name` erases a person's data (keeping aggregates) and exports what
    the export does not already find (it holds every row of every table that points at them)."""
    PERSONAL_DATA[name] = (export or _nothing_more, erase)


async def _nothing_more(session: Any, person_id: int, settings: Any) -> dict[str, Any]:
    return {}


def retention_purge(name: str) -> Callable[[Callable[..., Awaitable[int]]], Callable[..., Awaitable[int]]]:
    """Register `async fn(session, cutoff) -> int` purging what `RETENTION_DAYS` limits."""

    def register(fn: Callable[..., Awaitable[int]]) -> Callable[..., Awaitable[int]]:
        RETENTION_PURGES[name] = fn
        return fn

    return register
