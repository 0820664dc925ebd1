"""Slack in the long-running process: one Web API client on one shared aiohttp session, the Bolt
app behind `POST /slack/events` (HTTP mode) or a Socket Mode connection, the OAuth install pages
when cohortbot is distributed to several workspaces, and the outbox sender.

Nothing here reaches Slack while the process starts: the token check and the Socket Mode
connection run as a starter once the HTTP server is up, retried with backoff while Slack is
unreachable (one log line per attempt, `/healthz` 503 with the reason). A refused token or a
missing scope stops the process with one line saying what to fix.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import installations
from adapters.slack.app import SlackBot
from adapters.slack.directory import SlackDirectory
from adapters.slack.guard import SlackDoor
from adapters.slack.pacing import Pacer
from adapters.slack.sender import SlackSender
from adapters.slack.token_check import SlackUnreachable, required_scopes, verify_bot_token
from bot.core.errors import PAYLOAD_SHAPE_ERRORS, ConfigurationError
from bot.core.health import keep_trying
from bot.core.runtime import App
from bot.core.settings import Settings

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
SLACK_BOT = web.AppKey("slack", SlackBot)  # the running bot, for tests and benchmarks
Cleanup = Callable[[], Awaitable[None]]
HEALTH_COMPONENT = "slack"
SOCKET_WATCH_SECONDS = 5.0  # how often /healthz learns whether Socket Mode is still connected


def web_client(settings: Settings, session: aiohttp.ClientSession) -> AsyncWebClient:
    """The Web API client: every call reuses `session`'s connections. No rate-limit retry handler:
    sends are paced here and a 429 reschedules the outbox row (Retry-After) instead of
    holding a delivery slot asleep; slack_sdk's default retries connection errors.
    With OAuth and no single bot token, it has no token: each workspace's comes from its install."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return AsyncWebClient(
        token=token, base_url=settings.slack_api_url, session=session, timeout=platform_timeout(settings)
    )


def platform_timeout(settings: Settings) -> int:
    """slack_sdk takes whole seconds (and passes them to aiohttp as the total per call)."""
    return max(1, round(settings.platform_timeout))


def http_session(settings: Settings) -> aiohttp.ClientSession:
    """The shared session; its own timeout bounds any call that does not set one (aiohttp's
    default is 300 s), connecting included."""
    limit = settings.platform_timeout
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=limit, sock_connect=limit))


def pacer(app: App) -> Pacer:
    s = app.settings
    return Pacer(s.slack_channel_interval, s.slack_workspace_rate, s.slack_workspace_burst, budget=app.budget)


def check_settings(settings: Settings) -> None:
    """The Slack settings make one working mode, or a `ConfigurationError` says what is missing."""
    if settings.slack_oauth_enabled:
        if settings.slack_signing_secret is None and settings.slack_app_token is None:
            raise ConfigurationError(
                "Slack distribution (SLACK_CLIENT_ID) also needs SLACK_SIGNING_SECRET (HTTP mode) "
                "or SLACK_APP_TOKEN (Socket Mode)"
            )
        return
    if bool(settings.slack_client_id) != (settings.slack_client_secret is not None):
        raise ConfigurationError(
            "Slack distribution needs both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET "
            "(Basic Information page of your Slack app)"
        )
    if settings.slack_bot_token is None or (
        settings.slack_app_token is None and settings.slack_signing_secret is None
    ):
        raise ConfigurationError(
            "Slack needs SLACK_BOT_TOKEN and either SLACK_APP_TOKEN (Socket Mode) "
            "or SLACK_SIGNING_SECRET (HTTP mode)."
        )


def oauth_settings(app: App) -> AsyncOAuthSettings:
    """Bolt's own OAuth flow, with installations and install states in cohortbot's database."""
    settings = app.settings
    assert settings.slack_client_secret is not None
    return AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=sorted(required_scopes()),
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        authorization_url=settings.slack_oauth_url,
        installation_store=installations.installation_store(settings.slack_client_id, app.store.engine),
        state_store=installations.state_store(app.store.engine),
        logger=logging.getLogger("adapters.slack.oauth"),
    )


