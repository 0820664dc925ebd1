"""Delivers the outbox: claim due rows, send them through the platform's sender, record the outcome.

Guarantees: nothing is dropped (a row is only `sent` after the platform accepted it, and a row
left `sending` by a crash is sent again: at restart, within seconds when another instance sees
its holder's heartbeat stop, or once its lease expires); order per recipient is kept (a row waits
while an earlier one to the same address is unsent); claims take urgent rows first (`priority`).
A duplicate is possible only when the process dies between the platform's accept and the commit
that records it: at most `commit_every` sends. A row taken over from `sending` is handed to the
sender as `in_doubt`, so a platform that can find its own messages (Slack, by metadata) skips it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy import bindparam
from sqlmodel import select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.clock import Clock
from bot.core.messages import Message
from bot.core.metrics import Metrics
from bot.core.models import DeliveryInstance, Identity, OutboxMessage
from bot.core.store import Store, insert_for

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=120)  # how long a claimed row may stay `sending` before another worker resends it
# A whole send (pacing, every call and its retries) ends well before its lease does: otherwise
# another instance could claim the row and send it again while this one is still in flight.
SEND_DEADLINE = LEASE / 2
HEARTBEAT = timedelta(seconds=2)  # how often a running worker says it is alive
DEAD_AFTER = timedelta(seconds=6)  # silent this long: its `sending` rows are taken over
FORGET_AFTER = timedelta(days=1)  # heartbeat rows of instances gone this long are deleted
MAX_ATTEMPTS = 10
LANES = 2  # claim-send-commit loops per worker, side by side (they share the window)
OUTBOX = OutboxMessage.__table__  # type: ignore[attr-defined]
INSTANCES = DeliveryInstance.__table__  # type: ignore[attr-defined]


class RetryLater(Exception):
    """The platform asked us to slow down or failed temporarily (429, 5xx, connection error)."""

    def __init__(self, reason: str, retry_after: float | None = None, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.status = status  # the platform's HTTP status, when it answered (429 counts as rate limited)


class PermanentFailure(Exception):
    """Sending can never succeed (user gone, bot blocked or uninstalled): record it, do not retry."""

    def __init__(self, reason: str, *, blocked: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.blocked = blocked


@dataclass(frozen=True)
class Target:
    """Where one outbox row goes, with what the platform needs to reach it."""

    platform: str
    workspace: str
    address: str
    key: str
    person_id: int | None = None
    dm_channel: str | None = None
    conversation_ref: Mapping[str, Any] = field(default_factory=dict)
    # A crash may have let an earlier attempt reach the platform: look before sending again.
    in_doubt: bool = False
    queued_at: datetime | None = None
    # An answer in place (kind `reply`, see replies.py): the platform's answer address and how the
    # answer shows. A Sender posts it to the person instead when that address no longer takes it.
    reply_to: str | None = None
    visibility: str = "private"


@dataclass(frozen=True)
class SendResult:
    message_id: str | None = None
    channel_id: str | None = None  # Slack: the DM channel the post landed in


class Sender(Protocol):
    """What a platform adapter provides to deliver messages."""

    async def send(self, target: Target, message: Message) -> SendResult: ...

    async def update(
        self, target: Target, message_id: str, channel_id: str | None, message: Message
    ) -> SendResult: ...


def backoff(attempts: int) -> float:
    """Exponential backoff with jitter, in seconds: ~1, 2, 4 ... capped at 10 minutes."""
    base = min(600.0, 2.0 ** max(0, attempts - 1))
    return base * (0.75 + random.random() * 0.5)


IDENTITY = Identity.__table__  # type: ignore[attr-defined]


def claim_query(batch: int) -> Any:
    """Due rows, most urgent then oldest first, skipping any row with an older unsent one to the
    same address (order per recipient), with what the platform needs to reach the address. A row
    is due when its time has come, or when the instance holding it stopped its heartbeat. Plain
    columns, built once with bound parameters: SQLAlchemy compiles it once, no ORM objects."""
    earlier = OUTBOX.alias("earlier")
    waiting_before = (
        sa.select(earlier.c.id)
        .where(
            earlier.c.address == OUTBOX.c.address,
            earlier.c.platform == OUTBOX.c.platform,
            earlier.c.id < OUTBOX.c.id,
            earlier.c.status.in_(["pending", "sending"]),
        )
        .exists()
    )
    reached_by = sa.and_(
        IDENTITY.c.platform == OUTBOX.c.platform,
        IDENTITY.c.workspace == OUTBOX.c.workspace,
        IDENTITY.c.user_id == OUTBOX.c.address,
    )
    dead = sa.select(INSTANCES.c.id).where(
        INSTANCES.c.seen_at < bindparam("dead_before", type_=INSTANCES.c.seen_at.type)
    )
    due = sa.or_(
        OUTBOX.c.next_attempt_at <= bindparam("now", type_=OUTBOX.c.next_attempt_at.type),
        sa.and_(OUTBOX.c.status == "sending", OUTBOX.c.claimed_by.in_(dead)),
    )
    return (
        sa.select(OUTBOX, IDENTITY.c.dm_channel, IDENTITY.c.conversation_ref)
        .select_from(OUTBOX.outerjoin(IDENTITY, reached_by))
        .where(
            OUTBOX.c.status.in_(["pending", "sending"]),
            due,
            OUTBOX.c.platform.in_(bindparam("platforms", expanding=True)),
            ~waiting_before,
        )
        .order_by(OUTBOX.c.priority, OUTBOX.c.id)
        .limit(batch)
    )


@dataclass
class Outcome:
    """What happened to one send, waiting to be committed with the others of its small batch."""

    row: Any  # a claimed outbox row (columns of OutboxMessage)
    result: SendResult | None = None
    retry: RetryLater | None = None
    failure: PermanentFailure | None = None
    released: bool = False  # never sent: the process is stopping, the row goes back to pending


class DeliveryWorker:
    """Claims due rows in batches, sends them concurrently, and group-commits their outcomes.

    `commit_every` bounds the duplicate window: a send starts only while fewer than that many
    sends are uncommitted, so a crash leaves at most `commit_every` accepted-but-unrecorded
    messages, and only those can be sent twice. Claims are small (`batch`): a paced platform
    takes ~10 messages/s, so a large claim would only hold urgent rows back and leave more rows
    `sending` (in doubt) after a crash.
    """

    def __init__(
        self,
        store: Store,
        senders: Mapping[str, Sender],
        clock: Clock,
        *,
        batch: int = 64,
        concurrency: int = 16,
        commit_every: int = 16,
        instance_id: str | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.senders = senders
        self.clock = clock
        self.batch = batch
        self.concurrency = concurrency
        self.commit_every = commit_every
        self.instance_id = instance_id or uuid.uuid4().hex[:16]
        self._claim_query = claim_query(batch)
        self._stopping = False
        self._beaten_at: datetime | None = None

    async def run_once(self, lanes: int = 1) -> int:
        """Claim and send one batch of due rows; returns how many rows were handled. With several
        `lanes` running side by side, each takes its share of the concurrency and of the window."""
        claimed = await self._claim()
        if not claimed:
            return 0
        commit_every = max(1, self.commit_every // lanes)
        slots = asyncio.Semaphore(max(1, self.concurrency // lanes))
        window = asyncio.Condition()
        done: list[Outcome] = []  # sent (or failed) and not committed yet
        uncommitted = 0  # sends started whose outcome is not committed: the duplicate window
        sending = len(claimed)

        async def deliver(row: Any) -> None:
            nonlocal uncommitted, sending
            async with slots:
                async with window:
                    await window.wait_for(lambda: uncommitted < commit_every)
                    uncommitted += 1
                # Stopping: sends already started finish, the others are handed back unsent.
                outcome = Outcome(row, released=True) if self._stopping else await self.attempt(row)
            async with window:
                done.append(outcome)
                sending -= 1
                window.notify_all()

        def worth_committing() -> bool:
            # Half a window, or everything started has finished: big enough commits, while the
            # other half of the window keeps the sends going.
            if sending == 0:
                return True
            return bool(done) and (len(done) * 2 >= commit_every or len(done) == uncommitted)

        async def commit_outcomes() -> None:
            # One committer: each commit takes every outcome that arrived meanwhile (group commit).
            nonlocal uncommitted
            while True:
                async with window:
                    await window.wait_for(worth_committing)
                    if not done:
                        return
                    batch = done[:]
                    del done[:]
                await self.record(batch)
                async with window:
                    uncommitted -= len(batch)
                    window.notify_all()

        committer = asyncio.create_task(commit_outcomes())
        try:
            await asyncio.gather(*(deliver(row) for row in claimed))
            await committer
        finally:
            committer.cancel()
        return len(claimed)

    async def drain(self, max_rounds: int = 1000) -> int:
        """Deliver until nothing is due now (rows waiting for a retry later stay queued)."""
        total = 0
        for _ in range(max_rounds):
            n = await self.run_once()
            if n == 0:
                break
            total += n
        return total

    async def run_forever(self, idle: float = 0.5) -> None:
        """Deliver until `stop()`: two lanes, so that one claims and commits while the other sends
        (a paced platform's slots are lost while nothing is ready to send). A round already started
        finishes (its sends and their commit); rows not claimed yet stay pending for the next start."""
        heart = asyncio.create_task(self.keep_beating())
        lanes = [asyncio.create_task(self._lane(idle, LANES)) for _ in range(LANES)]
        try:
            await asyncio.gather(*lanes)
        finally:
            for lane in lanes:
                lane.cancel()
            await asyncio.gather(*lanes, return_exceptions=True)
            heart.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heart

    async def _lane(self, idle: float, lanes: int) -> None:
        while not self._stopping:
            try:
                n = await self.run_once(lanes)
            except Exception:  # keep delivering whatever a bad row or a DB hiccup did
                log.exception("delivery round failed")
                n = 0
            if n == 0 and not self._stopping:
                await asyncio.sleep(idle)

    def stop(self) -> None:
        """Claim nothing more; `run_forever` returns once the round in flight is recorded."""
        self._stopping = True

    async def keep_beating(self) -> None:
        """Say this worker is alive every HEARTBEAT, whatever its sends are doing (a long paced
        round must not look like a dead instance)."""
        while True:
            try:
                await self.beat()
            except Exception:  # a missed beat is retried; others wait DEAD_AFTER before taking over
                log.exception("delivery heartbeat failed")
            await asyncio.sleep(HEARTBEAT.total_seconds())

    async def beat(self) -> None:
        now = self.clock.now()
        async with self.store.transaction() as session:
            insert = insert_for(session.get_bind().dialect.name)
            stmt = insert(INSTANCES).values(id=self.instance_id, seen_at=now)
            await session.exec(
                stmt.on_conflict_do_update(index_elements=["id"], set_={"seen_at": now})  # type: ignore[call-overload]
            )
            if self._beaten_at is None:  # once per start: forget instances long gone
                await session.exec(INSTANCES.delete().where(INSTANCES.c.seen_at < now - FORGET_AFTER))  # type: ignore[call-overload]
        self._beaten_at = now

    async def recover(self) -> int:
        """At start of the only worker (SQLite): rows a crash left `sending` are due again now,
        without waiting for their lease. They stay `sending`: in doubt, looked up before a resend.
        Returns how many."""
        async with self.store.transaction() as session:
            result = await session.exec(
                update(OutboxMessage)  # type: ignore[call-overload]
                .where(OutboxMessage.status == "sending")
                .values(next_attempt_at=self.clock.now())
            )
        return int(result.rowcount or 0)

    async def _claim(self) -> list[Any]:
        """Take due rows, at most one per recipient (the oldest), and lease them as `sending`.
        On PostgreSQL, FOR UPDATE SKIP LOCKED lets several workers claim side by side."""
        now = self.clock.now()
        if self._beaten_at is None or now - self._beaten_at >= HEARTBEAT:
            await self.beat()  # alive before holding anything
        query = self._claim_query
        if not self.store.is_sqlite:
            query = query.with_for_update(skip_locked=True, of=OUTBOX)
        parameters = {"now": now, "dead_before": now - DEAD_AFTER, "platforms": list(self.senders)}
        async with self.store.transaction() as session:
            conn = await session.connection()
            rows = list((await conn.execute(query, parameters)).all())
            if not rows:
                return []
            await conn.execute(
                OUTBOX.update()
                .where(OUTBOX.c.id.in_([r.id for r in rows]))
                .values(status="sending", next_attempt_at=now + LEASE, claimed_by=self.instance_id)
            )
        return rows

    async def attempt(
        self, row: Any, *, in_doubt: bool | None = None, message: Message | None = None
    ) -> Outcome:
        """Send one row (claimed, or held since it was written: `in_doubt=False`, its `message` in
        hand rather than parsed back from the payload); never raises."""
        sender = self.senders[row.platform]
        payload = row.payload or {}
        target = Target(
            platform=row.platform,
            workspace=row.workspace,
            address=row.address,
            key=row.key,
            person_id=row.person_id,
            dm_channel=row.dm_channel,
            conversation_ref=row.conversation_ref or {},
            in_doubt=row.status == "sending" if in_doubt is None else in_doubt,  # as the claim read it
            queued_at=row.created_at,
            reply_to=payload.get("reply_to") if row.kind == "reply" else None,
            visibility=str(payload.get("visibility") or "private"),
        )
        try:
            message = message or Message.from_dict(row.payload)
            async with asyncio.timeout(SEND_DEADLINE.total_seconds()):
                if row.kind == "update":
                    result = await self._send_update(sender, target, row, message)
                else:
                    result = await sender.send(target, message)
        except TimeoutError:
            return Outcome(row, retry=RetryLater(f"no answer within {SEND_DEADLINE.total_seconds():.0f} s"))
        except RetryLater as e:
            return Outcome(row, retry=e)
        except PermanentFailure as e:
            return Outcome(row, failure=e)
        except Exception as e:  # an unknown error is retried, then given up on after MAX_ATTEMPTS
            log.exception("sending %s failed", row.key)
            return Outcome(row, retry=RetryLater(f"{type(e).__name__}: {e}"))
        return Outcome(row, result=result)

    async def _send_update(self, sender: Sender, target: Target, row: Any, message: Message) -> SendResult:
        async with self.store.transaction() as session:
            original = (
                await session.exec(select(OutboxMessage).where(OutboxMessage.key == row.updates_key))
            ).first()
        if original is None or original.status == "failed":
            raise PermanentFailure("the message to update was never delivered")
        if original.status != "sent" or original.platform_message_id is None:
            raise RetryLater("the message to update is not delivered yet", retry_after=1.0)
        return await sender.update(
            target, original.platform_message_id, original.platform_channel_id, message
        )

    def _count(self, outcomes: list[Outcome]) -> None:
        assert self.metrics is not None
        for o in outcomes:
            platform = o.row.platform
            if o.result is not None:
                self.metrics.sends.labels(platform).inc()
            elif o.retry is not None and o.row.attempts + 1 < MAX_ATTEMPTS:
                self.metrics.retries.labels(platform).inc()
            else:
                self.metrics.failures.labels(platform).inc()
            if o.retry is not None and o.retry.status == 429:
                self.metrics.rate_limited.labels(platform).inc()

    async def record(self, outcomes: list[Outcome]) -> None:
        """Commit a small batch of outcomes in one transaction (one executemany per kind)."""
        self.count(outcomes)
        async with self.store.transaction() as session:
            await self.record_in(session, outcomes)

    def count(self, outcomes: list[Outcome]) -> None:
        """The sends, retries and failures of these outcomes, in the metrics (once per outcome)."""
        if self.metrics is not None:
            self._count([o for o in outcomes if not o.released])

    async def record_in(self, session: AsyncSession, outcomes: list[Outcome]) -> None:
        """Write these outcomes in the caller's transaction (which may run it twice: idempotent)."""
        released = [{"b_id": o.row.id} for o in outcomes if o.released]
        outcomes = [o for o in outcomes if not o.released]
        now = self.clock.now()
        sent, retry, failed, blocked = [], [], [], []
        for o in outcomes:
            attempts = o.row.attempts + 1
            if o.result is not None:
                sent.append(
                    {
                        "b_id": o.row.id,
                        "b_attempts": attempts,
                        "b_message": o.result.message_id,
                        "b_channel": o.result.channel_id,
                    }
                )
            elif o.retry is not None and attempts < MAX_ATTEMPTS:
                delay = max(o.retry.retry_after or 0.0, backoff(attempts))
                retry.append(
                    {
                        "b_id": o.row.id,
                        "b_attempts": attempts,
                        "b_when": now + timedelta(seconds=delay),
                        "b_error": o.retry.reason,
                    }
                )
            else:
                reason = (
                    o.failure.reason
                    if o.failure is not None
                    else f"gave up after {attempts} attempts: {o.retry.reason if o.retry else '?'}"
                )
                failed.append({"b_id": o.row.id, "b_attempts": attempts, "b_error": reason})
                if o.failure is not None and o.failure.blocked:
                    blocked.append(o.row)
        conn = await session.connection()
        by_id = OUTBOX.c.id == bindparam("b_id")
        if released:  # due again at once, for the next start (or another instance)
            await conn.execute(
                OUTBOX.update().where(by_id).values(status="pending", next_attempt_at=now), released
            )
        if sent:
            await conn.execute(
                OUTBOX.update()
                .where(by_id)
                .values(
                    status="sent",
                    sent_at=now,
                    attempts=bindparam("b_attempts"),
                    platform_message_id=bindparam("b_message"),
                    platform_channel_id=bindparam("b_channel"),
                    last_error=None,
                ),
                sent,
            )
        if retry:
            await conn.execute(
                OUTBOX.update()
                .where(by_id)
                .values(
                    status="pending",
                    attempts=bindparam("b_attempts"),
                    next_attempt_at=bindparam("b_when"),
                    last_error=bindparam("b_error"),
                ),
                retry,
            )
        if failed:
            await conn.execute(
                OUTBOX.update()
                .where(by_id)
                .values(status="failed", attempts=bindparam("b_attempts"), last_error=bindparam("b_error")),
                failed,
            )
        dm_channels = [
            {
                "b_platform": o.row.platform,
                "b_workspace": o.row.workspace,
                "b_user": o.row.address,
                "b_channel": o.result.channel_id,
            }
            for o in outcomes
            if o.result
            and o.result.channel_id
            and o.row.person_id is not None
            and o.row.kind in ("message", "reply")  # a reply posted to the person instead
        ]
        if dm_channels:  # Slack: remember the DM channel the first post opened, for later updates
            identity = Identity.__table__  # type: ignore[attr-defined]
            await conn.execute(
                identity.update()
                .where(
                    identity.c.platform == bindparam("b_platform"),
                    identity.c.workspace == bindparam("b_workspace"),
                    identity.c.user_id == bindparam("b_user"),
                    identity.c.dm_channel.is_(None),
                )
                .values(dm_channel=bindparam("b_channel")),
                dm_channels,
            )
        for row in blocked:
            await session.exec(
                update(Identity)  # type: ignore[call-overload]
                .where(
                    Identity.platform == row.platform,
                    Identity.workspace == row.workspace,
                    Identity.user_id == row.address,
                )
                .values(blocked_at=now)
            )
