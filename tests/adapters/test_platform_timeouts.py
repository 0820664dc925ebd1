"""Every platform call has a timeout well under the outbox lease: a Slack that does not answer
makes the send give up (and retry later), never sit `sending` until another instance resends it."""

from __future__ import annotations

import time
from pathlib import Path

from sqlmodel import select

from bot.core.clock import SimulatedClock
from bot.core.context import EventContext
from bot.core.delivery import LEASE, SEND_DEADLINE
from bot.core.messages import say
from bot.core.models import Identity, OutboxMessage, Person
from bot.core.settings import Settings
from tests.conftest import START
from tests.standins.slack_harness import SlackHarness


def test_the_budgets_fit_inside_the_lease() -> None:
    assert SEND_DEADLINE < LEASE
    default = Settings()
    # slack_sdk retries a failed connection once: two calls must still end before the lease.
    assert 2 * default.platform_timeout < SEND_DEADLINE.total_seconds()


async def test_a_slack_that_does_not_answer_is_given_up_on_and_retried(tmp_path: Path) -> None:
    slack = await SlackHarness.start(
        f"sqlite:///{tmp_path / 'slack.db'}", SimulatedClock(START), platform_timeout=0.5
    )
    try:
        assert slack.bot.client.timeout == 1  # whole seconds for slack_sdk
        async with slack.app.store.transaction() as session:
            person = Person(display_name="alice", created_at=START)
            session.add(person)
            await session.flush()
            session.add(
                Identity(person_id=person.id or 0, platform="slack", workspace="T0001", user_id="UALICE")
            )
            ctx = EventContext(session=session, now=START, settings=slack.app.settings)
            await ctx.dm(person.id or 0, say("hello").message, key="slow:1")
        slack.api.delays["chat.postMessage"] = 5.0
        started = time.perf_counter()
        await slack.app.worker.drain()
        took = time.perf_counter() - started
        assert took < 4.0, f"waited {took:.1f} s for a Slack that does not answer"
        async with slack.app.store.transaction() as session:
            row = (await session.exec(select(OutboxMessage).where(OutboxMessage.key == "slow:1"))).one()
        assert row.status == "pending" and row.attempts >= 1  # retried later, not left `sending`
        assert row.last_error and "Timeout" in row.last_error
    finally:
        await slack.stop()