async def attach(app: App, webapp: web.Application) -> Cleanup:
    """Wire Slack into the process; returns the cleanup to run at shutdown."""
    settings = app.settings
    check_settings(settings)
    session = http_session(settings)
    client = web_client(settings, session)
    socket_mode = settings.slack_app_token is not None
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    oauth = oauth_settings(app) if settings.slack_oauth_enabled else None
    clients = installations.WorkspaceClients(
        client,
        session,
        oauth.installation_store if oauth is not None else None,  # type: ignore[arg-type]
    )
    bot = SlackBot(
        app,
        client,
        session,
        signing_secret=secret,
        socket_mode=socket_mode,
        clients=clients,
        oauth_settings=oauth,
    )
    app.worker.senders = {**app.worker.senders, "slack": SlackSender(client, pacer(app), clients)}
    app.directories["slack"] = SlackDirectory(client)
    webapp[SLACK_BOT] = bot

    if secret is not None and not socket_mode:
        door = SlackDoor(secret)

        async def events(request: web.Request) -> web.Response:
            refusal = await door.refuse(request)
            if refusal is not None:
                return refusal
            try:
                response = await bot.bolt.async_dispatch(await to_bolt_request(request))
            except SIGNED_BUT_UNREADABLE as e:
                log.warning("Slack payload Bolt cannot read (%s: %s)", type(e).__name__, e)
                return web.Response(status=400, text="malformed Slack payload")
            return await to_aiohttp_response(response)

        webapp.router.add_post(EVENTS_PATH, events)
        log.info("Slack: HTTP mode on %s", EVENTS_PATH)
    if oauth is not None:
        add_install_pages(webapp, bot)

    socket_handler = None
    if socket_mode:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        assert settings.slack_app_token is not None
        socket_handler = AsyncSocketModeHandler(
            bot.bolt,
            settings.slack_app_token.get_secret_value(),
            web_client=client,
            logger=socket_mode_logger(),
        )

    watcher: list[asyncio.Task[None]] = []

    async def start() -> None:
        await connect(app, client, socket_handler, single_token=oauth is None)
        if socket_handler is not None:
            watcher.append(asyncio.create_task(watch_socket(app, socket_handler)))

    app.health.add_starter(HEALTH_COMPONENT, start)

    async def cleanup() -> None:
        for task in watcher:
            task.cancel()
        if socket_handler is not None:
            await socket_handler.close_async()
        await bot.settle()
        await session.close()

    return cleanup


# What Bolt raises reading a signed body that is not what Slack sends: not JSON, a list, nested past
# the parser's depth, or a shape its listeners cannot read.
SIGNED_BUT_UNREADABLE: tuple[type[Exception], ...] = (*PAYLOAD_SHAPE_ERRORS, RecursionError)


class OneLineErrors(logging.Filter):
    """slack_sdk logs every failed reconnection with its traceback (60 lines every 10 s): keep the
    message, drop the traceback unless debugging."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and not logging.getLogger().isEnabledFor(logging.DEBUG):
            record.exc_info = None
            record.exc_text = None
        return True


def socket_mode_logger() -> logging.Logger:
    logger = logging.getLogger("adapters.slack.socket_mode")
    if not any(isinstance(f, OneLineErrors) for f in logger.filters):
        logger.addFilter(OneLineErrors())
    return logger


def add_install_pages(webapp: web.Application, bot: SlackBot) -> None:
    """`GET /slack/install` (the Add to Slack page) and `GET /slack/oauth_redirect` (Slack sends
    the installer back here with a code, exchanged for the workspace's token): Bolt's own flow."""
    flow = bot.bolt.oauth_flow
    assert flow is not None

    async def install(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await flow.handle_installation(await to_bolt_request(request)))

    async def redirect(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))

    webapp.router.add_get(INSTALL_PATH, install)
    webapp.router.add_get(REDIRECT_PATH, redirect)
    log.info("Slack: install pages at %s", INSTALL_PATH)


async def connect(app: App, client: AsyncWebClient, socket_handler: Any, *, single_token: bool) -> None:
    """Check the bot token, then open Socket Mode; while Slack cannot be reached, retry with
    backoff. Returns once connected; raises `ConfigurationError` when Slack refuses."""

    async def attempt() -> None:
        if single_token:
            info = await verify_bot_token(client)
            log.info("Slack: token of team %s accepted", info.team_id)
        if socket_handler is not None:
            # The URL just opened is handed over, so slack_sdk does not open a second one.
            socket_connection = socket_handler.client
            socket_connection.wss_uri = await open_connection(client, socket_handler.app_token)
            await socket_handler.connect_async()
            log.info("Slack: Socket Mode connected")

    await keep_trying(app.health, HEALTH_COMPONENT, attempt, transient=(SlackUnreachable,), what="Slack")


async def watch_socket(app: App, socket_handler: Any) -> None:
    """Once connected, slack_sdk reconnects by itself when the connection drops: keep `/healthz`
    saying so meanwhile (503 while disconnected, 200 once back)."""
    connection = socket_handler.client
    while True:
        await asyncio.sleep(SOCKET_WATCH_SECONDS)
        if await connection.is_connected():
            app.health.ready(HEALTH_COMPONENT)
        else:
            app.health.not_ready(HEALTH_COMPONENT, "Socket Mode connection lost; reconnecting")


async def open_connection(client: AsyncWebClient, app_token: str) -> str:
    """`apps.connections.open` with the app-level token: the Socket Mode URL, or why not."""
    try:
        response = await client.apps_connections_open(app_token=app_token)
    except SlackApiError as e:
        status = getattr(e.response, "status_code", 200)
        if status == 429 or status >= 500:
            raise SlackUnreachable(f"Slack answered {status}") from None
        code = e.response.get("error", "unknown_error")
        raise ConfigurationError(
            f"Slack refused SLACK_APP_TOKEN ({code}): create an app-level token (xapp-...) with the "
            "connections:write scope under Basic Information, and turn Socket Mode on"
        ) from None
    except (aiohttp.ClientError, TimeoutError, OSError, SlackClientError) as e:
        raise SlackUnreachable(f"{type(e).__name__}: {e}") from None
    return str(response["url"])
