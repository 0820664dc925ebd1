"""The statements resource as an LMS meets it: the spec's answers for every shape, voiding,
conflicts, versions, multipart bodies, GET and /about, on a real aiohttp server on loopback."""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlmodel import select

from bot.app.bootstrap import App
from bot.capabilities.completion.learner_import import import_learners
from bot.capabilities.completion.models import XapiStatement
from bot.capabilities.completion.xapi_store import mbox_sha1
from bot.core.clock import SimulatedClock
from tests.capabilities.completion_fixtures import COHORT, completions
from tests.capabilities.xapi_fixtures import moodle
from tests.capabilities.xapi_fixtures.server import http_client
from tests.capabilities.xapi_fixtures.server import xapi_app as serving_xapi
from tests.capabilities.xapi_fixtures.shapes import INVALID, VALID
from tests.conftest import Chat

TOKEN = "xapi-token"
ADL = "http://adlnet.gov/expapi/verbs/"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "X-Experience-API-Version": "1.0.3"}
MODULE_1 = f"https://lms.example.com/cohorts/{COHORT}/modules/module-1"


def completion(
    verb: str = "completed", *, actor: dict[str, Any] | None = None, **result: Any
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": actor or {"mbox": "mailto:alice@example.com"},
        "verb": {"id": ADL + verb, "display": {"en-US": verb}},
        "object": {"id": MODULE_1, "objectType": "Activity"},
        "timestamp": "2027-03-01T08:00:00Z",
    }
    if result:
        statement["result"] = result
    return statement


@pytest.fixture
async def xapi_app(db_url: str, clock: SimulatedClock) -> AsyncIterator[App]:
    async with serving_xapi(db_url, clock, TOKEN) as app:
        yield app


@pytest.fixture
async def client(xapi_app: App) -> AsyncIterator[TestClient]:
    async with http_client(xapi_app) as test_client:
        yield test_client


async def stored(app: App) -> dict[str, XapiStatement]:
    async with app.store.transaction() as session:
        return {row.statement_id: row for row in (await session.exec(select(XapiStatement))).all()}


async def post(client: TestClient, body: Any, **headers: str) -> tuple[int, Any]:
    response = await client.post("/xapi/statements", data=json.dumps(body), headers={**HEADERS, **headers})
    text = await response.text()
    return response.status, json.loads(text) if text else None


@pytest.mark.parametrize("shape", list(VALID), ids=list(VALID))
async def test_every_valid_shape_is_stored_once_and_answered_with_its_id(
    client: TestClient, xapi_app: App, shape: str
) -> None:
    status, ids = await post(client, VALID[shape])
    assert status == 200, ids
    assert len(ids) == 1 and list(await stored(xapi_app)) == ids
    assert (await post(client, VALID[shape] if "id" in VALID[shape] else {**VALID[shape], "id": ids[0]}))[
        0
    ] == 200
    assert len(await stored(xapi_app)) == 1


@pytest.mark.parametrize("shape", list(INVALID), ids=list(INVALID))
async def test_every_invalid_shape_gets_400_naming_the_rule_and_nothing_is_stored(
    client: TestClient, xapi_app: App, shape: str
) -> None:
    statement, why = INVALID[shape]
    status, body = await post(client, statement)
    assert status == 400 and why in body["error"]
    assert await stored(xapi_app) == {}


async def test_a_batch_with_one_invalid_statement_fails_whole(client: TestClient, xapi_app: App) -> None:
    good = completion()
    status, body = await post(client, [good, INVALID["two actor identifiers"][0]])
    assert status == 400 and body["error"].startswith("statement 2: ")
    assert await stored(xapi_app) == {} and await completions(xapi_app) == []


async def test_the_version_header_is_required_and_1_0_x_and_2_0_are_accepted(client: TestClient) -> None:
    no_version = {"Authorization": HEADERS["Authorization"]}
    response = await client.post("/xapi/statements", json=completion(), headers=no_version)
    assert response.status == 400 and "X-Experience-API-Version" in (await response.json())["error"]
    assert (await post(client, completion(), **{"X-Experience-API-Version": "0.95"}))[0] == 400
    for version in ("1.0.0", "1.0.3", "1.0", "2.0.0"):
        status, _ = await post(client, completion(), **{"X-Experience-API-Version": version})
        assert status == 200, version


async def test_a_conflicting_id_answers_409_and_the_first_statement_stays(
    client: TestClient, xapi_app: App
) -> None:
    first = completion("passed")
    assert (await post(client, first))[0] == 200
    changed = {**first, "verb": {"id": ADL + "failed"}}
    status, body = await post(client, [completion(), changed])
    assert status == 409 and first["id"] in body["error"]
    assert list(await stored(xapi_app)) == [first["id"]]
    put = await client.put(f"/xapi/statements?statementId={first['id']}", json=changed, headers=HEADERS)
    assert put.status == 409
    same = await client.put(f"/xapi/statements?statementId={first['id']}", json=first, headers=HEADERS)
    assert same.status == 204


