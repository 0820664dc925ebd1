"""Slack in the long-running process: one Web API client on one shared aiohttp session, the Bolt
app behind `POST /slack/events` (HTTP mode) or a Socket Mode connection, and the outbox sender."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.app import SlackBot
from adapters.slack.pacing import Pacer
from adapters.slack.sender import SlackSender
from bot.core.errors import ConfigurationError
from bot.core.runtime import App

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
SLACK_BOT = web.AppKey("slack", SlackBot)  # the running bot, for tests and benchmarks
Cleanup = Callable[[], Awaitable[None]]


def web_client(app: App, session: aiohttp.ClientSession) -> AsyncWebClient:
    """The Web API client: every call reuses `session`'s connections. No rate-limit retry handler:
    sends are paced here and a 429 reschedules the outbox row (Retry-After) instead of
    holding a delivery slot asleep; slack_sdk's default retries connection errors."""
    settings = app.settings
    assert settings.slack_bot_token is not None
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url, session=session
    )


def pacer(app: App) -> Pacer:
    s = app.settings
    return Pacer(s.slack_channel_interval, s.slack_workspace_rate, s.slack_workspace_burst, budget=app.budget)


async def attach(app: App, webapp: web.Application) -> Cleanup:
    """Wire Slack into the process; returns the cleanup to run at shutdown."""
    settings = app.settings
    if settings.slack_bot_token is None or (
        settings.slack_app_token is None and settings.slack_signing_secret is None
    ):
        raise ConfigurationError(
            "Slack needs SLACK_BOT_TOKEN and either SLACK_APP_TOKEN (Socket Mode) "
            "or SLACK_SIGNING_SECRET (HTTP mode)."
        )
    session = aiohttp.ClientSession()
    client = web_client(app, session)
    socket_mode = settings.slack_app_token is not None
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    bot = SlackBot(app, client, session, signing_secret=secret, socket_mode=socket_mode)
    app.worker.senders = {**app.worker.senders, "slack": SlackSender(client, pacer(app))}
    webapp[SLACK_BOT] = bot

    socket_handler = None
    if socket_mode:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        assert settings.slack_app_token is not None
        socket_handler = AsyncSocketModeHandler(
            bot.bolt, settings.slack_app_token.get_secret_value(), web_client=client
        )
        await socket_handler.connect_async()
        log.info("Slack: Socket Mode connected")
    elif secret is not None:

        async def events(request: web.Request) -> web.Response:
            return await to_aiohttp_response(await bot.bolt.async_dispatch(await to_bolt_request(request)))

        webapp.router.add_post(EVENTS_PATH, events)
        log.info("Slack: HTTP mode on %s", EVENTS_PATH)

    async def cleanup() -> None:
        if socket_handler is not None:
            await socket_handler.close_async()
        await bot.settle()
        await session.close()

    return cleanup
