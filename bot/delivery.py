"""Delivers the outbox: claim due rows, send them through the platform's sender, record the outcome.

Guarantees: nothing is dropped (a row is only `sent` after the platform accepted it, and a row
left `sending` by a crash is sent again once its lease expires); order per recipient is kept
(a row waits while an earlier one to the same address is unsent). A duplicate is possible only
when the process dies between the platform's accept and the commit that records it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy.orm import aliased
from sqlmodel import col, select, update

from bot.clock import Clock
from bot.messages import Message
from bot.models import Identity, OutboxMessage
from bot.store import Store

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=120)  # how long a claimed row may stay `sending` before another worker resends it
MAX_ATTEMPTS = 10


class RetryLater(Exception):
    """The platform asked us to slow down or failed temporarily (429, 5xx, connection error)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


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


class DeliveryWorker:
    def __init__(
        self,
        store: Store,
        senders: Mapping[str, Sender],
        clock: Clock,
        *,
        batch: int = 200,
        concurrency: int = 16,
    ) -> None:
        self.store = store
        self.senders = senders
        self.clock = clock
        self.batch = batch
        self.concurrency = concurrency

    async def run_once(self) -> int:
        """Claim and send one batch of due rows; returns how many rows were handled."""
        claimed = await self._claim()
        if not claimed:
            return 0
        semaphore = asyncio.Semaphore(self.concurrency)

        async def deliver(row: OutboxMessage) -> None:
            async with semaphore:
                await self._deliver(row)

        await asyncio.gather(*(deliver(row) for row in claimed))
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
        while True:
            try:
                n = await self.run_once()
            except Exception:  # keep delivering whatever a bad row or a DB hiccup did
                log.exception("delivery round failed")
                n = 0
            if n == 0:
                await asyncio.sleep(idle)

    async def _claim(self) -> list[OutboxMessage]:
        now = self.clock.now()
        platforms = list(self.senders)
        earlier = aliased(OutboxMessage)
        waiting_before = (
            select(earlier.id)
            .where(
                earlier.address == OutboxMessage.address,
                earlier.platform == OutboxMessage.platform,
                col(earlier.id) < OutboxMessage.id,
                col(earlier.status).in_(["pending", "sending"]),
            )
            .exists()
        )
        query = (
            select(OutboxMessage)
            .where(
                col(OutboxMessage.status).in_(["pending", "sending"]),
                OutboxMessage.next_attempt_at <= now,
                col(OutboxMessage.platform).in_(platforms),
                ~waiting_before,
            )
            .order_by(col(OutboxMessage.id))
            .limit(self.batch)
        )
        async with self.store.transaction() as session:
            if not self.store.is_sqlite:
                query = query.with_for_update(skip_locked=True, of=OutboxMessage)  # type: ignore[arg-type]
            rows = list((await session.exec(query)).all())
            if not rows:
                return []
            await session.exec(
                update(OutboxMessage)  # type: ignore[call-overload]
                .where(col(OutboxMessage.id).in_([r.id for r in rows]))
                .values(status="sending", next_attempt_at=now + LEASE)
            )
        return rows

    async def _target(self, row: OutboxMessage) -> Target:
        async with self.store.transaction() as session:
            identity = (
                await session.exec(
                    select(Identity).where(
                        Identity.platform == row.platform,
                        Identity.workspace == row.workspace,
                        Identity.user_id == row.address,
                    )
                )
            ).first()
        return Target(
            platform=row.platform,
            workspace=row.workspace,
            address=row.address,
            key=row.key,
            person_id=row.person_id,
            dm_channel=identity.dm_channel if identity else None,
            conversation_ref=identity.conversation_ref if identity else {},
        )

    async def _deliver(self, row: OutboxMessage) -> None:
        sender = self.senders[row.platform]
        message = Message.from_dict(row.payload)
        try:
            target = await self._target(row)
            if row.kind == "update":
                result = await self._send_update(sender, target, row, message)
            else:
                result = await sender.send(target, message)
        except RetryLater as e:
            await self._reschedule(row, e.reason, e.retry_after)
        except PermanentFailure as e:
            await self._fail(row, e.reason, blocked=e.blocked)
        except Exception as e:  # an unknown error is retried, then given up on after MAX_ATTEMPTS
            log.exception("sending %s failed", row.key)
            await self._reschedule(row, f"{type(e).__name__}: {e}", None)
        else:
            await self._sent(row, result)

    async def _send_update(
        self, sender: Sender, target: Target, row: OutboxMessage, message: Message
    ) -> SendResult:
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

    async def _sent(self, row: OutboxMessage, result: SendResult) -> None:
        now = self.clock.now()
        async with self.store.transaction() as session:
            await session.exec(
                update(OutboxMessage)  # type: ignore[call-overload]
                .where(col(OutboxMessage.id) == row.id)
                .values(
                    status="sent",
                    sent_at=now,
                    attempts=row.attempts + 1,
                    platform_message_id=result.message_id,
                    platform_channel_id=result.channel_id,
                    last_error=None,
                )
            )
            if result.channel_id and row.person_id is not None and row.kind == "message":
                await session.exec(
                    update(Identity)  # type: ignore[call-overload]
                    .where(
                        Identity.platform == row.platform,
                        Identity.workspace == row.workspace,
                        Identity.user_id == row.address,
                        col(Identity.dm_channel).is_(None),
                    )
                    .values(dm_channel=result.channel_id)
                )

    async def _reschedule(self, row: OutboxMessage, reason: str, retry_after: float | None) -> None:
        attempts = row.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            await self._fail(row, f"gave up after {attempts} attempts: {reason}", blocked=False)
            return
        delay = max(retry_after or 0.0, backoff(attempts))
        when = self.clock.now() + timedelta(seconds=delay)
        async with self.store.transaction() as session:
            await session.exec(
                update(OutboxMessage)  # type: ignore[call-overload]
                .where(col(OutboxMessage.id) == row.id)
                .values(status="pending", attempts=attempts, next_attempt_at=when, last_error=reason)
            )

    async def _fail(self, row: OutboxMessage, reason: str, *, blocked: bool) -> None:
        now = self.clock.now()
        async with self.store.transaction() as session:
            await session.exec(
                update(OutboxMessage)  # type: ignore[call-overload]
                .where(col(OutboxMessage.id) == row.id)
                .values(status="failed", attempts=row.attempts + 1, last_error=reason)
            )
            if blocked:
                await session.exec(
                    update(Identity)  # type: ignore[call-overload]
                    .where(
                        Identity.platform == row.platform,
                        Identity.workspace == row.workspace,
                        Identity.user_id == row.address,
                    )
                    .values(blocked_at=now)
                )
