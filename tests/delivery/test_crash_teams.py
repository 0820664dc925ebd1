"""A crash in the middle of a Teams fan-out, through the real TeamsSender and botbuilder to the Bot
Framework connector stand-in: the process dies right after Teams accepted a message, before its
outcome is committed. Teams offers no way to look a message up, so the restarted worker resends
what it cannot account for: nobody is missed, and duplicates stay within the in-flight bound."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from bot.core.clock import SimulatedClock
from bot.core.delivery import DeliveryWorker, SendResult, Target
from bot.core.messages import Message, Text
from bot.core.models import Identity, Person
from bot.core.outbox import Recipient, enqueue_dms
from tests.standins.bf_connector import BotConnectorStandIn
from tests.standins.teams_activities import BOT_ID
from tests.standins.teams_harness import running_teams

LEARNERS = 28  # under the tenant window: the harness paces on the simulated clock, which stands still
CRASH_AFTER = 12
TENANT = "tenant-1"


@pytest.fixture
def connector() -> Iterator[BotConnectorStandIn]:
    standin = BotConnectorStandIn().start()
    yield standin
    standin.stop()


def _reference(connector: BotConnectorStandIn, n: int) -> dict[str, Any]:
    return {
        "serviceUrl": connector.url,
        "channelId": "msteams",
        "bot": {"id": BOT_ID},
        "user": {"id": f"29:u{n}"},
        "conversation": {"id": f"a:dm{n}", "conversationType": "personal", "tenantId": TENANT},
    }


async def test_a_crash_mid_fan_out_loses_nobody_and_duplicates_at_most_the_in_flight(
    db_url: str, clock: SimulatedClock, connector: BotConnectorStandIn
) -> None:
    async with running_teams(db_url, clock, connector) as teams:
        app = teams.app
        async with app.store.transaction() as session:
            conn = await session.connection()
            now = clock.now()
            await conn.execute(
                insert(Person),
                [{"id": 1000 + n, "display_name": f"l{n}", "created_at": now} for n in range(LEARNERS)],
            )
            await conn.execute(
                insert(Identity),
                [
                    {
                        "person_id": 1000 + n,
                        "platform": "teams",
                        "workspace": TENANT,
                        "user_id": f"29:u{n}",
                        "conversation_ref": _reference(connector, n),
                    }
                    for n in range(LEARNERS)
                ],
            )
            card = Message("Check-in is open", (Text("Check-in is open"),))
            await enqueue_dms(
                session, [Recipient(1000 + n, f"card:{n}", card) for n in range(LEARNERS)], now=now
            )

        sender = app.worker.senders["teams"]
        worker = DeliveryWorker(app.store, {}, clock)
        task: asyncio.Task[int] | None = None
        accepted = 0

        class DiesAfterAnAccept:
            async def send(self, target: Target, message: Message) -> SendResult:
                nonlocal accepted
                result = await sender.send(target, message)
                accepted += 1
                if accepted == CRASH_AFTER and task is not None:
                    worker.record = _gone  # type: ignore[method-assign]  # nothing more is committed
                    task.cancel()
                return result

            async def update(self, *args: Any) -> SendResult:
                raise AssertionError("no updates here")

        worker.senders = {"teams": DiesAfterAnAccept()}
        task = asyncio.create_task(worker.drain())
        await asyncio.gather(task, return_exceptions=True)

        clock.advance(timedelta(seconds=2))  # a new second of Teams' tenant window
        restarted = DeliveryWorker(app.store, {"teams": sender}, clock)
        await restarted.recover()
        await restarted.drain()

    per_conversation = Counter(call.conversation_id for call in connector.messages())
    assert set(per_conversation) == {f"a:dm{n}" for n in range(LEARNERS)}  # nobody missed
    duplicates = sum(n - 1 for n in per_conversation.values())
    assert 0 < duplicates <= worker.commit_every  # only what was in flight at the crash


async def _gone(*_: object) -> None:
    raise asyncio.CancelledError
