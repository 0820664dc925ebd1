"""Wiring in one place: build the store, engine, scheduler and delivery from settings and a clock."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.clock import Clock, SystemClock
from bot.delivery import DeliveryWorker, Sender
from bot.engine import Engine
from bot.scheduling import EventRunner
from bot.settings import Settings
from bot.store import Store


@dataclass
class App:
    settings: Settings
    clock: Clock
    store: Store
    engine: Engine
    runner: EventRunner
    worker: DeliveryWorker

    async def close(self) -> None:
        await self.store.close()


async def build(
    settings: Settings,
    senders: Mapping[str, Sender],
    clock: Clock | None = None,
    *,
    schema: str = "migrate",
) -> App:
    clock = clock or SystemClock()
    store = await Store.open(settings.database_url, schema=schema)
    return App(
        settings=settings,
        clock=clock,
        store=store,
        engine=Engine(store, clock, settings),
        runner=EventRunner(store, clock, settings),
        worker=DeliveryWorker(store, senders, clock),
    )