async def test_a_batch_repeating_an_id_is_refused(client: TestClient, xapi_app: App) -> None:
    statement = completion()
    status, body = await post(client, [statement, copy.deepcopy(statement)])
    assert status == 400 and "repeats statement id" in body["error"]
    assert await stored(xapi_app) == {}


async def test_get_by_statement_id_and_voided_statement_id(client: TestClient, xapi_app: App) -> None:
    target = completion("passed", score={"scaled": 0.8})
    voiding = {
        "id": str(uuid.uuid4()),
        "actor": {"mbox": "mailto:lms@example.com"},
        "verb": {"id": ADL + "voided", "display": {"en-US": "voided"}},
        "object": {"objectType": "StatementRef", "id": target["id"]},
    }
    assert (await post(client, target))[0] == 200
    got = await client.get("/xapi/statements", params={"statementId": target["id"]}, headers=HEADERS)
    body = await got.json()
    assert got.status == 200 and body["verb"] == target["verb"] and body["id"] == target["id"]
    assert {"stored", "authority", "version"} <= set(body)
    assert "X-Experience-API-Consistent-Through" in got.headers
    assert (await post(client, voiding))[0] == 200
    gone = await client.get("/xapi/statements", params={"statementId": target["id"]}, headers=HEADERS)
    assert gone.status == 404
    voided = await client.get("/xapi/statements", params={"voidedStatementId": target["id"]}, headers=HEADERS)
    assert voided.status == 200 and (await voided.json())["id"] == target["id"]
    both = await client.get(
        "/xapi/statements",
        params={"statementId": target["id"], "voidedStatementId": target["id"]},
        headers=HEADERS,
    )
    assert both.status == 400
    listing = await client.get("/xapi/statements", params={"limit": "10"}, headers=HEADERS)
    assert [s["id"] for s in (await listing.json())["statements"]] == [voiding["id"]]


async def test_about_answers_the_versions_without_credentials(client: TestClient) -> None:
    response = await client.get("/xapi/about")
    assert response.status == 200
    assert "1.0.3" in (await response.json())["version"]


async def test_multipart_statements_with_an_attachment_are_accepted(
    client: TestClient, xapi_app: App
) -> None:
    content = b"certificate bytes"
    sha2 = hashlib.sha256(content).hexdigest()
    statement = completion()
    statement["attachments"] = [
        {
            "usageType": "http://id.tincanapi.com/attachment/certificate-of-completion",
            "display": {"en-US": "Certificate"},
            "contentType": "application/pdf",
            "length": len(content),
            "sha2": sha2,
        }
    ]
    boundary = "abcABC0123'()+_,-./:=?"
    parts = [
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n{json.dumps(statement)}\r\n".encode(),
        f"--{boundary}\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: binary\r\n"
        f"X-Experience-API-Hash: {sha2}\r\n\r\n".encode()
        + content
        + b"\r\n",
        f"--{boundary}--\r\n".encode(),
    ]
    headers = {**HEADERS, "Content-Type": f'multipart/mixed; boundary="{boundary}"'}
    response = await client.post("/xapi/statements", data=b"".join(parts), headers=headers)
    assert response.status == 200, await response.text()
    assert list(await stored(xapi_app)) == [statement["id"]]
    # The same statement as plain JSON has no part for its attachment: refused.
    other = {**statement, "id": str(uuid.uuid4())}
    status, body = await post(client, other)
    assert status == 400 and "multipart/mixed" in body["error"]


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000 + b"]" * 100_000, b'{"result": {"score": {"raw": 1e999}}}', b"NaN", b"\xff\xfe", b""],
    ids=["100k-deep", "1e999", "NaN", "not-utf8", "empty"],
)
async def test_malformed_bodies_answer_400_never_500(client: TestClient, xapi_app: App, body: bytes) -> None:
    response = await client.post("/xapi/statements", data=body, headers=HEADERS)
    assert response.status == 400
    assert await stored(xapi_app) == {}


async def test_completed_with_success_false_is_recorded_as_failed_with_its_score(
    client: TestClient, xapi_app: App
) -> None:
    status, _ = await post(client, completion(success=False, score={"raw": 4, "min": 0, "max": 10}))
    assert status == 200
    [row] = await completions(xapi_app)
    assert (row.status, row.score) == ("failed", 40.0)


