"""The outbox `Sender` for xAPI statements: sends that arrive together go to the LRS as one batch.

The delivery worker sends rows concurrently; each `send` here joins the batch being gathered and
waits for its outcome. A batch the LRS refuses as a whole (400 or 409: one bad or conflicting
statement fails them all, per xAPI) is resent one statement at a time with PUT, so only the
statement at fault fails. Statement ids come from the records, so a resent statement is stored once.
"""

from __future__ import annotations

import asyncio
from typing import Any

from adapters.lrs.client import LrsClient, LrsRefused
from bot.core.delivery import PermanentFailure, SendResult, Target
from bot.core.messages import Message, Record

MAX_BATCH = 100
GATHER = 0.005  # seconds to let the worker's concurrent sends join the same batch


class LrsSender:
    def __init__(self, client: LrsClient, *, max_batch: int = MAX_BATCH, gather: float = GATHER) -> None:
        self.client = client
        self.max_batch = max_batch
        self.gather = gather
        self._waiting: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._flush: asyncio.TimerHandle | None = None
        self._in_flight: set[asyncio.Task[None]] = set()  # held: the loop keeps only weak references
        self.batches_sent = 0

    async def send(self, target: Target, message: Message) -> SendResult:
        statement = _statement(message)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((statement, done))
        if len(self._waiting) >= self.max_batch:
            self._start_batch()
        elif self._flush is None:
            self._flush = asyncio.get_running_loop().call_later(self.gather, self._start_batch)
        await done
        return SendResult(message_id=statement["id"])

    async def update(
        self, target: Target, message_id: str, channel_id: str | None, message: Message
    ) -> SendResult:
        raise PermanentFailure("xAPI statements are immutable: void and resend instead of updating")

    def _start_batch(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        batch, self._waiting = self._waiting, []
        if batch:
            task = asyncio.get_running_loop().create_task(self._send_batch(batch))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    async def _send_batch(self, batch: list[tuple[dict[str, Any], asyncio.Future[None]]]) -> None:
        try:
            await self.client.post([statement for statement, _ in batch])
            self.batches_sent += 1
        except LrsRefused:
            await asyncio.gather(*(self._send_one(statement, done) for statement, done in batch))
            return
        except Exception as e:  # RetryLater and the rest: every statement of the batch shares it
            for _, done in batch:
                if not done.done():
                    done.set_exception(e)
            return
        for _, done in batch:
            if not done.done():
                done.set_result(None)

    async def _send_one(self, statement: dict[str, Any], done: asyncio.Future[None]) -> None:
        try:
            await self.client.put(statement)
        except LrsRefused as e:
            if not done.done():
                done.set_exception(PermanentFailure(e.reason))
        except Exception as e:
            if not done.done():
                done.set_exception(e)
        else:
            if not done.done():
                done.set_result(None)


def _statement(message: Message) -> dict[str, Any]:
    for block in message.blocks:
        if isinstance(block, Record):
            return block.body
    raise PermanentFailure("nothing to send to the LRS: the message carries no statement")
