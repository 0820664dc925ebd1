"""Wiring of the Teams adapter into the running app: `POST /api/messages` on the shared aiohttp
server, the outbox Sender for `teams`, and the refusal to run unauthenticated unless asked to."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, cast

from aiohttp import web
from botbuilder.core import serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from botframework.connector.auth import ServiceClientCredentialsFactory
from msrest.serialization import Model

from adapters.teams.auth import CachingBotFrameworkAuthentication, Unauthorized, install_key_fetcher
from adapters.teams.conversations import ConversationBook
from adapters.teams.handler import CohortTeamsBot
from adapters.teams.pacing import Pacer
from adapters.teams.roster import TeamsRoster
from adapters.teams.sender import TeamsSender
from adapters.teams.token_check import TeamsUnreachable, fetch_bot_token
from bot.core.errors import PAYLOAD_SHAPE_ERRORS, ConfigurationError
from bot.core.health import keep_trying
from bot.core.runtime import App

log = logging.getLogger(__name__)

ROUTE = "/api/messages"
# botbuilder's connector runs `requests` in the loop's default executor: with ~100 ms of round
# trip to Teams, 6 threads would cap sends near 60/s, so give it room.
CONNECTOR_THREADS = 32

LOCAL_MODE_WARNING = """
************************************************************************************
*  TEAMS LOCAL MODE: MICROSOFT_APP_ID / MICROSOFT_APP_PASSWORD are not set.         *
*  /api/messages accepts activities WITHOUT authentication. Use this only with the  *
*  Bot Framework Emulator or in tests, never where the port can be reached.         *
************************************************************************************"""


class TeamsNotConfigured(ConfigurationError):
    """Teams was asked for without credentials and without explicit local mode."""


@dataclass
class TeamsRuntime:
    auth: CachingBotFrameworkAuthentication
    adapter: CloudAdapter
    bot: CohortTeamsBot
    sender: TeamsSender
    book: ConversationBook
    roster: TeamsRoster

    async def handle(self, request: web.Request) -> web.Response:
        """`POST /api/messages`: authenticate, run the turn, answer 201 or the invoke response."""
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.Response(status=415, text="expected application/json")
        try:
            data = await request.json()
            activity = Activity().deserialize(data) if isinstance(data, dict) else None
        except Exception:
            activity = None
        if activity is None:
            return web.Response(status=400, text="not a Bot Framework activity")
        if not isinstance(activity.type, str) or not activity.type:
            return web.Response(status=400, text="activity without a type")
        problem = shape_problem(data)
        if problem is not None:
            return web.Response(status=400, text=f"malformed activity: {problem}")
        try:
            authenticated = await self.auth.authenticate(activity, request.headers.get("Authorization", ""))
        except Unauthorized as e:
            log.warning("refused a Teams activity: %s", e)
            return web.Response(status=401, text="unauthorized")
        if activity.type in ("message", "invoke") and not (
            activity.from_property and activity.from_property.id
        ):
            return web.Response(status=400, text="activity without a sender (from.id)")
        try:
            invoke = await self.adapter.process_activity(authenticated, activity, self.bot.on_turn)
        except PAYLOAD_SHAPE_ERRORS:
            # A field missing or of another type than the schema says: the sender's mistake.
            log.warning("Teams activity %s of a shape we cannot read", activity.id, exc_info=True)
            return web.Response(status=400, text="malformed activity")
        except Exception:
            log.exception("Teams activity %s failed", activity.id)
            return web.Response(status=500)
        if invoke is None:
            return web.Response(status=201)
        # botbuilder 4.17.1 serializes invoke bodies twice (and crashes): write it ourselves.
        body = serializer_helper(invoke.body) if isinstance(invoke.body, Model) else invoke.body
        return web.json_response(body, status=int(invoke.status or 200))


# Fields an activity carries as text (the Bot Framework schema): msrest would quietly turn a list
# or a number there into its string ("[]"), and the turn would run on it.
TEXT_FIELDS = ("id", "name", "text", "locale", "replyToId", "serviceUrl", "channelId")
ACCOUNT_FIELDS = ("from", "recipient")


def shape_problem(data: dict[str, Any]) -> str | None:
    """What makes a JSON object not an activity Teams sends, before anything reads it; None if
    nothing. Unknown fields are fine (the schema grows); known ones must have their type."""
    for field in TEXT_FIELDS:
        if data.get(field) is not None and not isinstance(data[field], str):
            return f"{field} is not a string"
    for field in ACCOUNT_FIELDS:
        account = data.get(field)
        if account is None:
            continue
        if not isinstance(account, dict):
            return f"{field} is not an account"
        if any(account.get(k) is not None and not isinstance(account[k], str) for k in ("id", "name")):
            return f"{field}.id and {field}.name must be strings"
    if data.get("conversation") is not None and not isinstance(data["conversation"], dict):
        return "conversation is not an object"
    if data.get("type") == "invoke" and not data.get("name"):
        return "an invoke without a name"
    return None


def build_runtime(
    app: App,
    *,
    credentials_factory: ServiceClientCredentialsFactory | None = None,
    openid_metadata_url: str | None = None,
    pacer: Pacer | None = None,
) -> TeamsRuntime:
    """The Teams adapter for `app`; refuses to build without credentials unless TEAMS_LOCAL=1."""
    settings = app.settings
    has_credentials = bool(settings.microsoft_app_id and settings.microsoft_app_password)
    if not has_credentials and not settings.teams_local:
        raise TeamsNotConfigured(
            "Teams needs MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD (and MICROSOFT_APP_TENANT_ID with "
            "MICROSOFT_APP_TYPE=SingleTenant for a single-tenant bot). TEAMS_LOCAL=1 runs it without "
            "authentication, for the Bot Framework Emulator or tests only."
        )
    if not has_credentials:
        log.warning(LOCAL_MODE_WARNING)
    metadata_url = install_key_fetcher(openid_metadata_url or settings.microsoft_openid_metadata_url)
    auth = CachingBotFrameworkAuthentication(
        settings,
        credentials_factory=credentials_factory,
        request_timeout=settings.platform_timeout,
        openid_metadata_url=metadata_url,
    )
    adapter = CloudAdapter(auth)
    book = ConversationBook(app.store, app.clock, settings)
    sender = TeamsSender(adapter, settings.microsoft_app_id, book, pacer or Pacer(budget=app.budget))
    roster = TeamsRoster(
        adapter, settings.microsoft_app_id, book, sender.pacer, app.store, app.clock, settings
    )
    auth_kind = "bf-jwt" if has_credentials else "teams-local"
    bot = CohortTeamsBot(app.engine, book, auth_kind=auth_kind, roster=roster)
    return TeamsRuntime(auth=auth, adapter=adapter, bot=bot, sender=sender, book=book, roster=roster)


async def attach(app: App, webapp: web.Application, **options: Any) -> Callable[[], Awaitable[None]]:
    """Add `POST /api/messages` to the shared server and register the `teams` outbox sender."""
    runtime = build_runtime(app, **options)
    webapp.router.add_post(ROUTE, runtime.handle)
    cast(MutableMapping[str, Any], app.worker.senders)["teams"] = runtime.sender
    app.directories["teams"] = runtime.roster
    executor = ThreadPoolExecutor(max_workers=CONNECTOR_THREADS, thread_name_prefix="teams-connector")
    asyncio.get_running_loop().set_default_executor(executor)
    refresher = asyncio.create_task(runtime.auth.keep_tokens_fresh())
    log.info("Teams endpoint at %s", ROUTE)
    if not runtime.auth.local:
        factory = options.get("credentials_factory")

        async def start() -> None:
            # Wrong credentials stop the process at start, not at the first send hours later.
            await keep_trying(
                app.health,
                "teams",
                lambda: fetch_bot_token(app.settings, factory),
                transient=(TeamsUnreachable,),
                what="Microsoft's login service",
            )

        app.health.add_starter("teams", start)

    async def cleanup() -> None:
        refresher.cancel()
        await runtime.bot.settle(within=5.0)
        executor.shutdown(wait=False, cancel_futures=True)

    return cleanup
