"""People enrolled by email reach Teams: a team install reads the team's roster and opens a 1:1
chat with each enrolled member (none of whom installed the app), who then get their cards; a
personal install is linked to the enrolment by the member's email; `reach` explains the rest."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.capabilities.reach.resolver import IdentityResolver
from bot.core.models import Activity, Identity, Person
from tests.capabilities.attendance_helpers import run_until
from tests.standins import teams_activities as teams
from tests.standins.teams_harness import TeamsHarness

TINA = teams.TeamsUser("tina")
ENROLLED = tuple(teams.TeamsUser(n) for n in ("erin", "fred", "gina"))
HAL = teams.TeamsUser("hal")  # in the team, not in the cohort


@pytest.fixture
def h(harness: TeamsHarness) -> TeamsHarness:
    """The Teams harness of tests/adapters/conftest.py, by the short name these tests use."""
    return harness


def email(user: teams.TeamsUser) -> str:
    return f"{user.name}@example.com"


async def say(h: TeamsHarness, user: teams.TeamsUser, text: str, **kw: Any) -> str:
    before = len(h.connector.messages())
    response = await h.post(teams.message(h.connector.url, user, text, **kw))
    assert response.status == 201, await response.text()
    return "\n".join(c.card_text() for c in h.connector.messages()[before:])


async def eventually(check: Callable[[], Any], within: float = 10.0) -> None:
    """Wait for background work (the roster sync after an install) to show its result."""
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "the roster sync did not finish"
        await asyncio.sleep(0.05)


async def install_personally(h: TeamsHarness, user: teams.TeamsUser) -> None:
    assert (await h.post(teams.installation(h.connector.url, user))).status == 201
    assert (await h.post(teams.members_added(h.connector.url, user, teams.BOT_ACCOUNT))).status == 201


async def test_a_team_install_reaches_every_enrolled_member_who_never_installed_the_app(
    h: TeamsHarness,
) -> None:
    await install_personally(h, TINA)
    await say(h, TINA, "create onboarding tz=Europe/Paris")
    enrolled = " ".join([*(email(u) for u in ENROLLED), "outsider@example.com"])
    assert "Enrolled 4" in await say(h, TINA, f"enroll onboarding {enrolled}")
    for user in (TINA, *ENROLLED, HAL):
        h.connector.add_to_team(teams.CHANNEL_ID, user.account, email(user))

    # A team owner adds the app to the team: Teams sends an installationUpdate and a conversationUpdate.
    assert (await h.post(teams.installation(h.connector.url, TINA, kind="channel"))).status == 201
    added = teams.members_added(h.connector.url, TINA, teams.BOT_ACCOUNT, kind="channel")
    assert (await h.post(added)).status == 201

    async def all_linked() -> bool:
        return len(await h.rows(Identity, Identity.platform == "teams")) == 4  # Tina + 3 learners

    await eventually(all_linked)
    chats = {body["members"][0]["id"]: body for body in h.connector.created}
    assert set(chats) == {u.id for u in ENROLLED}  # Hal is in no cohort: nothing opened with him
    for body in chats.values():  # a 1:1 chat in the learner's tenant (botbuilder writes `tenantID`)
        assert body["isGroup"] is False and body["channelData"]["tenant"]["id"] == teams.TENANT
    assert len(await h.rows(Person)) == 5  # Tina, the three, the outsider: nobody twice, no Hal

    await h.deliver()
    for user in ENROLLED:
        (welcome,) = h.connector.messages(f"a:personal-{user.id}")
        assert "Welcome to **onboarding**" in welcome.card_text()

    await say(h, TINA, 'session onboarding "Kick-off" 2027-03-01 09:00 90m')
    await run_until(h.app, h.app.clock, datetime(2027, 3, 1, 7, 55, tzinfo=UTC))  # type: ignore[arg-type]
    for user in ENROLLED:
        cards = [
            m for m in h.connector.messages(f"a:personal-{user.id}") if "attendance.checkin" in str(m.card)
        ]
        assert len(cards) == 1

    resolver = IdentityResolver(h.app.store, h.app.clock, h.app.settings, h.app.directories)
    outcome = await resolver.run_once()
    assert (outcome.asked, outcome.missing) == ({"teams": 1}, 1)  # only the outsider was left
    reach = await say(h, TINA, "reach onboarding")
    assert "3 of 4 learners" in reach
    assert "outsider (outsider@example.com): the app is not installed for them" in reach
    assert "app setup policy" in reach


async def test_the_resolver_finds_members_of_a_team_the_app_was_already_in(h: TeamsHarness) -> None:
    await install_personally(h, TINA)
    for user in (TINA, *ENROLLED):
        h.connector.add_to_team(teams.CHANNEL_ID, user.account, email(user))
    for n in range(450):  # a big team: its roster comes in pages of 200
        other = teams.TeamsUser(f"colleague{n}")
        h.connector.add_to_team(teams.CHANNEL_ID, other.account, email(other))
    await say(h, TINA, "list", kind="channel")  # the app is in the team: its reference is known
    await say(h, TINA, "create later")
    await say(h, TINA, f"enroll later {email(ENROLLED[0])}")  # enrolled after the install

    outcome = await IdentityResolver(h.app.store, h.app.clock, h.app.settings, h.app.directories).run_once()
    assert outcome.found == 1
    assert h.connector.roster_pages == 3  # 454 members
    assert len(h.connector.created) == 1  # a 1:1 chat with the enrolled member only
    await h.deliver()
    (welcome,) = h.connector.messages(f"a:personal-{ENROLLED[0].id}")
    assert "Welcome to **later**" in welcome.card_text()


async def test_a_personal_install_is_linked_to_the_enrolment_by_email(h: TeamsHarness) -> None:
    await install_personally(h, TINA)
    await say(h, TINA, "create solo")
    await say(h, TINA, "enroll solo dana@example.com")
    dana = teams.TeamsUser("dana")
    h.connector.members[dana.id] = {
        **dana.account,
        "email": "dana@example.com",
        "userPrincipalName": "dana@example.com",
    }

    await install_personally(h, dana)  # the install activities carry no email: the member lookup does

    identity = await h.identity(dana.id)
    (person,) = await h.rows(Person, Person.email == "dana@example.com")
    assert identity.person_id == person.id
    assert identity.conversation_ref["conversation"]["id"] == dana.personal_conversation
    assert len(await h.rows(Person)) == 2  # Tina and Dana
    (linked,) = await h.rows(Activity, Activity.kind == "identity.linked")
    assert linked.person_id == person.id and linked.data["source"] == "personal install"
    await h.deliver()
    texts = [m.card_text() for m in h.connector.messages(dana.personal_conversation)]
    assert sum("Welcome to **solo**" in t for t in texts) == 1
