"""Slack distribution end to end against the stand-in: a workspace installs cohortbot through
Bolt's OAuth flow (/slack/install, Slack's consent, /slack/oauth_redirect), its token is stored in
cohortbot's database, and that workspace's token is used to answer and to deliver. An org-wide
install on Enterprise Grid sends payloads with `team: null`: they are handled too."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp import web
from pydantic import SecretStr
from sqlmodel import select

from adapters.slack.app import SlackBot
from adapters.slack.runtime import SLACK_BOT, attach
from bot.app.bootstrap import App, build
from bot.app.serve import run_starters, web_application
from bot.core.messages import Message, Text
from bot.core.models import Identity, OutboxMessage
from bot.core.outbox import enqueue_dm
from tests.standins.slack_api import SlackApiStandIn
from tests.standins.slack_harness import SECRET
from tests.standins.slack_requests import SlackRequests


@dataclass
class Distributed:
    app: App
    api: SlackApiStandIn
    url: str
    app_bot: SlackBot

    def requests(self, team_id: str) -> SlackRequests:
        return SlackRequests(f"{self.url}/slack/events", SECRET, self.api.base_url, team_id=team_id)

    async def install(self, code: str) -> tuple[int, str]:
        """An admin opens the install page, approves in Slack, and Slack sends them back."""
        async with aiohttp.ClientSession() as browser:
            async with browser.get(f"{self.url}/slack/install") as page:
                assert page.status == 200
                html = await page.text()
                cookie = page.headers["Set-Cookie"].split(";")[0]
            authorize = re.search(r'href="([^"]+/oauth/v2/authorize[^"]+)"', html)
            assert authorize is not None, html
            query = parse_qs(urlparse(authorize.group(1).replace("&amp;", "&")).query)
            assert query["client_id"] == [self.api.client_id]
            assert set(query["scope"][0].split(",")) >= {"chat:write", "commands", "users:read.email"}
            redirect = f"{self.url}/slack/oauth_redirect?code={code}&state={query['state'][0]}"
            async with browser.get(redirect, headers={"Cookie": cookie}) as done:
                return done.status, await done.text()

    async def bot_rows(self) -> list[Any]:
        async with self.app.store.engine.connect() as conn:
            return list(
                (
                    await conn.execute(
                        sa.text(
                            "SELECT team_id, enterprise_id, bot_token, is_enterprise_install FROM slack_bots"
                        )
                    )
                ).all()
            )

    async def dm(self, workspace: str, user_id: str, text: str) -> None:
        """Queue a DM to a person known by their Slack identity, and deliver the outbox."""
        async with self.app.store.transaction() as session:
            identity = (
                await session.exec(
                    select(Identity).where(Identity.workspace == workspace, Identity.user_id == user_id)
                )
            ).one()
            await enqueue_dm(
                session,
                identity.person_id,
                Message(summary=text, blocks=(Text(text),)),
                key=f"test:{workspace}:{user_id}",
                now=self.app.clock.now(),
            )
        await self.app.worker.drain()


@pytest.fixture
async def distributed(tmp_path: Path) -> AsyncIterator[Distributed]:
    api = await SlackApiStandIn().start()
    api.add_user("U2ADMIN", "tina", "tina@client2.test")
    api.add_user("W9ORG", "olga", "olga@org.test")
    settings = {
        "database_url": f"sqlite:///{tmp_path / 'bot.db'}",
        "slack_client_id": api.client_id,
        "slack_client_secret": SecretStr(api.client_secret),
        "slack_signing_secret": SecretStr(SECRET),
        "slack_api_url": api.api_url,
        "slack_oauth_url": f"{api.base_url}/oauth/v2/authorize",
        "slack_channel_interval": 0.0,
        "slack_workspace_rate": 0.0,
    }
    from bot.core.settings import Settings

    app = await build(Settings(_env_file=None, **settings), {}, schema="migrate")  # type: ignore[call-arg]
    webapp = web_application(app)
    cleanup = await attach(app, webapp)
    runner = web.AppRunner(webapp, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    await run_starters(app)
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield Distributed(app, api, f"http://127.0.0.1:{port}", webapp[SLACK_BOT])
    finally:
        await webapp[SLACK_BOT].settle()
        await cleanup()
        await runner.cleanup()
        await app.close()
        await api.stop()


async def test_a_workspace_installs_and_gets_served_with_its_own_token(distributed: Distributed) -> None:
    api = distributed.api
    api.add_install("code-client2", team_id="T2", token="xoxb-client2")
    status, page = await distributed.install("code-client2")
    assert status == 200, page
    rows = await distributed.bot_rows()
    assert [(r.team_id, r.enterprise_id, r.bot_token) for r in rows] == [("T2", None, "xoxb-client2")]
    assert api.called("oauth.v2.access")

    http = distributed.requests("T2")
    try:
        reply_status, _ = await http.send(http.command("U2ADMIN", "create spoc"))
        assert reply_status == 200
        await api.wait_for(lambda: api.responses)
    finally:
        await http.close()
    assert "Created cohort *spoc*" in api.responses[-1]["text"]
    assert {c.token for c in api.called("users.info")} == {"xoxb-client2"}

    await distributed.dm("T2", "U2ADMIN", "Welcome to spoc")
    [post] = api.called("chat.postMessage")
    assert post.token == "xoxb-client2" and post.args["channel"] == "U2ADMIN"


async def test_a_workspace_not_installed_is_refused_and_nothing_is_sent(distributed: Distributed) -> None:
    http = distributed.requests("T404")
    try:
        status, _ = await http.send(http.command("U2ADMIN", "create spoc"))
    finally:
        await http.close()
    # Bolt acks a command from a workspace without an installation, asks to reinstall, stops there.
    assert status == 200
    await distributed.api.wait_for(lambda: distributed.api.responses)
    assert "reinstall this app" in distributed.api.responses[0]["text"]
    await distributed.app_bot.settle()
    assert not distributed.api.called("users.info")
    async with distributed.app.store.transaction() as session:
        assert (await session.exec(select(Identity))).all() == []


async def test_an_install_link_without_its_state_is_refused(distributed: Distributed) -> None:
    distributed.api.add_install("code-x", team_id="T3", token="xoxb-t3")
    forged = f"{distributed.url}/slack/oauth_redirect?code=code-x&state=forged"
    async with aiohttp.ClientSession() as browser, browser.get(forged) as page:
        assert page.status == 400
    assert await distributed.bot_rows() == []


async def test_an_org_wide_install_handles_payloads_without_a_team(distributed: Distributed) -> None:
    api = distributed.api
    api.add_install("code-org", team_id=None, enterprise_id="E1", token="xoxb-org")
    status, _ = await distributed.install("code-org")
    assert status == 200
    [row] = await distributed.bot_rows()
    assert (row.team_id, row.enterprise_id, row.bot_token, bool(row.is_enterprise_install)) == (
        None,
        "E1",
        "xoxb-org",
        True,
    )

    http = distributed.requests("T9")
    try:
        # A slash command from one of the organisation's workspaces.
        command = http.command_payload("W9ORG", "create org-course")
        command.update(enterprise_id="E1", is_enterprise_install="true")
        status, _ = await http.send(http.signed(urlencode(command), "application/x-www-form-urlencoded"))
        assert status == 200
        await api.wait_for(lambda: api.responses)
        assert "Created cohort *org-course*" in api.responses[-1]["text"]
        # A click whose payload carries `team: null` and the enterprise, as org-wide installs send.
        click = http.block_actions_payload(
            "W9ORG", {"action_id": "b1:help.show", "value": "", "type": "button"}
        )
        click.update(team=None, enterprise={"id": "E1", "name": "Org"}, is_enterprise_install=True)
        click["user"]["team_id"] = "T9"
        status, _ = await http.send(http.interaction(click))
        assert status == 200
    finally:
        await http.close()
    bot = distributed.app_bot
    await bot.settle()
    assert len(api.responses) == 2  # the click was answered through its response_url
    assert {c.token for c in api.called("users.info")} == {"xoxb-org"}
    await distributed.dm("E1", "W9ORG", "Welcome to the organisation's course")
    [post] = api.called("chat.postMessage")
    assert post.token == "xoxb-org"


async def test_an_uninstalled_workspace_is_forgotten(distributed: Distributed) -> None:
    api = distributed.api
    api.add_install("code-gone", team_id="T7", token="xoxb-t7")
    assert (await distributed.install("code-gone"))[0] == 200
    http = distributed.requests("T7")
    try:
        await http.send(http.command("U2ADMIN", "list"))
        await api.wait_for(lambda: api.responses)
        status, _ = await http.send(http.event({"type": "app_uninstalled"}, event_id="Ev-gone"))
        assert status == 200
    finally:
        await http.close()
    await distributed.app_bot.settle()
    assert await distributed.bot_rows() == []
    await distributed.dm("T7", "U2ADMIN", "Anyone there?")
    assert not api.called("chat.postMessage")
    async with distributed.app.store.transaction() as session:
        [row] = (await session.exec(select(OutboxMessage))).all()
    assert row.status == "failed" and "not installed" in (row.last_error or "")