async def test_actors_map_by_mbox_sha1sum_and_by_lms_account(client: TestClient, xapi_app: App) -> None:
    chat = Chat(xapi_app)
    assert "now count for bob" in await chat.say("tina", f"lms-id {COHORT} @bob 1042")
    by_sha1 = completion(
        "passed", actor={"mbox_sha1sum": mbox_sha1("alice@example.com")}, score={"scaled": 0.7}
    )
    by_account = completion(actor={"account": {"homePage": moodle.SITE, "name": "1042"}})
    status, _ = await post(client, [by_sha1, by_account])
    assert status == 200
    rows = await stored(xapi_app)
    assert {rows[by_sha1["id"]].outcome, rows[by_account["id"]].outcome} == {"recorded"}
    assert sorted((c.status, c.score) for c in await completions(xapi_app)) == [
        ("completed", None),
        ("passed", 70.0),
    ]


async def test_an_unknown_learner_is_kept_and_linked_when_imported(client: TestClient, xapi_app: App) -> None:
    statement = completion("passed", actor={"account": {"homePage": moodle.SITE, "name": "77"}})
    assert (await post(client, statement))[0] == 200
    assert (await stored(xapi_app))[statement["id"]].outcome == "waiting: no learner LMS user 77 yet"
    assert await completions(xapi_app) == []
    report = await import_learners(
        xapi_app.store,
        xapi_app.settings,
        xapi_app.clock.now(),
        COHORT,
        "email,lms_user_id\ncarol@example.com,77\n",
    )
    assert report.imported and report.counts["waiting xAPI completion(s) recorded"] == 1
    [row] = await completions(xapi_app)
    assert row.status == "passed"
    assert (await stored(xapi_app))[statement["id"]].outcome == "recorded"


async def test_voiding_undoes_the_completion_and_falls_back_to_what_remains(
    client: TestClient, xapi_app: App
) -> None:
    first = completion("completed")
    better = completion("passed", score={"scaled": 0.9})
    assert (await post(client, [first, better]))[0] == 200
    assert [(c.status, c.score) for c in await completions(xapi_app)] == [("passed", 90.0)]

    def voiding(target: str) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid4()),
            "actor": {"mbox": "mailto:lms@example.com"},
            "verb": {"id": ADL + "voided"},
            "object": {"objectType": "StatementRef", "id": target},
        }

    assert (await post(client, voiding(better["id"])))[0] == 200
    assert [(c.status, c.score) for c in await completions(xapi_app)] == [("completed", None)]
    void_first = voiding(first["id"])
    assert (await post(client, void_first))[0] == 200
    assert await completions(xapi_app) == []
    status, body = await post(client, voiding(void_first["id"]))
    assert status == 400 and "itself a voiding statement" in body["error"]


async def test_a_moodle_batch_stores_the_completions_of_mapped_learners(
    client: TestClient, xapi_app: App
) -> None:
    chat = Chat(xapi_app)
    await chat.say("tina", f'lms-id {COHORT} "Module 1" {moodle.module_url(31)}')
    await chat.say("tina", f"lms-id {COHORT} @alice 5")
    await chat.say("tina", f"lms-id {COHORT} @bob 6")
    batch = moodle.course_batch(
        [5, 6, 7, 8],
        31,
        {5: {"completion": True, "success": True}, 6: {"completion": True, "success": False}, 7: {}},
    )
    status, ids = await post(client, batch)
    assert status == 200 and len(ids) == len(batch) == 19
    rows = await stored(xapi_app)
    assert len(rows) == 19
    outcomes = sorted(row.outcome.split(":")[0] for row in rows.values())
    assert (
        outcomes.count("recorded") == 2
        and outcomes.count("waiting") == 1
        and outcomes.count("not used") == 16
    )
    assert sorted(c.status for c in await completions(xapi_app)) == ["completed", "failed"]


async def test_a_batch_larger_than_a_megabyte_is_read_whole(client: TestClient, xapi_app: App) -> None:
    await Chat(xapi_app).say("tina", f'lms-id {COHORT} "Module 1" {moodle.module_url(31)}')
    batch = moodle.course_batch(list(range(1, 301)), 31, {})
    body = json.dumps(batch).encode()
    assert len(body) > 1024 * 1024  # over aiohttp's default body cap, and more than one network read
    response = await client.post("/xapi/statements", data=body, headers=HEADERS)
    assert response.status == 200, await response.text()
    assert len(await stored(xapi_app)) == len(batch)


async def test_a_waiting_completion_is_recorded_when_its_learner_is_enrolled_in_the_chat(
    client: TestClient, xapi_app: App
) -> None:
    statement = completion("passed", actor={"mbox": "mailto:dana@example.com"})
    assert (await post(client, statement))[0] == 200
    assert await completions(xapi_app) == []
    assert "Enrolled 1" in await Chat(xapi_app).say("tina", f"enroll {COHORT} dana@example.com")
    [row] = await completions(xapi_app)
    assert row.status == "passed"
