"""Fixtures the adapter tests share: the Bot Framework connector stand-in, and cohortbot's Teams
wiring around it (a test file that needs another set-up defines its own of the same name)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from bot.core.clock import SimulatedClock
from tests.standins.bf_connector import BotConnectorStandIn
from tests.standins.teams_harness import TeamsHarness, running_teams


@pytest.fixture
def connector() -> Iterator[BotConnectorStandIn]:
    standin = BotConnectorStandIn().start()
    yield standin
    standin.stop()


@pytest.fixture
async def harness(
    db_url: str, clock: SimulatedClock, connector: BotConnectorStandIn
) -> AsyncIterator[TeamsHarness]:
    async with running_teams(db_url, clock, connector) as running:
        yield running
