"""Every start-up and configuration failure ends in one line that says what failed and what to
do, with exit code 2 and no traceback at the default log level (cohortbot run as a real process)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.app.process import Finished, Running, free_port, run_cli
from tests.standins.slack_api import SlackApiStandIn
from tests.standins.slack_harness import SECRET


def one_clear_line(result: Finished | str, *expected: str) -> str:
    stderr = result if isinstance(result, str) else result.stderr
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.startswith("cohortbot: ")]
    assert len(lines) == 1, stderr
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


async def test_unreachable_database_server(tmp_path: Path) -> None:
    url = f"postgresql://cohortbot:secret@127.0.0.1:{free_port()}/cohortbot"
    result = await run_cli(tmp_path, "db", "upgrade", DATABASE_URL=url)
    assert result.code == 2
    line = one_clear_line(result, "cannot reach the database server at 127.0.0.1", "start PostgreSQL")
    assert "secret" not in line


async def test_missing_database_says_how_to_create_it(tmp_path: Path, postgres_server: str) -> None:
    result = await run_cli(tmp_path, "db", "upgrade", DATABASE_URL=f"{postgres_server}/cohortbot")
    assert result.code == 2
    one_clear_line(result, 'database "cohortbot" does not exist', "createdb", "cohortbot db upgrade")


async def test_missing_role_says_how_to_create_it(tmp_path: Path, postgres_server: str) -> None:
    url = postgres_server.replace("postgres@", "trainer@") + "/postgres"
    result = await run_cli(tmp_path, "db", "upgrade", DATABASE_URL=url)
    assert result.code == 2
    one_clear_line(result, 'refused the role "trainer"', "createuser")


async def test_db_upgrade_creates_then_reports_up_to_date(tmp_path: Path, postgres_url: str) -> None:
    first = await run_cli(tmp_path, "db", "upgrade", DATABASE_URL=postgres_url)
    assert first.code == 0, first.stderr
    assert first.stdout.startswith("created the schema")
    again = await run_cli(tmp_path, "db", "upgrade", DATABASE_URL=postgres_url)
    assert again.code == 0
    assert again.stdout.startswith("database is up to date")


async def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    assert (await run_cli(tmp_path, "db", "upgrade", DATABASE_URL=url)).code == 0
    with sqlite3.connect(tmp_path / "bot.db") as db:
        db.execute("INSERT INTO alembic_version VALUES ('0999_from_the_future')")
    result = await run_cli(tmp_path, "db", "upgrade", DATABASE_URL=url)
    assert result.code == 2
    one_clear_line(result, "0999_from_the_future", "newer version")
    run = await Running.start(tmp_path, DATABASE_URL=url, XAPI_TOKEN="x" * 32)
    assert await run.exit_code() == 2
    one_clear_line(run.stderr, "newer version")


async def test_commands_on_an_empty_database_say_to_upgrade(tmp_path: Path) -> None:
    result = await run_cli(tmp_path, "evidence", "verify", DATABASE_URL=f"sqlite:///{tmp_path / 'e.db'}")
    assert result.code == 2
    one_clear_line(result, "no schema yet", "cohortbot db upgrade")


async def test_a_bad_setting_is_named(tmp_path: Path) -> None:
    result = await run_cli(tmp_path, "db", "upgrade", PORT="eighty")
    assert result.code == 2
    one_clear_line(result, "PORT", "fix it in the environment or .env")


@pytest.fixture
async def slack_api() -> SlackApiStandIn:
    api = await SlackApiStandIn().start()
    yield api  # type: ignore[misc]
    await api.stop()


def slack_http(tmp_path: Path, api: SlackApiStandIn, token: str) -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "SLACK_BOT_TOKEN": token,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api.api_url,
    }


async def test_an_invalid_slack_token_stops_the_process(tmp_path: Path, slack_api: SlackApiStandIn) -> None:
    slack_api.refused_tokens.add("xoxb-fake")
    run = await Running.start(tmp_path, **slack_http(tmp_path, slack_api, "xoxb-fake"))
    assert await run.exit_code() == 2
    one_clear_line(run.stderr, "Slack refused SLACK_BOT_TOKEN (invalid_auth", "reinstall")
    assert [c.method for c in slack_api.calls] == ["auth.test"]


async def test_missing_scopes_stop_the_process(tmp_path: Path, slack_api: SlackApiStandIn) -> None:
    slack_api.scopes = ["commands", "chat:write"]
    run = await Running.start(tmp_path, **slack_http(tmp_path, slack_api, "xoxb-narrow"))
    assert await run.exit_code() == 2
    one_clear_line(run.stderr, "lacks the scopes", "users:read.email", "reinstall")


async def test_a_good_token_starts_quietly(tmp_path: Path, slack_api: SlackApiStandIn) -> None:
    run = await Running.start(tmp_path, **slack_http(tmp_path, slack_api, "xoxb-good"))
    try:
        await run.wait_for_status("/healthz", 200)
    finally:
        assert await run.stop() == 0
    assert "token will be unused" not in run.stderr  # Bolt's warning about the token it was handed
    assert "Traceback" not in run.stderr


async def test_socket_mode_waits_for_slack_with_backoff(tmp_path: Path) -> None:
    port = free_port()  # Slack is down: nothing listens there yet
    settings = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "SLACK_BOT_TOKEN": "xoxb-socket",
        "SLACK_APP_TOKEN": "xapp-socket",
        "SLACK_API_URL": f"http://127.0.0.1:{port}/api/",
    }
    run = await Running.start(tmp_path, **settings)
    api = SlackApiStandIn()
    try:
        await run.wait_for_log("attempt 2")
        status, body = await run.get("/healthz")  # the HTTP server is up meanwhile, and says why
        assert status == 503
        assert "cannot reach Slack" in json.loads(body)["reasons"]["slack"]
        await api.start(port)  # Slack is back
        await run.wait_for_status("/healthz", 200)
        assert api.called("apps.connections.open")
    finally:
        code = await run.stop()
        await api.stop()
    assert code == 0
    attempts = [line for line in run.stderr.splitlines() if "cannot reach Slack" in line]
    assert len(attempts) >= 2 and all("attempt" in line for line in attempts)
    assert "Traceback" not in run.stderr


async def test_teams_with_a_malformed_app_id_stops_the_process(tmp_path: Path) -> None:
    run = await Running.start(
        tmp_path,
        DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}",
        MICROSOFT_APP_ID="my-bot",
        MICROSOFT_APP_PASSWORD="secret",
    )
    assert await run.exit_code() == 2
    one_clear_line(run.stderr, "MICROSOFT_APP_ID 'my-bot' is not an app id")


async def test_a_port_in_use_is_named(tmp_path: Path) -> None:
    first = await Running.start(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'a.db'}", XAPI_TOKEN="x" * 32)
    try:
        await first.wait_for_status("/healthz", 200)
        second = await run_cli(
            tmp_path,
            "run",
            DATABASE_URL=f"sqlite:///{tmp_path / 'b.db'}",
            XAPI_TOKEN="x" * 32,
            PORT=str(first.port),
        )
    finally:
        await first.stop()
    assert second.code == 2
    one_clear_line(second, f"cannot listen on port {first.port}", "set PORT")
