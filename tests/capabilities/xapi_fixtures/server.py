"""The xAPI tests' server: the real app with a cohort and an xAPI token, behind the composition
root's own HTTP wiring (as `cohortbot run` serves it), reached through aiohttp's test client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp.test_utils import TestClient, TestServer

from bot.app.bootstrap import App, build
from bot.app.serve import attach_adapters, web_application
from bot.core.clock import SimulatedClock
from bot.core.settings import Settings
from tests.capabilities.completion_fixtures import make_cohort
from tests.conftest import Chat, RecordingSender


@asynccontextmanager
async def xapi_app(db_url: str, clock: SimulatedClock, token: str) -> AsyncIterator[App]:
    """An app on `db_url` that takes statements with `token`, holding the cohort the tests use."""
    built = await build(
        Settings(database_url=db_url, xapi_token=token),
        {"console": RecordingSender()},
        clock,
        schema="create",
    )
    await make_cohort(Chat(built))
    try:
        yield built
    finally:
        await built.close()


@asynccontextmanager
async def http_client(app: App) -> AsyncIterator[TestClient]:
    webapp = web_application(app)
    await attach_adapters(app, webapp)
    async with TestClient(TestServer(webapp, host="127.0.0.1")) as client:
        yield client
