"""`POST /xapi/statements` on a real aiohttp server on loopback, wired as `cohortbot run` wires it."""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlmodel import select

from bot.app.bootstrap import App, build
from bot.app.serve import attach_adapters, web_application
from bot.capabilities.completion.models import XapiStatement
from bot.core.clock import SimulatedClock
from bot.core.settings import Settings
from tests.capabilities.completion_fixtures import COHORT, completed_log, completions
from tests.capabilities.xapi_fixtures.server import http_client
from tests.capabilities.xapi_fixtures.server import xapi_app as serving_xapi
from tests.conftest import Chat

TOKEN = "s3cret-token"
ADL = "http://adlnet.gov/expapi/verbs/"
ID1 = "3b1f8f3e-2f5a-4c55-9a0e-6f7d7f4b9a01"
ID2 = "3b1f8f3e-2f5a-4c55-9a0e-6f7d7f4b9a02"


def statement(
    verb: str = "passed", who: str = "alice@example.com", module: str = "module-1", **extra: Any
) -> dict[str, Any]:
    return {
        "id": ID1,
        "actor": {"mbox": f"mailto:{who}", "objectType": "Agent"},
        "verb": {"id": ADL + verb, "display": {"en-US": verb}},
        "object": {"id": f"https://lms.example.com/cohorts/{COHORT}/modules/{module}"},
        "result": {"score": {"scaled": 0.9}},
        "timestamp": "2027-03-01T07:30:00+01:00",
        **extra,
    }


@pytest.fixture
async def xapi_app(db_url: str, clock: SimulatedClock) -> AsyncIterator[App]:
    async with serving_xapi(db_url, clock, TOKEN) as app:
        yield app


@pytest.fixture
async def client(xapi_app: App) -> AsyncIterator[TestClient]:
    async with http_client(xapi_app) as test_client:
        yield test_client


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-Experience-API-Version": "1.0.3"}


async def stored(app: App) -> list[XapiStatement]:
    async with app.store.transaction() as session:
        return list((await session.exec(select(XapiStatement))).all())


async def test_a_passed_statement_records_the_completion_with_its_score(
    client: TestClient, xapi_app: App
) -> None:
    response = await client.post("/xapi/statements", json=statement(), headers=bearer())
    assert response.status == 200
    assert await response.json() == [ID1]
    assert response.headers["X-Experience-API-Version"] == "1.0.3"
    [row] = await completions(xapi_app)
    assert (row.status, row.score, row.source) == ("passed", 90.0, "xapi")
    assert row.at.isoformat() == "2027-03-01T06:30:00+00:00"
    [entry] = await completed_log(xapi_app)
    assert entry == {
        "module_id": row.module_id,
        "status": "passed",
        "score": 90.0,
        "on_time": True,
        "source": "xapi",
    }
    [evidence] = await stored(xapi_app)
    assert (evidence.outcome, evidence.raw["actor"]["mbox"]) == ("recorded", "mailto:alice@example.com")


async def test_a_bad_or_missing_token_is_refused_with_401_and_nothing_is_stored(
    client: TestClient, xapi_app: App
) -> None:
    for headers in ({}, bearer("wrong"), {"Authorization": "Token " + TOKEN}):
        response = await client.post("/xapi/statements", json=statement(), headers=headers)
        assert response.status == 401
        assert "Bearer" in response.headers["WWW-Authenticate"]
    assert await stored(xapi_app) == []
    assert await completions(xapi_app) == []


async def test_basic_auth_with_the_token_as_password_is_accepted(client: TestClient) -> None:
    basic = base64.b64encode(f"lms:{TOKEN}".encode()).decode()
    response = await client.post(
        "/xapi/statements", json=statement(), headers={**bearer(), "Authorization": f"Basic {basic}"}
    )
    assert response.status == 200
    wrong = base64.b64encode(b"lms:nope").decode()
    response = await client.post(
        "/xapi/statements", json=statement(), headers={**bearer(), "Authorization": f"Basic {wrong}"}
    )
    assert response.status == 401


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not json", "the body is not valid JSON"),
        (
            json.dumps({**statement(), "actor": {"name": "Alice"}}),
            "statement: actor: an Agent needs exactly one",
        ),
        (
            json.dumps({k: v for k, v in statement().items() if k != "verb"}),
            "statement: verb: missing",
        ),
        (
            json.dumps({**statement(), "object": {"objectType": "Activity"}}),
            "statement: object.id: missing",
        ),
        (json.dumps([statement(), {**statement(), "id": "nope"}]), "statement 2: id: 'nope' is not a UUID"),
        (json.dumps({**statement(), "timestamp": "2027-03-01 09:00"}), "is not an ISO 8601 date and time"),
        (
            json.dumps({**statement(), "result": {"score": {"raw": 7, "max": 5, "min": 0}}}),
            "result.score.raw: must lie between min and max",
        ),
    ],
)
async def test_a_malformed_statement_gets_a_400_saying_what_is_wrong_and_nothing_is_stored(
    client: TestClient, xapi_app: App, body: str, message: str
) -> None:
    response = await client.post("/xapi/statements", data=body, headers=bearer())
    assert response.status == 400
    assert message in (await response.json())["error"]
    assert await stored(xapi_app) == []
    assert await completions(xapi_app) == []


