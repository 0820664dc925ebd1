"""The Slack manifest and the code agree: every command, event and interaction the Bolt app
handles is declared, and every Web API method the adapter calls has its scopes requested."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from typer.testing import CliRunner

from adapters.slack import app as slack_app
from adapters.slack import manifest
from bot.app.cli import app as cli
from tests.standins.slack_harness import SlackHarness

ADAPTER = Path(slack_app.__file__).parent

# Bot scopes each Web API method needs (api.slack.com/methods); a new method must be added here.
METHOD_SCOPES: dict[str, set[str]] = {
    "auth_test": set(),
    "apps_connections_open": set(),  # with the app-level token (connections:write), not the bot's
    "oauth_v2_access": set(),  # with the client id and secret (doctor's probe), no token
    "chat_postMessage": {"chat:write", "chat:write.public", "im:write"},  # DMs by user id, public channels
    "chat_update": {"chat:write"},
    "users_info": {"users:read", "users:read.email"},
    # Identity by email: one lookup, or the roster with each profile's email.
    "users_lookupByEmail": {"users:read.email"},
    "users_list": {"users:read", "users:read.email"},
    "views_open": set(),
    "views_publish": set(),
    "files_upload_v2": {"files:write"},
    # Looking up a post a crash left in doubt, by its metadata, in the learner's DM.
    "conversations_open": {"im:write"},
    "conversations_history": {"im:history"},
}
EVENT_SCOPES = {
    "app_home_opened": set(),
    "message.im": {"im:history"},
    "app_uninstalled": set(),
    "tokens_revoked": set(),
}


def _called_methods() -> set[str]:
    """Every Web API method (`client.<method>`) the adapter's code calls or passes on."""
    source = "\n".join(p.read_text() for p in ADAPTER.glob("*.py"))
    return set(re.findall(r"client\.([a-z]+_[A-Za-z0-9_]+)\b", source))


def test_every_web_api_call_has_its_scopes_requested() -> None:
    requested = set(manifest.load()["oauth_config"]["scopes"]["bot"])
    methods = _called_methods()
    assert {"chat_postMessage", "chat_update", "users_info", "views_open", "views_publish"} <= methods
    assert {"users_lookupByEmail", "users_list"} <= methods  # people enrolled by email are looked up
    unknown = methods - set(METHOD_SCOPES)
    assert not unknown, f"add the scopes of {unknown} to METHOD_SCOPES and the manifest"
    for method in methods:
        assert METHOD_SCOPES[method] <= requested, f"{method} needs {METHOD_SCOPES[method] - requested}"
    for event in slack_app.EVENTS:
        assert EVENT_SCOPES[event] <= requested
    assert "commands" in requested


async def test_every_handled_command_event_and_interaction_is_declared(tmp_path: Path) -> None:
    data = manifest.load()
    commands = {c["command"] for c in data["features"]["slash_commands"]}
    events = set(data["settings"]["event_subscriptions"]["bot_events"])
    assert {slack_app.COMMAND} == commands
    assert set(slack_app.EVENTS) == events
    assert data["settings"]["interactivity"]["is_enabled"] is True  # buttons and modals
    assert data["features"]["app_home"]["home_tab_enabled"] is True  # app_home_opened
    assert data["features"]["app_home"]["messages_tab_enabled"] is True  # message.im
    # The Bolt app registers exactly: the command, clicks, modal answers and the four events.
    harness = await SlackHarness.start(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        assert len(harness.bot.bolt._async_listeners) == 7
    finally:
        await harness.stop()


def test_cli_prints_socket_mode_and_http_manifests() -> None:
    runner = CliRunner()
    socket = yaml.safe_load(runner.invoke(cli, ["manifest", "slack"]).stdout)
    assert socket["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in socket["settings"]["interactivity"]

    result = runner.invoke(cli, ["manifest", "slack", "--url", "https://bot.example.com/"])
    http = yaml.safe_load(result.stdout)
    endpoint = "https://bot.example.com/slack/events"
    assert http["settings"]["socket_mode_enabled"] is False
    assert http["settings"]["event_subscriptions"]["request_url"] == endpoint
    assert http["settings"]["interactivity"]["request_url"] == endpoint
    assert http["features"]["slash_commands"][0]["url"] == endpoint

    refused = runner.invoke(cli, ["manifest", "slack", "--url", "http://bot.example.com"])
    assert refused.exit_code == 2
