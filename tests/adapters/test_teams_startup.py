"""Teams credentials are tried at start: a token refused by Azure AD stops the process with the
setting to fix; Microsoft's login service out of reach is retried while /healthz says why."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from adapters.teams.runtime import attach
from bot.app.bootstrap import build
from bot.app.serve import run_starters, web_application
from bot.core.errors import ConfigurationError
from bot.core.settings import Settings
from tests.standins.bf_connector import BotConnectorStandIn, StandinCredentialsFactory
from tests.standins.teams_harness import APP_ID, APP_PASSWORD


@pytest.fixture
def connector() -> Iterator[BotConnectorStandIn]:
    standin = BotConnectorStandIn().start()
    standin.registered_apps[APP_ID] = APP_PASSWORD
    yield standin
    standin.stop()


async def start_teams(tmp_path: Path, connector: BotConnectorStandIn, password: str) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite:///{tmp_path / 't.db'}",
        microsoft_app_id=APP_ID,
        microsoft_app_password=SecretStr(password),
    )
    app = await build(settings, {}, schema="create")
    webapp = web_application(app)
    factory = StandinCredentialsFactory(APP_ID, password, connector)
    cleanup = await attach(
        app, webapp, credentials_factory=factory, openid_metadata_url=connector.openid_metadata_url
    )
    try:
        await run_starters(app)
        assert app.health.ok
    finally:
        await cleanup()
        await app.close()


async def test_a_refused_secret_stops_the_start(tmp_path: Path, connector: BotConnectorStandIn) -> None:
    with pytest.raises(ConfigurationError) as refused:
        await start_teams(tmp_path, connector, "an-expired-secret")
    message = str(refused.value)
    assert "AADSTS7000215" in message and "MICROSOFT_APP_PASSWORD" in message
    assert "an-expired-secret" not in message


async def test_good_credentials_start(tmp_path: Path, connector: BotConnectorStandIn) -> None:
    await start_teams(tmp_path, connector, APP_PASSWORD)
    assert connector.issued_tokens