async def test_a_statement_sent_again_is_stored_once(client: TestClient, xapi_app: App) -> None:
    for _ in range(2):
        response = await client.post("/xapi/statements", json=[statement()], headers=bearer())
        assert await response.json() == [ID1]
    assert len(await stored(xapi_app)) == 1
    assert len(await completed_log(xapi_app)) == 1


async def test_a_list_maps_modules_by_id_or_title_and_people_by_account(
    client: TestClient, xapi_app: App, clock: SimulatedClock
) -> None:
    [first] = [m for m in await _modules(xapi_app) if m[1] == "Security Basics"]
    clock.advance(timedelta(days=30))
    body = [
        {
            **statement("completed", who="bob@example.com", module=str(first[0])),
            "result": {"completion": True},
        },
        {
            **{k: v for k, v in statement("scored", module="Module%202").items() if k != "timestamp"},
            "id": ID2,
            "actor": {"account": {"homePage": "https://lms.example.com", "name": "alice@example.com"}},
            "result": {"score": {"raw": 18, "min": 0, "max": 20}, "success": False},
        },
    ]
    response = await client.post("/xapi/statements", json=body, headers=bearer())
    assert response.status == 200, await response.text()
    rows = sorted((r.status, r.score) for r in await completions(xapi_app))
    assert rows == [("completed", None), ("failed", 90.0)]
    assert [e["on_time"] for e in await completed_log(xapi_app)] == [True, False]


async def test_statements_about_strangers_are_kept_as_evidence_but_record_nothing(
    client: TestClient, xapi_app: App
) -> None:
    body = [statement(who="zed@example.com"), {**statement(module="no-such-module"), "id": ID2}]
    response = await client.post("/xapi/statements", json=body, headers=bearer())
    assert response.status == 200
    outcomes = sorted(s.outcome for s in await stored(xapi_app))
    assert outcomes == [
        f"not used: no module matches https://lms.example.com/cohorts/{COHORT}/modules/no-such-module",
        "waiting: no learner zed@example.com yet",
    ]
    assert await completions(xapi_app) == []


async def _modules(app: App) -> list[tuple[int, str]]:
    from bot.core.models import Module

    async with app.store.transaction() as session:
        return [(m.id or 0, m.title) for m in (await session.exec(select(Module))).all()]


async def test_a_timestamp_ahead_of_our_clock_counts_as_now(client: TestClient, xapi_app: App) -> None:
    body = {**statement(), "timestamp": "2030-01-01T00:00:00Z"}
    assert (await client.post("/xapi/statements", json=body, headers=bearer())).status == 200
    [row] = await completions(xapi_app)
    assert row.at == xapi_app.clock.now()


async def test_a_module_linked_to_an_lms_activity_id_receives_its_statements(
    client: TestClient, xapi_app: App
) -> None:
    chat = Chat(xapi_app)
    activity = "https://lms.example.com/activity/sec-101?lang=en"
    assert "Only admins and trainers" in await chat.say(
        "alice", f'lms-id {COHORT} "Security basics" {activity}'
    )
    answer = await chat.say("tina", f'lms-id {COHORT} "security basics" {activity}')
    assert answer == f"xAPI statements and CSV rows about {activity} now count for *Security Basics*."
    body = {**statement(), "object": {"id": activity, "objectType": "Activity"}}
    assert (await client.post("/xapi/statements", json=body, headers=bearer())).status == 200
    [row] = await completions(xapi_app)
    assert row.module_id == next(m for m in await _modules(xapi_app) if m[1] == "Security Basics")[0]


async def test_put_with_a_statement_id_stores_one_statement(client: TestClient, xapi_app: App) -> None:
    body = {k: v for k, v in statement().items() if k != "id"}
    response = await client.put(f"/xapi/statements?statementId={ID2}", json=body, headers=bearer())
    assert response.status == 204
    assert [s.statement_id for s in await stored(xapi_app)] == [ID2]
    response = await client.put("/xapi/statements", json=body, headers=bearer())
    assert response.status == 400 and "PUT needs ?statementId=" in (await response.json())["error"]
    mismatch = await client.put(f"/xapi/statements?statementId={ID2}", json=statement(), headers=bearer())
    assert mismatch.status == 400 and "differs from statementId" in (await mismatch.json())["error"]


async def test_cohortbot_run_serves_xapi_with_only_a_token_set(db_url: str, unused_tcp_port: int) -> None:
    import asyncio

    import aiohttp

    from bot.app.serve import serve

    settings = Settings(database_url=db_url, xapi_token=TOKEN, port=unused_tcp_port)
    server = asyncio.create_task(serve(settings))
    base = f"http://127.0.0.1:{unused_tcp_port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):  # until it listens
                try:
                    async with http.get(f"{base}/healthz") as health:
                        if health.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.02)
            async with http.post(
                f"{base}/xapi/statements", json=statement(), headers=bearer("bad")
            ) as denied:
                assert denied.status == 401
            async with http.post(f"{base}/xapi/statements", json=statement(), headers=bearer()) as accepted:
                assert accepted.status == 200  # stored as evidence; no such cohort yet
                assert await accepted.json() == [ID1]
    finally:
        server.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await server


async def test_an_empty_token_refuses_to_start_the_endpoint(db_url: str, clock: SimulatedClock) -> None:
    built = await build(Settings(database_url=db_url, xapi_token=""), {}, clock, schema="create")
    try:
        with pytest.raises(ValueError, match="XAPI_TOKEN is empty"):
            await attach_adapters(built, web_application(built))
    finally:
        await built.close()
