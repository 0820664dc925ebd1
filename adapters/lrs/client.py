"""One HTTP exchange with an LRS's statements resource, and what its answer means for delivery.

POST a batch, or PUT one statement by id (xAPI 1.0.3): 200/204 stored; 409 the id holds other
content; 400 refused; 429/5xx/timeouts are worth retrying (honouring `Retry-After`).
Every call has a timeout shorter than the outbox lease, so a slow send is never sent twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.core.delivery import PermanentFailure, RetryLater

XAPI_VERSION = "1.0.3"
TIMEOUT = aiohttp.ClientTimeout(total=30, connect=10)  # well under the outbox's 120 s lease
RETRIED_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class LrsConfig:
    url: str  # the statements resource, e.g. https://lrs.example.com/xapi/statements
    key: str
    secret: str


class LrsRefused(Exception):
    """The LRS answered 400 or 409 to a request: the statement(s) themselves are the problem."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class LrsClient:
    def __init__(self, config: LrsConfig, http: aiohttp.ClientSession) -> None:
        self.config = config
        self.http = http
        self.headers = {
            "X-Experience-API-Version": XAPI_VERSION,
            "Content-Type": "application/json",
        }
        self.auth = aiohttp.BasicAuth(config.key, config.secret)

    async def post(self, statements: list[dict[str, Any]]) -> None:
        await self._call("POST", self.config.url, statements)

    async def put(self, statement: dict[str, Any]) -> None:
        await self._call("PUT", self.config.url, statement, params={"statementId": statement["id"]})

    async def _call(self, method: str, url: str, body: Any, params: dict[str, str] | None = None) -> None:
        try:
            async with self.http.request(
                method,
                url,
                data=json.dumps(body),
                params=params,
                headers=self.headers,
                auth=self.auth,
                timeout=TIMEOUT,
            ) as response:
                text = (await response.text(errors="replace"))[:300]
                _raise_for(response.status, response.headers.get("Retry-After"), text)
        except (TimeoutError, aiohttp.ClientError) as e:
            raise RetryLater(f"LRS unreachable: {type(e).__name__}: {e}") from None


def _raise_for(status: int, retry_after: str | None, text: str) -> None:
    if status in (200, 204):
        return
    if status in RETRIED_STATUSES:
        raise RetryLater(f"LRS answered {status}", retry_after=_seconds(retry_after))
    if status in (400, 409):
        raise LrsRefused(status, f"LRS answered {status}: {text}")
    if status in (401, 403):  # credentials wrong or revoked: retried with backoff until fixed, then failed
        raise RetryLater(f"LRS refused the credentials ({status}): check XAPI_OUT_KEY and XAPI_OUT_SECRET")
    raise PermanentFailure(f"LRS answered {status}: {text}")


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
