"""The running Teams adapter for tests: the real aiohttp app with `POST /api/messages` (attached
through `adapters.teams.runtime.attach`, as `cohortbot run` does), the real engine on SQLite, and
the Bot Framework stand-in as the platform."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from sqlmodel import select

from adapters.teams.pacing import Pacer
from adapters.teams.runtime import attach
from bot.app.bootstrap import App, build
from bot.app.serve import run_starters, web_application
from bot.core.clock import SimulatedClock
from bot.core.delivery import Sender
from bot.core.models import Activity, Identity, OutboxMessage
from bot.core.settings import Settings
from tests.standins.bf_connector import BotConnectorStandIn, StandinCredentialsFactory
from tests.standins.teams_activities import BOT_ID

APP_ID = BOT_ID.removeprefix("28:")
APP_PASSWORD = "standin-secret"


@dataclass
class TeamsHarness:
    app: App
    client: TestClient
    connector: BotConnectorStandIn
    token: bool  # whether activities are sent with a Bot Framework token

    async def post(self, activity: dict[str, Any], *, authorization: str | None = None) -> Any:
        headers = {}
        if authorization is not None:
            headers["Authorization"] = authorization
        elif self.token:
            headers["Authorization"] = "Bearer " + self.connector.issuer.mint(APP_ID, activity["serviceUrl"])
        return await self.client.post("/api/messages", json=activity, headers=headers)

    async def deliver(self) -> int:
        return await self.app.worker.drain()

    async def rows(self, model: Any, *where: Any) -> list[Any]:
        async with self.app.store.transaction() as session:
            return list((await session.exec(select(model).where(*where))).all())

    async def activities(self, kind: str) -> list[Activity]:
        return await self.rows(Activity, Activity.kind == kind)

    async def identity(self, user_id: str) -> Identity:
        (found,) = await self.rows(Identity, Identity.user_id == user_id)
        return found

    async def outbox(self, key: str) -> OutboxMessage:
        (found,) = await self.rows(OutboxMessage, OutboxMessage.key == key)
        return found


@asynccontextmanager
async def running_teams(
    db_url: str,
    clock: SimulatedClock,
    connector: BotConnectorStandIn,
    *,
    credentials: bool = False,
    other_senders: dict[str, Sender] | None = None,
) -> AsyncIterator[TeamsHarness]:
    if credentials:
        settings = Settings(
            database_url=db_url, microsoft_app_id=APP_ID, microsoft_app_password=SecretStr(APP_PASSWORD)
        )
        options: dict[str, Any] = {
            "credentials_factory": StandinCredentialsFactory(APP_ID, APP_PASSWORD, connector),
        }
    else:
        settings = Settings(database_url=db_url, teams_local=True, microsoft_app_id="")
        options = {}
    options["openid_metadata_url"] = connector.openid_metadata_url
    # Pacing windows and Retry-After pauses follow the simulated clock, like the outbox does.
    options["pacer"] = Pacer(clock=lambda: clock.now().timestamp())
    app = await build(settings, dict(other_senders or {}), clock, schema="create")
    webapp = web_application(app)
    cleanup = await attach(app, webapp, **options)
    await run_starters(app)
    client = TestClient(TestServer(webapp))
    await client.start_server()
    try:
        yield TeamsHarness(app, client, connector, credentials)
    finally:
        await client.close()
        await cleanup()
        await app.close()
