"""Answers in place (Slack's `response_url`): written in the click's own transaction, sent right
after the ack, recorded a batch at a time. A crash or an outage delays them; none is lost.

The engine writes the reply as an outbox row this process already holds (`sending`, leased,
`claimed_by` its delivery worker) in the transaction that commits the click, so the commit and the
promise to answer are one: if the process dies before the answer reached the platform, the row is
taken over like any held row (at restart on SQLite, within seconds by another instance on
PostgreSQL) and sent then. After the ack the adapter hands the row to `ReplyCourier.send`: one
attempt through the platform's Sender with the outbox's own outcome rules (retry later on a 5xx or
429, give up on a permanent error), without the claim query, the row being in hand. Outcomes are
recorded in shared transactions, as the clicks were committed.

The row's address is the person's user id (its per-person order and, when the answer cannot go in
place, where a Sender posts it instead); `payload` carries the message plus `reply_to` (the
platform's answer address) and `visibility`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.inbound import Inbound
from bot.core.messages import Message, Reply
from bot.core.models import Identity, OutboxMessage
from bot.core.prepared_insert import PreparedInsert
from bot.core.store import insert_for

if TYPE_CHECKING:
    from bot.core.delivery import DeliveryWorker, Outcome
    from bot.core.group_commit import GroupCommit

log = logging.getLogger(__name__)

OUTBOX = OutboxMessage.__table__  # type: ignore[attr-defined]
URGENT = 0  # the outbox's highest priority: a person is looking at the card
KIND = "reply"


@dataclass(frozen=True)
class HeldReply:
    """An outbox row of kind `reply` as the engine wrote it, with the columns delivery reads."""

    id: int
    key: str
    platform: str
    workspace: str
    address: str
    person_id: int | None
    payload: dict[str, Any]
    created_at: datetime
    kind: str = KIND
    status: str = "sending"
    attempts: int = 0
    dm_channel: str | None = None
    conversation_ref: dict[str, Any] = field(default_factory=dict)
    updates_key: str | None = None
    message: Message | None = None  # the payload's message as built, handed to the sender as it is


def reply_key(inbound: Inbound) -> str:
    """Once per click: a retried delivery of the click carries the same dedupe key. Hashed, so the
    key says nothing of who clicked what."""
    source = inbound.dedupe_key or inbound.reply_to or ""
    return "answer:" + hashlib.sha256(source.encode()).hexdigest()[:40]


@lru_cache(maxsize=4)
def _insert(dialect: str) -> PreparedInsert:
    """Built once per dialect: it runs on every click answered in place."""
    return PreparedInsert(insert_for(dialect)(OUTBOX).on_conflict_do_nothing(index_elements=["key"]))


async def hold_reply(
    session: AsyncSession,
    inbound: Inbound,
    reply: Reply,
    *,
    person_id: int | None,
    holder: str,
    lease_until: datetime,
    now: datetime,
) -> Reply | None:
    """`reply`, queued as a held outbox row in the caller's transaction when the inbound came with
    an answer address; the returned Reply carries the row (`held`) for the adapter to send. None
    when this answer was queued before (nothing more to send)."""
    if not inbound.reply_to:
        return reply
    sender = inbound.sender
    if person_id is None:  # a refusal (its unit was undone): whoever the platform account is, if known
        person_id = await _person_of(session, sender.platform, sender.workspace, sender.user_id)
    row = {
        "key": reply_key(inbound),
        "kind": KIND,
        "cohort_id": None,
        "person_id": person_id,
        "platform": sender.platform,
        "workspace": sender.workspace,
        "address": sender.user_id,
        "payload": {
            **reply.message.to_dict(),
            "reply_to": inbound.reply_to,
            "visibility": reply.visibility,
        },
        "priority": URGENT,
        "status": "sending",
        "claimed_by": holder,
        "attempts": 0,
        "next_attempt_at": lease_until,
        "created_at": now,
    }
    row_id = await _insert(session.get_bind().dialect.name).run_for_id(session, row)
    if row_id is None:  # answered before (the same click, delivered again): nothing more to send
        return None
    held = HeldReply(
        id=int(row_id),
        key=row["key"],
        platform=sender.platform,
        workspace=sender.workspace,
        address=sender.user_id,
        person_id=person_id,
        payload=row["payload"],
        created_at=now,
        message=reply.message,
    )
    return Reply(reply.message, reply.visibility, held=held)


async def _person_of(session: AsyncSession, platform: str, workspace: str, user_id: str) -> int | None:
    """So that erasing a person also erases the answers they were sent (found by person)."""
    query = select(Identity.person_id).where(
        Identity.platform == platform, Identity.workspace == workspace, Identity.user_id == user_id
    )
    return (await session.exec(query)).first()


class ReplyCourier:
    """Sends held replies at once and records their outcomes together: in the clicks' own group
    commits where there are some (SQLite: no transaction of its own to wait for the one
    connection), else in one transaction per batch of outcomes that arrived meanwhile."""

    def __init__(self, worker: DeliveryWorker, group_commit: GroupCommit | None = None) -> None:
        self.worker = worker
        self.group_commit = group_commit
        self._outcomes: list[Outcome] = []
        self._recording: asyncio.Task[None] | None = None

    async def send(self, held: HeldReply) -> None:
        """One attempt now; the outcome is committed before this returns. A retry, should one be
        needed, is the delivery worker's (the row is due again after its backoff)."""
        outcome = await self.worker.attempt(held, in_doubt=False, message=held.message)
        self._outcomes.append(outcome)
        if self._recording is None or self._recording.done():
            self._recording = asyncio.create_task(self._record_all())
        await asyncio.shield(self._recording)

    async def _record_all(self) -> None:
        while self._outcomes:
            batch, self._outcomes = self._outcomes, []
            try:
                if self.group_commit is None:
                    await self.worker.record(batch)
                    continue
                self.worker.count(batch)
                await self.group_commit.run(partial(self.worker.record_in, outcomes=batch))
            except Exception:  # still held: sent again once the lease ends (a card replaced twice)
                log.exception("recording %d replies failed", len(batch))
