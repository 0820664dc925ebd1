"""Delivery survives crashes and platform trouble: a worker really interrupted between claim and
send, or between send and commit, then a new worker (new process, same database). Nothing is
lost; duplicates come only from the send-then-crash window, and are counted."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from sqlmodel import col, select

from bot.app.bootstrap import App
from bot.core.clock import SimulatedClock
from bot.core.delivery import LEASE, DeliveryWorker, PermanentFailure, RetryLater, SendResult, Target
from bot.core.messages import Message, Text
from bot.core.models import Identity, OutboxMessage
from bot.core.outbox import Recipient, enqueue_dms
from bot.core.people import identities_of
from bot.core.store import Store
from tests.schedules.scheduler_helpers import person_in

LEARNERS = [f"l{i:02d}" for i in range(20)]
PER_LEARNER = 3


async def queue_messages(app: App) -> list[str]:
    for name in LEARNERS:
        await person_in(app, name, "Europe/Paris")
    keys = []
    async with app.store.transaction() as session:
        ids = {i.user_id: pid for pid, i in (await identities_of(session, list(range(1, 100)))).items()}
        for n in range(PER_LEARNER):
            recipients = [
                Recipient(ids[name], f"msg:{name}:{n}", Message(f"{n}", (Text(f"{n}"),))) for name in LEARNERS
            ]
            await enqueue_dms(session, recipients, now=app.clock.now())
            keys += [r.key for r in recipients]
    return keys


class Platform:
    """Stands in for the chat platform: counts every message it accepted, per key, in order."""

    def __init__(self) -> None:
        self.accepted: list[str] = []

    def duplicates(self) -> int:
        return sum(n - 1 for n in Counter(self.accepted).values())

    def in_order_per_learner(self) -> bool:
        firsts = list(dict.fromkeys(self.accepted))
        for name in LEARNERS:
            mine = [k for k in firsts if k.startswith(f"msg:{name}:")]
            if mine != sorted(mine):
                return False
        return True


class Sender:
    def __init__(self, platform: Platform, before_send: object = None, after_send: object = None) -> None:
        self.platform = platform
        self.before_send = before_send
        self.after_send = after_send

    async def send(self, target: Target, message: Message) -> SendResult:
        if self.before_send:
            await self.before_send()  # type: ignore[operator]
        self.platform.accepted.append(target.key)
        if self.after_send:
            self.after_send()  # type: ignore[operator]
        return SendResult(message_id=f"ts-{len(self.platform.accepted)}", channel_id=f"D{target.address}")

    async def update(
        self, target: Target, message_id: str, channel_id: str | None, message: Message
    ) -> SendResult:
        return SendResult(message_id=message_id)


async def statuses(store: Store) -> Counter[str]:
    async with store.transaction() as session:
        return Counter((await session.exec(select(OutboxMessage.status))).all())


async def restart_and_drain(
    db_url: str, clock: SimulatedClock, platform: Platform, *, recover: bool
) -> Store:
    store = await Store.open(db_url, schema="none")  # a new process: new engine, same database
    worker = DeliveryWorker(store, {"console": Sender(platform)}, clock)
    if recover:
        await worker.recover()
    else:
        clock.advance(LEASE + timedelta(seconds=1))  # another instance takes over expired leases
    await worker.drain()
    return store


async def test_crash_between_claim_and_send_loses_nothing_and_doubles_nothing(
    app: App, db_url: str, clock: SimulatedClock
) -> None:
    keys = await queue_messages(app)
    platform = Platform()
    claimed, never = asyncio.Event(), asyncio.Event()

    async def hang() -> None:  # the claim is committed; the send never happens
        claimed.set()
        await never.wait()

    worker = DeliveryWorker(app.store, {"console": Sender(platform, before_send=hang)}, clock)
    task = asyncio.create_task(worker.run_once())
    await claimed.wait()
    task.cancel()  # the process dies with rows claimed and nothing sent
    await asyncio.gather(task, return_exceptions=True)
    assert (await statuses(app.store))["sending"] == len(LEARNERS)  # one claimed row per learner
    assert platform.accepted == []

    for recover in (False, True):  # by lease expiry (several instances), or recovery at start (SQLite)
        store = await restart_and_drain(db_url, clock, platform, recover=recover)
        await store.close()
    assert sorted(platform.accepted) == sorted(keys)
    assert platform.duplicates() == 0
    assert platform.in_order_per_learner()


async def test_crash_between_send_and_commit_only_duplicates_the_unrecorded_sends(
    app: App, db_url: str, clock: SimulatedClock
) -> None:
    keys = await queue_messages(app)
    platform = Platform()
    worker = DeliveryWorker(app.store, {"console": None}, clock, concurrency=4, commit_every=8)  # type: ignore[dict-item]
    task: asyncio.Task[int] | None = None

    async def process_is_gone(*_: object) -> None:
        raise asyncio.CancelledError

    def crash_after_13_sends() -> None:
        if len(platform.accepted) == 13:
            assert task is not None
            # Dies right after the platform accepted the 13th message: nothing after this instant
            # reaches the database (a cancelled task could still commit on its way out).
            worker.record = process_is_gone  # type: ignore[method-assign]
            task.cancel()

    worker.senders = {"console": Sender(platform, after_send=crash_after_13_sends)}
    task = asyncio.create_task(worker.run_once())
    await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled()
    accepted_before_crash = list(platform.accepted)
    async with app.store.transaction() as session:
        recorded = set(
            (await session.exec(select(OutboxMessage.key).where(OutboxMessage.status == "sent"))).all()
        )
    unrecorded = [k for k in accepted_before_crash if k not in recorded]
    assert 0 < len(unrecorded) <= worker.commit_every + worker.concurrency

    store = await restart_and_drain(db_url, clock, platform, recover=True)
    assert sorted(set(platform.accepted)) == sorted(keys)  # nothing lost
    assert platform.duplicates() == len(unrecorded)  # and the only duplicates are those
    assert platform.in_order_per_learner()
    assert await statuses(store) == Counter({"sent": len(keys)})
    await store.close()


async def test_rate_limits_wait_for_retry_after_without_holding_up_others(
    app: App, clock: SimulatedClock
) -> None:
    await queue_messages(app)
    platform = Platform()
    limited: set[str] = set()

    async def rate_limit_l00_once() -> None:
        pass

    class Limited(Sender):
        async def send(self, target: Target, message: Message) -> SendResult:
            if target.address == "l00" and target.key not in limited:
                limited.add(target.key)
                raise RetryLater("429 ratelimited", retry_after=30)
            return await super().send(target, message)

    worker = DeliveryWorker(app.store, {"console": Limited(platform)}, clock)
    await worker.drain()
    assert not any(k.startswith("msg:l00:") for k in platform.accepted)
    assert len(platform.accepted) == (len(LEARNERS) - 1) * PER_LEARNER
    clock.advance(timedelta(seconds=29))
    await worker.drain()
    assert not any(k.startswith("msg:l00:") for k in platform.accepted)  # Retry-After is honoured
    for _ in range(PER_LEARNER):
        clock.advance(timedelta(seconds=31))
        await worker.drain()
    assert [k for k in platform.accepted if k.startswith("msg:l00:")] == [
        f"msg:l00:{n}" for n in range(PER_LEARNER)
    ]
    async with app.store.transaction() as session:
        row = (await session.exec(select(OutboxMessage).where(OutboxMessage.key == "msg:l00:0"))).one()
    assert row.status == "sent" and row.attempts == 2 and row.platform_message_id


async def test_a_blocked_bot_stops_with_a_recorded_reason(app: App, clock: SimulatedClock) -> None:
    await queue_messages(app)
    platform = Platform()

    class Blocked(Sender):
        async def send(self, target: Target, message: Message) -> SendResult:
            if target.address == "l01":
                raise PermanentFailure("403 MessageWritesBlocked", blocked=True)
            return await super().send(target, message)

    await DeliveryWorker(app.store, {"console": Blocked(platform)}, clock).drain()
    async with app.store.transaction() as session:
        rows = (
            await session.exec(select(OutboxMessage).where(col(OutboxMessage.key).startswith("msg:l01:")))
        ).all()
        identity = (await session.exec(select(Identity).where(Identity.user_id == "l01"))).one()
    assert {(r.status, r.last_error, r.attempts) for r in rows} == {("failed", "403 MessageWritesBlocked", 1)}
    assert identity.blocked_at is not None
    async with app.store.transaction() as session:
        reached = (await session.exec(select(Identity).where(Identity.user_id == "l02"))).one()
    assert reached.dm_channel == "Dl02"  # the DM channel the first post opened, kept for updates
    assert len(platform.accepted) == (len(LEARNERS) - 1) * PER_LEARNER
