"""Socket Mode: with SLACK_APP_TOKEN the app opens a WebSocket (to the stand-in here, found through
apps.connections.open at SLACK_API_URL), serves commands and clicks from it, and acks each envelope."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlmodel import select

from adapters.slack import runtime as slack_runtime
from bot.core.context import Ctx
from bot.core.messages import Reply, say
from bot.core.models import Activity
from bot.core.registry import action
from tests.standins.slack_harness import SlackHarness


@action("slacktest.socket_click")
async def _socket_click(ctx: Ctx, value: str, inputs: dict[str, str]) -> Reply:
    await ctx.log("slacktest.socket_click", person_id=ctx.actor.id, auth=ctx.inbound.auth)
    return say("✓ Done", "replace")


async def test_socket_mode_serves_commands_and_clicks(tmp_path: Path) -> None:
    slack = await SlackHarness.start(f"sqlite:///{tmp_path / 's.db'}", slack_app_token="xapp-test")
    try:
        api = slack.api
        api.add_user("UTINA", "tina", "tina@acme.test")
        assert [c.token for c in api.called("apps.connections.open")] == ["xapp-test"]
        command = slack.http.command_payload("UTINA", "create spoc")
        await api.push(
            {
                "envelope_id": "env1",
                "type": "slash_commands",
                "payload": command,
                "accepts_response_payload": True,
            }
        )
        # The reply (through response_url) and the envelope's ack travel on different connections,
        # so either may arrive first: wait for both rather than assume an order.
        await api.wait_for(lambda: api.responses and api.socket_acks)
        assert "Created cohort *spoc*" in api.responses[0]["text"]
        assert {"envelope_id": "env1"} in api.socket_acks

        click = slack.http.block_actions_payload(
            "UTINA",
            {"type": "button", "action_id": "b1:slacktest.socket_click", "value": ""},
            action_ts=f"{time.time():.6f}",
        )
        await api.push(
            {
                "envelope_id": "env2",
                "type": "interactive",
                "payload": click,
                "accepts_response_payload": False,
            }
        )
        await api.wait_for(lambda: any(a.get("envelope_id") == "env2" for a in api.socket_acks))
        async with slack.app.store.transaction() as session:
            (row,) = (
                await session.exec(select(Activity).where(Activity.kind == "slacktest.socket_click"))
            ).all()
        assert row.data["auth"] == "slack-socket-mode"
    finally:
        await slack.stop()


async def test_a_lost_connection_shows_in_healthz(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slack_runtime, "SOCKET_WATCH_SECONDS", 0.05)
    slack = await SlackHarness.start(f"sqlite:///{tmp_path / 's.db'}", slack_app_token="xapp-test")
    try:
        assert slack.app.health.ok
        slack.api.fail("apps.connections.open", status=503, times=1000)  # Slack is down: no new URL
        for ws in list(slack.api._sockets):  # and it drops the connection
            await ws.close()
        for _ in range(250):  # up to 5 s
            if not slack.app.health.ok:
                break
            await asyncio.sleep(0.02)
        assert "connection lost" in slack.app.health.problems["slack"]
    finally:
        await slack.stop()
