"""Property-based: whatever headers and body reach an HTTP endpoint, it answers below 500 and the
database does not change. Each endpoint is one line of ENDPOINTS; bodies are sometimes correctly
signed (Slack) or carry a valid token (Teams, xAPI), so the checks past authentication are fuzzed
too, not only the door.

The main server is wired by the composition root itself (`attach_adapters`: Slack in HTTP mode and
the xAPI endpoint, as `cohortbot run` does); Teams runs beside it against the Bot Framework
stand-in. Everything runs on one event loop in a thread (hypothesis drives a plain function); each
example is one request. Adding the xAPI endpoint is one line:
`Endpoint("POST", "/xapi/statements", main_url, main_app, xapi_credentials)`."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import aiohttp
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from adapters.slack.app import SlackBot
from adapters.slack.runtime import SLACK_BOT
from bot.app.bootstrap import App, build
from bot.app.serve import attach_adapters, run_starters, web_application
from bot.core.clock import SimulatedClock
from bot.core.settings import Settings
from tests.conftest import START
from tests.dbsnapshot import snapshot
from tests.standins.bf_connector import BotConnectorStandIn
from tests.standins.slack_api import SlackApiStandIn
from tests.standins.slack_harness import SECRET
from tests.standins.slack_requests import sign
from tests.standins.teams_harness import APP_ID, running_teams

T = TypeVar("T")
SERVICE_URL = "https://service-url.placeholder/"  # replaced by the connector stand-in's address


XAPI_TOKEN = "fuzz-xapi-token"


@dataclass
class Running:
    """Every endpoint, served on loopback from one background event loop."""

    loop: asyncio.AbstractEventLoop
    main_url: str  # /healthz, /slack/events, /xapi/statements
    main_app: App
    slack_bot: SlackBot
    teams_url: str
    teams_service_url: str  # the connector stand-in: where Teams replies go
    teams_app: App
    teams_token: Callable[[str], str]  # a valid Bot Framework token for a service URL
    session: aiohttp.ClientSession

    def run(self, work: Awaitable[T]) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(work, self.loop)  # type: ignore[arg-type]
        return future.result(timeout=30)


# -- how to dress a fuzzed request for each endpoint (valid credentials, or none) ---------------------


def slack_credentials(running: Running, body: bytes, valid: bool) -> dict[str, str]:
    if not valid:
        return {}
    now = int(time.time())
    kind = "application/json" if body[:1] in (b"{", b"[") else "application/x-www-form-urlencoded"
    return {
        "Content-Type": kind,
        "X-Slack-Request-Timestamp": str(now),
        "X-Slack-Signature": sign(SECRET, now, body.decode("utf-8", "replace")),
    }


def teams_credentials(running: Running, body: bytes, valid: bool) -> dict[str, str]:
    if not valid:
        return {}
    try:
        service_url = str(json.loads(body).get("serviceUrl") or running.teams_service_url)
    except (ValueError, AttributeError, RecursionError):
        service_url = running.teams_service_url
    return {"Content-Type": "application/json", "Authorization": "Bearer " + running.teams_token(service_url)}


def xapi_credentials(running: Running, body: bytes, valid: bool) -> dict[str, str]:
    if not valid:
        return {}
    return {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {XAPI_TOKEN}",
        "X-Experience-API-Version": "1.0.3",
    }


def no_credentials(running: Running, body: bytes, valid: bool) -> dict[str, str]:
    return {}


def main_url(running: Running) -> str:
    return running.main_url


def main_app(running: Running) -> App:
    return running.main_app


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    url: Callable[[Running], str]  # the server serving it
    app: Callable[[Running], App]  # whose database must not change
    credentials: Callable[[Running, bytes, bool], dict[str, str]]


ENDPOINTS = [
    Endpoint("POST", "/slack/events", main_url, main_app, slack_credentials),
    Endpoint("POST", "/api/messages", lambda r: r.teams_url, lambda r: r.teams_app, teams_credentials),
    Endpoint("GET", "/healthz", main_url, main_app, no_credentials),
    Endpoint("POST", "/healthz", main_url, main_app, no_credentials),
    Endpoint("POST", "/xapi/statements", main_url, main_app, xapi_credentials),
    Endpoint("PUT", "/xapi/statements", main_url, main_app, xapi_credentials),
    Endpoint("GET", "/reports/eyJjIjoxfQ.forged/report.xlsx", main_url, main_app, no_credentials),
]

# -- what is fuzzed -----------------------------------------------------------------------------------

HEADER_NAMES = st.sampled_from(
    [
        "Content-Type",
        "X-Slack-Request-Timestamp",
        "X-Slack-Signature",
        "X-Slack-Retry-Num",
        "X-Slack-Retry-Reason",
        "Authorization",
        "Content-Encoding",
        "X-Custom",
    ]
)
HEADER_VALUES = st.one_of(
    st.sampled_from(
        [
            "abc",
            "1700000000.5",
            "-1",
            "99999999999999999999",
            "application/json",
            "application/x-www-form-urlencoded",
            "text/plain",
            "v0=",
            "v0=" + "0" * 64,
            "Bearer ",
            "Bearer abc.def.ghi",
            "gzip",
            "",
        ]
    ),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
SHAPED = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            [
                "message",
                "invoke",
                "event_callback",
                "block_actions",
                "view_submission",
                "url_verification",
                "",
            ]
        )
    },
    optional={
        "team": st.none() | st.dictionaries(st.sampled_from(["id", "domain"]), JSON_VALUES, max_size=2),
        "user": st.none() | st.dictionaries(st.sampled_from(["id", "team_id"]), JSON_VALUES, max_size=2),
        "from": st.none() | st.dictionaries(st.sampled_from(["id", "name"]), JSON_VALUES, max_size=2),
        "event": JSON_VALUES,
        "actions": JSON_VALUES,
        "view": JSON_VALUES,
        "value": JSON_VALUES,
        "conversation": JSON_VALUES,
        "text": JSON_VALUES,
        "channelId": st.just("msteams"),
        "serviceUrl": st.just(SERVICE_URL),
    },
)
BODIES = st.one_of(
    st.binary(max_size=200),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    SHAPED.map(lambda v: json.dumps(v).encode()),
    SHAPED.map(lambda v: ("payload=" + json.dumps(v)).encode()),
    st.sampled_from([b"[" * 5000 + b"]" * 5000, b'{"a": 1e999}', b"payload=%FF%FE", b"\xff\xfe", b""]),
)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    connector = BotConnectorStandIn().start()
    base: Path = tmp_path_factory.mktemp("fuzz")

    async def start() -> tuple[Running, Callable[[], Awaitable[None]]]:
        api = await SlackApiStandIn(record=False).start()
        settings = Settings(
            database_url=f"sqlite:///{base / 'main.db'}",
            slack_bot_token=SecretStr("xoxb-fuzz"),
            slack_signing_secret=SecretStr(SECRET),
            slack_api_url=api.api_url,
            xapi_token=SecretStr(XAPI_TOKEN),
        )
        app = await build(settings, {}, SimulatedClock(START), schema="create")
        webapp = web_application(app)
        cleanups = await attach_adapters(app, webapp)  # the composition root, as `cohortbot run`
        runner = web.AppRunner(webapp, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        await run_starters(app)
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        teams_context = running_teams(
            f"sqlite:///{base / 'teams.db'}", SimulatedClock(START), connector, credentials=True
        )
        teams = await teams_context.__aenter__()
        session = aiohttp.ClientSession()
        up = Running(
            loop=loop,
            main_url=f"http://127.0.0.1:{port}",
            main_app=app,
            slack_bot=webapp[SLACK_BOT],
            teams_url=str(teams.client.make_url("")).rstrip("/"),
            teams_service_url=connector.url,
            teams_app=teams.app,
            teams_token=lambda url: connector.issuer.mint(APP_ID, url),
            session=session,
        )

        async def stop() -> None:
            await session.close()
            await teams_context.__aexit__(None, None, None)
            for cleanup in cleanups:
                await cleanup()
            await runner.cleanup()
            await app.close()
            await api.stop()

        return up, stop

    up, stop = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=60)
    try:
        yield up
    finally:
        asyncio.run_coroutine_threadsafe(stop(), loop).result(timeout=60)
        connector.stop()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)


async def _send(running: Running, endpoint: Endpoint, headers: dict[str, str], body: bytes) -> int:
    app = endpoint.app(running)
    before = await snapshot(app)
    async with running.session.request(
        endpoint.method, endpoint.url(running) + endpoint.path, data=body, headers=headers
    ) as response:
        status = response.status
    if running.slack_bot.tasks:
        await running.slack_bot.settle()
    after = await snapshot(app)
    assert after == before, f"{endpoint.path} changed the database"
    return status


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[f"{e.method} {e.path}" for e in ENDPOINTS])
@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    headers=st.dictionaries(HEADER_NAMES, HEADER_VALUES, max_size=5),
    body=BODIES,
    with_credentials=st.booleans(),
)
def test_malformed_requests_get_a_4xx_and_change_nothing(
    running: Running, endpoint: Endpoint, headers: dict[str, str], body: bytes, with_credentials: bool
) -> None:
    body = body.replace(SERVICE_URL.encode(), running.teams_service_url.encode())
    headers = {**headers, **endpoint.credentials(running, body, with_credentials)}
    status = running.run(_send(running, endpoint, headers, body))
    assert status < 500, (endpoint.path, headers, body[:200])
