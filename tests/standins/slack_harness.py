"""cohortbot's real Slack wiring on loopback: the engine on SQLite, the Bolt app behind
`POST /slack/events` of the shared aiohttp server, and its Web API client talking to the stand-in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from adapters.slack.app import SlackBot
from adapters.slack.runtime import SLACK_BOT, attach
from bot.app.bootstrap import App, build
from bot.app.serve import Cleanup, run_starters, web_application
from bot.core.clock import Clock
from bot.core.settings import Settings
from tests.standins.slack_api import SlackApiStandIn
from tests.standins.slack_requests import SlackRequests

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@dataclass
class SlackHarness:
    app: App
    api: SlackApiStandIn
    http: SlackRequests
    runner: web.AppRunner
    cleanup: Cleanup
    bot: SlackBot
    url: str

    @classmethod
    async def start(
        cls, db_url: str, clock: Clock | None = None, *, schema: str = "create", **settings: Any
    ) -> SlackHarness:
        api = await SlackApiStandIn().start()
        # Pacing off unless a test asks for it (the pacing tests give the real figures).
        pacing = {"slack_channel_interval": 0.0, "slack_workspace_rate": 0.0}
        config = Settings(
            database_url=db_url,
            slack_bot_token="xoxb-test-token",
            slack_signing_secret=SECRET,
            slack_api_url=api.api_url,
            **{**pacing, **settings},
        )
        app = await build(config, {}, clock, schema=schema)
        webapp = web_application(app)
        cleanup = await attach(app, webapp)
        runner = web.AppRunner(webapp, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        await run_starters(app)
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        url = f"http://127.0.0.1:{port}"
        http = SlackRequests(f"{url}/slack/events", SECRET, api.base_url, team_id=api.team_id)
        return cls(app, api, http, runner, cleanup, webapp[SLACK_BOT], url)

    async def stop(self) -> None:
        await self.http.close()
        await self.cleanup()
        await self.runner.cleanup()
        await self.app.close()
        await self.api.stop()

    async def command(self, user: str, text: str, **where: str) -> dict[str, Any]:
        """Type `/cohort <text>`; returns what the app answered on the command's response_url."""
        request = self.http.command(user, text, **where)
        status, _ = await self.http.send(request)
        assert status == 200
        await self.bot.settle()
        url_name = request.body.split("response%2Fcmd")[1].split("&")[0]
        answers = [r for r in self.api.responses if r["_url"] == f"cmd{url_name}"]
        assert answers, f"no answer to /cohort {text}"
        return answers[-1]
