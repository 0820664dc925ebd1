"""Wiring in one place: build the store, engine, scheduler and delivery from settings and a clock."""

from __future__ import annotations

from collections.abc import Mapping

from bot.app.plugins import load_all
from bot.core.clock import Clock, SystemClock
from bot.core.delivery import DeliveryWorker, Sender
from bot.core.engine import Engine
from bot.core.metrics import Metrics
from bot.core.replies import ReplyCourier
from bot.core.runtime import App
from bot.core.scheduling import EventRunner
from bot.core.send_budget import budget_for
from bot.core.settings import Settings
from bot.core.store import Store


async def build(
    settings: Settings,
    senders: Mapping[str, Sender],
    clock: Clock | None = None,
    *,
    schema: str = "migrate",
) -> App:
    load_all()
    clock = clock or SystemClock()
    store = await Store.open(settings.database_url, schema=schema)
    metrics = Metrics()
    worker = DeliveryWorker(store, senders, clock, metrics=metrics)
    engine = Engine(store, clock, settings, reply_holder=worker.instance_id)
    return App(
        settings=settings,
        clock=clock,
        store=store,
        engine=engine,
        runner=EventRunner(store, clock, settings),
        worker=worker,
        replies=ReplyCourier(worker, engine.group_commit),
        metrics=metrics,
        budget=budget_for(store),
    )


__all__ = ["App", "build"]
