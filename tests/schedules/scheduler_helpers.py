"""Helpers for the scheduler tests: people with time zones, and running a cohort's calendar."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.app.bootstrap import App
from bot.core.clock import SimulatedClock
from bot.core.inbound import Profile
from bot.core.people import upsert_profile
from tests.conftest import RecordingSender


async def person_in(app: App, name: str, tz: str | None) -> None:
    """What the platform's profile tells us about someone (their time zone) before enrolment."""
    async with app.store.transaction() as session:
        await upsert_profile(session, Profile("console", "", name, name, tz=tz), app.clock.now())


async def run_until(app: App, clock: SimulatedClock, end: datetime) -> list[tuple[str, str]]:
    """Jump the clock from one due event to the next, firing and delivering; returns outcomes."""
    outcomes: list[tuple[str, str]] = []
    while True:
        outcomes += [(e.key, outcome) for e, outcome in await app.runner.tick()]
        await app.worker.drain()
        upcoming = await app.runner.next_due()
        if upcoming is None or upcoming > end:
            break
        clock.set(max(upcoming, clock.now()))
    clock.set(end)
    return outcomes


def received(sender: RecordingSender, address: str, tz: str) -> list[tuple[str, str]]:
    """(local time as the learner saw it, rule) of each reminder delivered to `address`."""
    return [
        (t.key and _local(sent_at, tz), t.key.split(":")[1] + ":" + t.key.split(":")[3])
        for (t, _), sent_at in zip(sender.sent, sender.times, strict=True)
        if t.address == address and t.key.startswith("reminder:")
    ]


def _local(when: datetime, tz: str) -> str:
    return when.astimezone(ZoneInfo(tz)).strftime("%a %d %b %H:%M")


class TimedSender(RecordingSender):
    """A RecordingSender that also notes the (simulated) time of each send."""

    def __init__(self, clock: SimulatedClock) -> None:
        super().__init__()
        self.clock = clock
        self.times: list[datetime] = []

    async def send(self, target, message):  # type: ignore[no-untyped-def]
        self.times.append(self.clock.now())
        return await super().send(target, message)
