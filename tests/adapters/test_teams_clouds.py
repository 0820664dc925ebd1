"""Which Bot Framework cloud is a matter of settings: the OpenID metadata URL (where Teams' signing
keys are), the token endpoint and the token issuer. Here they point at the loopback stand-in,
which signs with keys generated in the test: a correctly signed token for the configured cloud is
accepted, forged ones and tokens of another cloud are refused. The US Government values reach
botbuilder's own government credentials."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from botframework.connector.auth import MicrosoftAppCredentials, PasswordServiceClientCredentialFactory
from botframework.connector.auth.microsoft_government_app_credentials import MicrosoftGovernmentAppCredentials
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from adapters.teams.auth import bot_configuration
from adapters.teams.runtime import attach
from bot.app.bootstrap import build
from bot.app.serve import run_starters, web_application
from bot.core.clock import SimulatedClock
from bot.core.settings import PUBLIC_TOKEN_ENDPOINT, PUBLIC_TOKEN_ISSUER, Settings
from tests.standins import teams_activities as teams
from tests.standins.bf_connector import BotConnectorStandIn, StandinCredentialsFactory
from tests.standins.teams_harness import APP_ID, APP_PASSWORD

GOV_ISSUER = "https://api.botframework.us"
GOV_TOKEN_ENDPOINT = "https://login.microsoftonline.us/MicrosoftServices.onmicrosoft.us/oauth2/v2.0/token"
ALICE = teams.TeamsUser("alice")


@pytest.fixture
async def client(
    db_url: str, clock: SimulatedClock, connector: BotConnectorStandIn
) -> AsyncIterator[TestClient]:
    """The Teams endpoint configured for a government-like cloud whose keys the stand-in serves,
    through settings alone (no test-only parameter)."""
    settings = Settings(
        database_url=db_url,
        microsoft_app_id=APP_ID,
        microsoft_app_password=SecretStr(APP_PASSWORD),
        microsoft_openid_metadata_url=connector.openid_metadata_url,
        microsoft_token_issuer=GOV_ISSUER,
    )
    app = await build(settings, {}, clock, schema="create")
    webapp = web_application(app)
    cleanup = await attach(
        app, webapp, credentials_factory=StandinCredentialsFactory(APP_ID, APP_PASSWORD, connector)
    )
    await run_starters(app)
    test_client = TestClient(TestServer(webapp))
    await test_client.start_server()
    try:
        yield test_client
    finally:
        await test_client.close()
        await cleanup()
        await app.close()


async def _post(client: TestClient, activity: dict[str, Any], token: str) -> int:
    response = await client.post("/api/messages", json=activity, headers={"Authorization": f"Bearer {token}"})
    return response.status


async def test_a_token_signed_for_the_configured_cloud_is_accepted_and_forgeries_are_not(
    client: TestClient, connector: BotConnectorStandIn
) -> None:
    url = connector.url
    activity = teams.message(url, ALICE, "list")
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    refused = {
        "public cloud issuer": connector.issuer.mint(APP_ID, url, iss=PUBLIC_TOKEN_ISSUER),
        "forged signature": connector.issuer.mint(APP_ID, url, iss=GOV_ISSUER, key=other_key),
        "other audience": connector.issuer.mint("someone-else", url, iss=GOV_ISSUER),
        "other service url": connector.issuer.mint(APP_ID, "https://evil.example/", iss=GOV_ISSUER),
        "unknown key": connector.issuer.mint(APP_ID, url, iss=GOV_ISSUER, kid="not-published"),
    }
    for why, token in refused.items():
        assert await _post(client, activity, token) == 401, why
    assert await _post(client, activity, connector.issuer.mint(APP_ID, url, iss=GOV_ISSUER)) == 201
    (reply,) = connector.messages(ALICE.personal_conversation)
    assert "not in any cohort" in reply.card_text()


def test_the_defaults_are_the_public_cloud() -> None:
    config = bot_configuration(Settings(microsoft_app_id=APP_ID))
    assert config.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL == (
        "https://login.botframework.com/v1/.well-known/openidconfiguration"
    )
    assert config.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER == PUBLIC_TOKEN_ISSUER == "https://api.botframework.com"
    assert config.TO_CHANNEL_FROM_BOT_LOGIN_URL + "/oauth2/v2.0/token" == PUBLIC_TOKEN_ENDPOINT


async def test_the_us_government_values_give_government_credentials() -> None:
    settings = Settings(
        microsoft_app_id=APP_ID,
        microsoft_app_password=SecretStr(APP_PASSWORD),
        microsoft_openid_metadata_url="https://login.botframework.azure.us/v1/.well-known/openidconfiguration",
        microsoft_token_endpoint=GOV_TOKEN_ENDPOINT,
        microsoft_token_issuer=GOV_ISSUER,
    )
    config = bot_configuration(settings)
    factory = PasswordServiceClientCredentialFactory(APP_ID, APP_PASSWORD)
    gov = await factory.create_credentials(
        APP_ID, config.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE, config.TO_CHANNEL_FROM_BOT_LOGIN_URL, True
    )
    assert isinstance(gov, MicrosoftGovernmentAppCredentials)
    public = await factory.create_credentials(
        APP_ID,
        PUBLIC_TOKEN_ISSUER,
        bot_configuration(Settings(microsoft_app_id=APP_ID)).TO_CHANNEL_FROM_BOT_LOGIN_URL,
        True,
    )
    assert type(public) is MicrosoftAppCredentials
