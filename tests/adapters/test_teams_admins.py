"""On Teams an email-form admin is recognised by the email Teams' member lookup returns, never by
`from.name`, which the user chooses; the lookup is made once per user, not once per message."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.core.clock import SimulatedClock
from tests.adapters.test_teams_e2e import say
from tests.standins import teams_activities as teams
from tests.standins.bf_connector import BotConnectorStandIn
from tests.standins.teams_harness import TeamsHarness, running_teams

REFUSED = "Only the configured cohortbot admins"


@pytest.fixture
async def harness(
    db_url: str, clock: SimulatedClock, connector: BotConnectorStandIn
) -> AsyncIterator[TeamsHarness]:
    async with running_teams(db_url, clock, connector) as running:
        running.app.settings.admins = "boss@corp.example"
        yield running


def _member(h: TeamsHarness, user: teams.TeamsUser, email: str) -> None:
    h.connector.members[user.id] = {**user.account, "email": email, "userPrincipalName": email}


async def test_the_member_lookup_email_makes_the_admin(harness: TeamsHarness) -> None:
    boss = teams.TeamsUser("boss")
    _member(harness, boss, "boss@corp.example")
    assert "Created cohort **real**" in await say(harness, boss, "create real")
    assert "Created cohort **again**" in await say(harness, boss, "create again")
    assert harness.connector.member_lookups == 1  # cached: not one lookup per message


async def test_a_display_name_like_the_admins_email_is_refused(harness: TeamsHarness) -> None:
    mallory = teams.TeamsUser("boss@corp.example")  # from.name is what the user typed
    _member(harness, mallory, "mallory@corp.example")
    assert REFUSED in await say(harness, mallory, "create stolen")
    nobody = teams.TeamsUser("unlisted")  # the lookup fails: no email, no admin
    assert REFUSED in await say(harness, nobody, "create stolen")
