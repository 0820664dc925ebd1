"""The running parts one process shares: settings, clock, store, engine, scheduler events and delivery.

Built by the composition root (bot/app/bootstrap.py); adapters and capabilities receive it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.clock import Clock
from bot.core.delivery import DeliveryWorker
from bot.core.directory import Directory
from bot.core.engine import Engine
from bot.core.health import Health
from bot.core.metrics import Metrics
from bot.core.replies import ReplyCourier
from bot.core.scheduling import EventRunner
from bot.core.send_budget import SendBudget
from bot.core.settings import Settings
from bot.core.store import Store


@dataclass
class App:
    settings: Settings
    clock: Clock
    store: Store
    engine: Engine
    runner: EventRunner
    worker: DeliveryWorker
    replies: ReplyCourier  # sends the answers in place a click queued, right after its ack
    budget: SendBudget  # per workspace/tenant send pacing, shared through PostgreSQL
    # Each chat adapter's people directory (platform -> Directory), added when it is attached.
    directories: dict[str, Directory] = field(default_factory=dict)
    metrics: Metrics = field(default_factory=Metrics)
    health: Health = field(default_factory=Health)

    async def close(self) -> None:
        await self.store.close()
