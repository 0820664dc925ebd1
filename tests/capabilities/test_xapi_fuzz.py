"""Property-based fuzzing of the xAPI endpoints: whatever the headers and body, no 5xx, and a
refused request (4xx) changes nothing in the database.

Shaped like the chat endpoints' fuzz test: `snapshot(app)` reads every table, each endpoint has
its request strategy, and one property asserts the invariant, so both can share the helpers.
"""

from __future__ import annotations

import base64
import copy
import json
import string
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import SQLModel

from bot.app.bootstrap import App
from bot.core.clock import SimulatedClock
from tests.capabilities.xapi_fixtures.server import http_client
from tests.capabilities.xapi_fixtures.server import xapi_app as serving_xapi
from tests.capabilities.xapi_fixtures.shapes import VALID

TOKEN = "fuzz-token"
HEADER_TEXT = st.text(alphabet=string.ascii_letters + string.digits + " .,;:=/+-_\"'", max_size=40)
SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


async def snapshot(app: App) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to prove a refused request left no trace."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    async with app.store.transaction() as session:
        conn = await session.connection()
        for table in SQLModel.metadata.sorted_tables:
            rows = (await conn.execute(table.select())).all()
            tables[table.name] = sorted(tuple(map(repr, row)) for row in rows)
    return tables


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def mutate(statement: dict[str, Any], path: list[int], value: Any) -> dict[str, Any]:
    """Replace the value at a path (each step picks a key by index) in a copy of a valid statement."""
    result = copy.deepcopy(statement)
    node: Any = result
    for step in path[:-1]:
        if isinstance(node, dict) and node:
            child = node[sorted(node)[step % len(node)]]
            if isinstance(child, dict | list):
                node = child
        elif isinstance(node, list) and node:
            child = node[step % len(node)]
            if isinstance(child, dict | list):
                node = child
    if isinstance(node, dict) and node:
        node[sorted(node)[path[-1] % len(node)] if path else "extra"] = value
    elif isinstance(node, list) and node:
        node[path[-1] % len(node) if path else 0] = value
    return result


mutated_statements = st.builds(
    mutate,
    st.sampled_from(list(VALID.values())),
    st.lists(st.integers(0, 9), min_size=1, max_size=5),
    json_values,
)
bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    mutated_statements.map(lambda s: json.dumps(s).encode()),
    st.lists(mutated_statements, min_size=1, max_size=3).map(lambda s: json.dumps(s).encode()),
    st.sampled_from([b"[" * 100_000, b'{"raw": 1e999}', b'[{"result": {"score": {"raw": -1e999}}}]', b"NaN"]),
)
authorizations = st.one_of(
    st.just(f"Bearer {TOKEN}"),
    st.just("Basic " + base64.b64encode(f"lms:{TOKEN}".encode()).decode()),
    st.just("Bearer wrong"),
    HEADER_TEXT,
)
versions = st.sampled_from(["1.0.3", "1.0.0", "2.0.0", "0.95", "", "1.0.3.1", "abc"])
content_types = st.sampled_from(
    [
        "application/json",
        "multipart/mixed; boundary=zzz",
        "multipart/mixed",
        "text/plain",
        "application/json; charset=latin-1",
    ]
)
queries = st.dictionaries(
    st.sampled_from(
        ["statementId", "voidedStatementId", "limit", "since", "until", "verb", "agent", "ascending"]
    ),
    HEADER_TEXT,
    max_size=3,
)


@pytest.fixture
async def fuzz_app(db_url: str, clock: SimulatedClock) -> AsyncIterator[App]:
    async with serving_xapi(db_url, clock, TOKEN) as app:
        yield app


@pytest.fixture
async def client(fuzz_app: App) -> AsyncIterator[TestClient]:
    async with http_client(fuzz_app) as test_client:
        yield test_client


async def assert_refusal_changes_nothing(
    app: App, status: int, before: dict[str, list[tuple[Any, ...]]]
) -> None:
    assert status < 500
    if status >= 400:
        assert await snapshot(app) == before


@SETTINGS
@given(
    method=st.sampled_from(["POST", "PUT"]),
    body=bodies,
    authorization=authorizations,
    version=versions,
    content_type=content_types,
    query=queries,
)
async def test_xapi_statement_writes_never_answer_5xx_and_refusals_change_nothing(
    client: TestClient,
    fuzz_app: App,
    method: str,
    body: bytes,
    authorization: str,
    version: str,
    content_type: str,
    query: dict[str, str],
) -> None:
    before = await snapshot(fuzz_app)
    headers = {
        "Authorization": authorization,
        "X-Experience-API-Version": version,
        "Content-Type": content_type,
    }
    response = await client.request(method, "/xapi/statements", data=body, headers=headers, params=query)
    await response.read()
    await assert_refusal_changes_nothing(fuzz_app, response.status, before)


@SETTINGS
@given(query=queries, authorization=authorizations, version=versions)
async def test_xapi_statement_reads_never_answer_5xx_and_change_nothing(
    client: TestClient, fuzz_app: App, query: dict[str, str], authorization: str, version: str
) -> None:
    before = await snapshot(fuzz_app)
    headers = {"Authorization": authorization, "X-Experience-API-Version": version}
    response = await client.get("/xapi/statements", headers=headers, params=query)
    await response.read()
    assert response.status < 500
    assert await snapshot(fuzz_app) == before
