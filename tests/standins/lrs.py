"""A loopback stand-in for a customer's LRS: the xAPI 1.0.3 statements resource, as cohortbot's
LRS client uses it (POST a batch, PUT `?statementId=`), with Basic auth and the version header.

Every statement is checked with the same validator the inbound side uses (`xapi_rules`); a batch
with one invalid statement is refused whole (400), an id already stored with other content
answers 409, the same content again is acknowledged and not stored twice. Tests script outages
(`outage(n)`: the next n requests answer 503 with Retry-After). `deliveries` counts how often each
id arrived in a request the LRS accepted; `stored` holds each statement once.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.capabilities.completion.xapi_rules import InvalidStatement, check_statement

KEY, SECRET = "lrs-key", "lrs-secret"


@dataclass
class LrsStandIn:
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)
    deliveries: Counter[str] = field(default_factory=Counter)
    requests: list[tuple[str, int, int]] = field(default_factory=list)  # method, statements, status
    failing: int = 0  # the next this-many requests answer 503
    retry_after: float = 0.0
    invalid: list[str] = field(default_factory=list)  # why statements were refused

    def __post_init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/xapi/statements"

    def outage(self, requests: int, retry_after: float = 0.0) -> None:
        self.failing, self.retry_after = requests, retry_after

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/xapi/statements", self._statements)
        app.router.add_put("/xapi/statements", self._statements)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _statements(self, request: web.Request) -> web.Response:
        body = await request.read()
        status, statements = self._answer(request, body)
        self.requests.append((request.method, len(statements), status))
        headers = {"X-Experience-API-Version": "1.0.3"}
        if status == 503 and self.retry_after:
            headers["Retry-After"] = str(self.retry_after)
        if status != 200:
            return web.Response(status=status, headers=headers)
        for statement in statements:
            self.deliveries[statement["id"]] += 1
            self.stored.setdefault(statement["id"], statement)
        if request.method == "PUT":
            return web.Response(status=204, headers=headers)
        return web.json_response([s["id"] for s in statements], headers=headers)

    def _answer(self, request: web.Request, body: bytes) -> tuple[int, list[dict[str, Any]]]:
        expected = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return 401, []
        if not request.headers.get("X-Experience-API-Version", "").startswith("1.0"):
            return 400, []
        if self.failing > 0:
            self.failing -= 1
            return 503, []
        try:
            data = json.loads(body)
        except ValueError:
            return 400, []
        if request.method == "PUT":
            data = [{**data, "id": request.query.get("statementId", data.get("id"))}]
        statements = data if isinstance(data, list) else [data]
        for statement in statements:
            try:
                check_statement(statement)
            except InvalidStatement as e:
                self.invalid.append(str(e))
                return 400, statements
            known = self.stored.get(statement.get("id", ""))
            if known is not None and known != statement:
                return 409, statements
        return 200, statements
