"""`cohortbot doctor` against stand-ins that are healthy, and broken in each way it must name."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.app.doctor import load_all_checks, survey_secret
from bot.core.doctor import Checkup, Finding, render, run
from bot.core.settings import Settings
from bot.core.store import Store
from tests.app.process import free_port, run_cli
from tests.standins.bf_connector import BotConnectorStandIn, StandinCredentialsFactory
from tests.standins.slack_api import SlackApiStandIn

APP_ID = "6f1c1d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f"
TENANT = "0d5a1f7e-9c3b-4e2a-8f6d-1b2c3d4e5f60"
PASSWORD = "a-current-client-secret"


@pytest.fixture
async def slack() -> AsyncIterator[SlackApiStandIn]:
    api = await SlackApiStandIn().start()
    yield api
    await api.stop()


@pytest.fixture
def teams() -> Iterator[BotConnectorStandIn]:
    connector = BotConnectorStandIn().start()
    connector.registered_apps[APP_ID] = PASSWORD
    connector.tenants.add(TENANT)
    yield connector
    connector.stop()


@pytest.fixture
async def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    store = await Store.open(url, schema="migrate")
    await store.close()
    return url


NO_PLATFORMS = {
    "slack_bot_token": None,
    "slack_app_token": None,
    "microsoft_app_id": "",
    "microsoft_app_password": None,
}


def healthy(tmp_path: Path, database: str, slack: SlackApiStandIn, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database,
        "slack_bot_token": SecretStr("xoxb-good"),
        "slack_app_token": SecretStr("xapp-good"),
        "slack_api_url": slack.api_url,
        "microsoft_app_id": APP_ID,
        "microsoft_app_password": SecretStr(PASSWORD),
        "microsoft_app_type": "SingleTenant",
        "microsoft_app_tenant_id": TENANT,
        "xapi_token": SecretStr("x" * 40),
        "export_dir": str(tmp_path / "exports"),
        "survey_secret": SecretStr("s" * 40),
        "admins": "tina@acme.test,U0TRAINER1",
        "provider_name": "Acme Formation",
        "provider_id": "11 75 12345 75",
    }
    values.update(changes)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def check(settings: Settings, teams: BotConnectorStandIn | None = None) -> dict[str, Finding]:
    load_all_checks()
    options = {}
    if teams is not None:
        password = (
            settings.microsoft_app_password.get_secret_value() if settings.microsoft_app_password else ""
        )
        tenant = settings.microsoft_app_tenant_id or None
        options["teams_credentials"] = StandinCredentialsFactory(
            settings.microsoft_app_id, password, teams, tenant
        )
    findings = await run(Checkup(settings, options))
    return {f.name: f for f in findings}


def failed(findings: dict[str, Finding]) -> dict[str, Finding]:
    return {name: f for name, f in findings.items() if not f.ok}


async def test_everything_healthy(
    tmp_path: Path, database: str, slack: SlackApiStandIn, teams: BotConnectorStandIn
) -> None:
    findings = await check(healthy(tmp_path, database, slack), teams)
    assert failed(findings) == {}
    assert {
        "database",
        "slack settings",
        "slack token",
        "slack scopes",
        "slack socket mode",
        "teams settings",
        "teams token",
        "xapi token",
        "export dir",
        "survey secret",
        "admins",
        "training provider",
    } <= set(findings)
    assert findings["training provider"].detail == "Acme Formation, registration number 11 75 12345 75"
    text = render(list(findings.values()))
    assert text.startswith("✓ database:") and text.endswith("all good")
    assert "xoxb-good" not in text and PASSWORD not in text


async def test_database_without_schema(tmp_path: Path, slack: SlackApiStandIn) -> None:
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    bad = failed(await check(healthy(tmp_path, empty, slack, **NO_PLATFORMS)))
    assert set(bad) == {"database"}
    assert "cohortbot db upgrade" in bad["database"].fix


async def test_database_unreachable(tmp_path: Path, slack: SlackApiStandIn) -> None:
    url = f"postgresql://cohortbot:pw@127.0.0.1:{free_port()}/cohortbot"
    bad = failed(await check(healthy(tmp_path, url, slack, **NO_PLATFORMS)))
    assert "cannot reach the database server" in bad["database"].detail
    assert "start PostgreSQL" in bad["database"].fix


@pytest.mark.parametrize(
    ("break_it", "name", "says"),
    [
        (lambda api: api.refused_tokens.add("xoxb-good"), "slack token", "invalid_auth"),
        (lambda api: setattr(api, "scopes", ["commands", "chat:write"]), "slack scopes", "users:read.email"),
        (
            lambda api: api.fail("apps.connections.open", error="invalid_auth"),
            "slack socket mode",
            "SLACK_APP_TOKEN",
        ),
    ],
)
async def test_slack_broken(
    tmp_path: Path, database: str, slack: SlackApiStandIn, break_it: Any, name: str, says: str
) -> None:
    break_it(slack)
    bad = failed(
        await check(healthy(tmp_path, database, slack, microsoft_app_id="", microsoft_app_password=None))
    )
    assert set(bad) == {name}
    assert says in bad[name].detail + bad[name].fix
    assert bad[name].fix


async def test_slack_unreachable(tmp_path: Path, database: str, slack: SlackApiStandIn) -> None:
    down = f"http://127.0.0.1:{free_port()}/api/"
    settings = healthy(
        tmp_path, database, slack, slack_api_url=down, microsoft_app_id="", microsoft_app_password=None
    )
    bad = failed(await check(settings))
    assert "cannot reach Slack" in bad["slack token"].detail


async def test_slack_http_mode_needs_a_public_https_url(
    tmp_path: Path, database: str, slack: SlackApiStandIn
) -> None:
    base = {"slack_app_token": None, "slack_signing_secret": SecretStr("s" * 32), "microsoft_app_id": ""}
    base["microsoft_app_password"] = None
    bad = failed(await check(healthy(tmp_path, database, slack, **base, public_url="http://bot.acme.test")))
    assert set(bad) == {"slack http url"}
    assert "not https" in bad["slack http url"].detail
    fine = await check(healthy(tmp_path, database, slack, **base, public_url="https://bot.acme.test"))
    assert fine["slack http url"].ok and "https://bot.acme.test/slack/events" in fine["slack http url"].detail


async def test_slack_oauth_credentials(tmp_path: Path, database: str, slack: SlackApiStandIn) -> None:
    oauth = {
        "slack_bot_token": None,
        "slack_app_token": None,
        "slack_signing_secret": SecretStr("s" * 32),
        "public_url": "https://bot.acme.test",
        "slack_client_id": slack.client_id,
        "microsoft_app_id": "",
        "microsoft_app_password": None,
    }
    good = await check(
        healthy(tmp_path, database, slack, **oauth, slack_client_secret=SecretStr(slack.client_secret))
    )
    assert good["slack oauth"].ok
    bad = failed(
        await check(healthy(tmp_path, database, slack, **oauth, slack_client_secret=SecretStr("wrong")))
    )
    assert set(bad) == {"slack oauth"}
    assert "invalid_client_id" in bad["slack oauth"].detail


@pytest.mark.parametrize(
    ("changes", "name", "says"),
    [
        ({"microsoft_app_password": SecretStr("an-old-secret")}, "teams token", "AADSTS7000215"),
        ({"microsoft_app_tenant_id": "11111111-2222-3333-4444-555555555555"}, "teams token", "AADSTS90002"),
        ({"microsoft_app_id": "not-a-guid"}, "teams settings", "not an app id"),
        ({"microsoft_app_tenant_id": ""}, "teams settings", "MICROSOFT_APP_TENANT_ID"),
        ({"teams_local": True}, "teams", "without authentication"),
    ],
)
async def test_teams_broken(
    tmp_path: Path,
    database: str,
    slack: SlackApiStandIn,
    teams: BotConnectorStandIn,
    changes: dict[str, Any],
    name: str,
    says: str,
) -> None:
    settings = healthy(tmp_path, database, slack, slack_bot_token=None, slack_app_token=None, **changes)
    bad = failed(await check(settings, teams))
    assert set(bad) == {name}
    assert says in bad[name].detail
    assert bad[name].fix


@pytest.mark.parametrize(
    ("changes", "name", "says"),
    [
        ({"xapi_token": SecretStr("short")}, "xapi token", "shorter than"),
        ({"admins": ""}, "admins", "anyone may create cohorts"),
        ({"admins": "tina"}, "admins", "neither an email nor"),
        ({"survey_secret": SecretStr("weak")}, "survey secret", "shorter than"),
        ({"provider_id": ""}, "training provider", "PROVIDER_ID is not set"),
        ({"provider_name": " "}, "training provider", "PROVIDER_NAME is not set"),
    ],
)
async def test_settings_broken(
    tmp_path: Path, database: str, slack: SlackApiStandIn, changes: dict[str, Any], name: str, says: str
) -> None:
    bad = failed(
        await check(
            healthy(tmp_path, database, slack, microsoft_app_id="", microsoft_app_password=None, **changes)
        )
    )
    assert set(bad) == {name}
    assert says in bad[name].detail


async def test_export_dir_not_writable(tmp_path: Path, database: str, slack: SlackApiStandIn) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    settings = healthy(
        tmp_path,
        database,
        slack,
        export_dir=str(tmp_path / "a-file" / "exports"),
        microsoft_app_id="",
        microsoft_app_password=None,
    )
    bad = failed(await check(settings))
    assert set(bad) == {"export dir"}
    assert "EXPORT_DIR" in bad["export dir"].fix


async def test_survey_secret_on_postgres_must_be_set(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, database_url="postgresql://bot@db/cohortbot")  # type: ignore[call-arg]
    [finding] = await survey_secret(Checkup(settings))
    assert not finding.ok and "SURVEY_SECRET" in finding.fix


async def test_the_command_prints_the_list_and_fails_on_a_problem(tmp_path: Path, database: str) -> None:
    result = await run_cli(tmp_path, "doctor", DATABASE_URL=database, ADMINS="")
    assert result.code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("✓ database:")
    assert "✗ admins: ADMINS is empty" in result.stdout
    assert "    fix: set ADMINS" in result.stdout
    assert lines[-1] == "1 problem to fix"


async def test_no_training_provider_is_said_but_is_no_problem(
    tmp_path: Path, database: str, slack: SlackApiStandIn
) -> None:
    settings = healthy(tmp_path, database, slack, provider_name="", provider_id="", **NO_PLATFORMS)
    findings = await check(settings)
    assert findings["training provider"].ok
    assert "PROVIDER_NAME" in findings["training provider"].detail
