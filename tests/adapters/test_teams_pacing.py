"""Proactive sends are paced to Teams' limits: 7 per second per conversation (and its longer
windows), 30 per second per tenant; a 429 holds the conversation for its Retry-After."""

from __future__ import annotations

import asyncio

from adapters.teams.pacing import Pacer


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def in_first_second(times: list[float]) -> int:
    return sum(1 for t in times if t < times[0] + 1.0)


async def test_one_conversation_gets_7_per_second_then_8_per_2_seconds() -> None:
    fake = FakeTime()
    pacer = Pacer(clock=fake.clock, sleep=fake.sleep)
    times = []
    for _ in range(20):
        await pacer.acquire("tenant", "conversation")
        times.append(fake.now)
    assert in_first_second(times) == 7
    assert sum(1 for t in times if t < times[0] + 2.0) == 8
    for i in range(len(times)):
        window = [t for t in times if times[i] <= t < times[i] + 2.0]
        assert len(window) <= 8


async def test_a_tenant_gets_30_per_second_across_conversations() -> None:
    fake = FakeTime()
    pacer = Pacer(clock=fake.clock, sleep=fake.sleep)
    times = []
    for i in range(100):
        await pacer.acquire("tenant", f"dm-{i}")
        times.append(fake.now)
    assert in_first_second(times) == 30
    assert times[-1] - times[0] < 3.5  # 100 messages at 30/s: paced, not slower
    other = fake.now
    await pacer.acquire("other-tenant", "dm-x")
    assert fake.now == other  # another tenant is not held back


async def test_retry_after_pauses_the_conversation() -> None:
    fake = FakeTime()
    pacer = Pacer(clock=fake.clock, sleep=fake.sleep)
    await pacer.acquire("t", "c")
    pacer.pause("t", "c", 5.0)
    start = fake.now
    await pacer.acquire("t", "c")
    assert fake.now - start >= 5.0
