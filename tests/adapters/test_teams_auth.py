"""With credentials set, every activity's Bot Framework token is validated for real (keys from the
stand-in's OpenID endpoint); anything not valid is a 401 and leaves no trace."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from adapters.teams.auth import AsyncOpenIdMetadata
from adapters.teams.conversations import TeamsConversation
from adapters.teams.runtime import TeamsNotConfigured, build_runtime
from bot.app.bootstrap import build
from bot.core.clock import SimulatedClock
from bot.core.context import Ctx, EventContext
from bot.core.messages import Message, Reply, Text, say
from bot.core.models import Activity, Person, ProcessedInbound
from bot.core.registry import action
from bot.core.settings import Settings
from tests.standins import teams_activities as teams
from tests.standins.bf_connector import BotConnectorStandIn
from tests.standins.teams_harness import APP_ID, TeamsHarness, running_teams

ALICE = teams.TeamsUser("alice")


@action("teamsauthtest.whoami")
async def _whoami(ctx: Ctx, value: str, inputs: dict[str, str]) -> Reply:
    await ctx.log("teamsauthtest.clicked", person_id=ctx.actor.id, auth=ctx.inbound.auth)
    return say(f"you are {ctx.actor.display_name}")


@pytest.fixture
async def harness(
    db_url: str, clock: SimulatedClock, connector: BotConnectorStandIn
) -> AsyncIterator[TeamsHarness]:
    async with running_teams(db_url, clock, connector, credentials=True) as running:
        yield running


async def test_a_valid_token_is_accepted_and_replies_carry_the_bots_token(harness: TeamsHarness) -> None:
    h = harness
    response = await h.post(teams.message(h.connector.url, ALICE, "list"))
    assert response.status == 201
    (reply,) = h.connector.messages(ALICE.personal_conversation)
    assert "not in any cohort" in reply.card_text()
    # The start-up check got the first token; the reply's client gets its own, and keeps it.
    assert reply.authorization == f"Bearer {h.connector.issued_tokens[-1]}"
    # A proactive message reuses the reply's connector client (and its token).
    alice = await h.identity(ALICE.id)
    async with h.app.store.transaction() as session:
        ctx = EventContext(session=session, now=h.app.clock.now(), settings=h.app.settings)
        await ctx.dm(alice.person_id, Message("Reminder", (Text("Reminder"),)), key="reminder:alice")
    assert await h.deliver() == 1
    proactive = h.connector.messages(ALICE.personal_conversation)[-1]
    assert "Reminder" in proactive.card_text() and proactive.authorization == reply.authorization
    (client,) = h.app.worker.senders["teams"].adapter.bot_framework_authentication.clients.values()  # type: ignore[attr-defined]
    assert (
        client.config.credentials.fetched_in == ["asyncio_0"]
        or "MainThread" not in client.config.credentials.fetched_in
    )
    assert len(client.config.credentials.fetched_in) == 1

    click = {
        "verb": "teamsauthtest.whoami",
        "data": {"cohortbot": {"action": "teamsauthtest.whoami", "value": ""}},
    }
    response = await h.post(teams.execute(h.connector.url, ALICE, click, reply_to="x"))
    assert response.status == 200 and (await response.json())["value"] == "you are Alice"
    (clicked,) = await h.activities("teamsauthtest.clicked")
    assert clicked.data["auth"] == "bf-jwt"


def _other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda c, url: None, id="no token"),
        pytest.param(lambda c, url: "Bearer not-a-jwt", id="garbage"),
        pytest.param(lambda c, url: "Basic dXNlcjpwYXNz", id="wrong scheme"),
        pytest.param(
            lambda c, url: "Bearer " + c.issuer.mint(APP_ID, url, key=_other_key()), id="forged signature"
        ),
        pytest.param(lambda c, url: "Bearer " + c.issuer.mint("someone-elses-bot", url), id="other audience"),
        pytest.param(
            lambda c, url: "Bearer " + c.issuer.mint(APP_ID, "https://evil.example/"), id="other service url"
        ),
        pytest.param(
            lambda c, url: "Bearer " + c.issuer.mint(APP_ID, url, exp=int(time.time()) - 3600, nbf=0, iat=0),
            id="expired",
        ),
        pytest.param(
            lambda c, url: "Bearer " + c.issuer.mint(APP_ID, url, kid="unknown-kid"), id="unknown key"
        ),
        pytest.param(
            lambda c, url: "Bearer " + c.issuer.mint(APP_ID, url, iss="https://sts.windows.net/tenant/"),
            id="not the Bot Framework issuer",
        ),
    ],
)
async def test_an_activity_without_a_valid_token_is_refused_and_nothing_is_recorded(
    harness: TeamsHarness, forge: object
) -> None:
    h = harness
    activity = teams.message(h.connector.url, ALICE, "create sneaky")
    authorization = forge(h.connector, h.connector.url)  # type: ignore[operator]
    response = await h.post(activity, authorization=authorization or "")
    assert response.status == 401
    assert (
        await h.rows(Person) == [] and await h.rows(ProcessedInbound) == [] and await h.rows(Activity) == []
    )
    assert h.connector.calls == [] and await h.rows(TeamsConversation) == []


async def test_forged_tokens_do_not_make_us_hammer_the_key_endpoint(harness: TeamsHarness) -> None:
    h = harness
    first = await asyncio.gather(*(h.post(teams.message(h.connector.url, ALICE, "list")) for _ in range(5)))
    assert [r.status for r in first] == [201] * 5
    assert h.connector.key_fetches == 1  # concurrent first activities share one key fetch
    fetches = h.connector.key_fetches
    for _ in range(5):
        forged = "Bearer " + h.connector.issuer.mint(APP_ID, h.connector.url, kid="rotated-" + str(_))
        assert (
            await h.post(teams.message(h.connector.url, ALICE, "list"), authorization=forged)
        ).status == 401
    assert h.connector.key_fetches <= fetches + 1


async def test_key_fetch_has_a_timeout() -> None:
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    async def never(_: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.Response()

    slow = web.Application()
    slow.router.add_get("/meta", never)
    async with TestServer(slow) as server:
        metadata = AsyncOpenIdMetadata(str(server.make_url("/meta")), timeout=0.2)
        started = time.monotonic()
        with pytest.raises(asyncio.TimeoutError):
            await metadata.get("any")
        assert time.monotonic() - started < 2


async def test_no_credentials_and_no_local_mode_refuses_to_start(db_url: str, clock: SimulatedClock) -> None:
    app = await build(
        Settings(database_url=db_url, teams_local=False, microsoft_app_id=""), {}, clock, schema="create"
    )
    try:
        with pytest.raises(TeamsNotConfigured, match="TEAMS_LOCAL=1"):
            build_runtime(app)
    finally:
        await app.close()
