"""The xAPI statements resource an LMS feeds: `/xapi/statements` (POST, PUT, GET) and `/xapi/about`.

What an LRS does for its clients, per xAPI 1.0.3 (2.0's version header accepted):
- POST one statement or a batch: 200 and their ids; PUT `?statementId=`: 204;
- a batch with one invalid statement is refused whole (400), a conflicting id answers 409,
  a statement sent again with the same content is acknowledged and stored once;
- GET `?statementId=` / `?voidedStatementId=` returns a stored statement, or a small query of them;
- every request but `/about` carries `X-Experience-API-Version` (1.0.x or 2.0.x).

Authenticated with `Authorization: Bearer <XAPI_TOKEN>`, or Basic auth whose password is the token
(what LRS clients send), compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlmodel import col, select

from bot.capabilities.completion.models import XapiStatement
from bot.capabilities.completion.statements import StatementError, parse_statements
from bot.capabilities.completion.xapi_body import BadBody, decode_body
from bot.capabilities.completion.xapi_rules import UUID_RE, parse_timestamp
from bot.capabilities.completion.xapi_store import StatementConflict, receive_statements

if TYPE_CHECKING:
    from bot.core.runtime import App

log = logging.getLogger(__name__)

PATH = "/xapi/statements"
ABOUT_PATH = "/xapi/about"
XAPI_VERSION = "1.0.3"
SUPPORTED_VERSIONS = ["1.0.3", "2.0.0"]
VERSION_RE = re.compile(r"^(?:1\.0(?:\.\d+)?|2\.0(?:\.\d+)?)$")
MAX_BODY = 64 * 1024 * 1024  # a 10,000-statement batch is ~10 MB
QUERY_LIMIT = 100
AUTHORITY = {"objectType": "Agent", "account": {"homePage": "https://cohortbot.example", "name": "lms"}}


def authorised(header: str | None, token: str) -> bool:
    """Bearer <token>, or Basic base64(<any key>:<token>); constant-time comparison."""
    scheme, _, credentials = (header or "").strip().partition(" ")
    given = credentials.strip()
    if scheme.lower() == "basic":
        try:
            given = base64.b64decode(given, validate=True).decode("utf-8").partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            return False
    elif scheme.lower() != "bearer":
        return False
    return bool(given) and hmac.compare_digest(given.encode(), token.encode())


def _headers(**extra: str) -> dict[str, str]:
    return {"X-Experience-API-Version": XAPI_VERSION, **extra}


def _error(status: int, message: str) -> web.Response:
    headers = _headers()
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="cohortbot xAPI", Basic realm="cohortbot xAPI"'
    return web.json_response({"error": message}, status=status, headers=headers)


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _check_version(request: web.Request) -> None:
    version = request.headers.get("X-Experience-API-Version", "").strip()
    if not version:
        raise _Refused(400, "missing X-Experience-API-Version header (send 1.0.3)")
    if not VERSION_RE.match(version):
        raise _Refused(
            400, f"X-Experience-API-Version {version[:20]!r} is not supported: send 1.0.3 (or 2.0.0)"
        )


async def _read_body(request: web.Request) -> bytes:
    """The whole body, up to MAX_BODY (read from the stream: the app's default cap is 1 MB)."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise _Refused(413, f"the body is over {MAX_BODY // (1024 * 1024)} MB: send smaller batches")
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            chunk = await request.content.read(1024 * 1024)  # returns what has arrived so far
        except web.HTTPException:
            raise
        except Exception as e:  # a body that cannot be decoded (bad gzip, cut short): the sender's fault
            raise _Refused(400, f"the body could not be read: {e}") from e
        if not chunk:
            break
        size += len(chunk)
        if size > MAX_BODY:
            raise _Refused(413, f"the body is over {MAX_BODY // (1024 * 1024)} MB: send smaller batches")
        chunks.append(chunk)
    return b"".join(chunks)


def _with_query_id(body: Any, statement_id: str | None) -> Any:
    """PUT sends one statement and its id as `?statementId=`, as LRS clients do."""
    if not statement_id:
        raise StatementError("PUT needs ?statementId=<uuid> (or POST the statement)")
    if not isinstance(body, dict):
        raise StatementError("PUT takes one statement (a JSON object)")
    if "id" in body and str(body["id"]).lower() != statement_id.lower():
        raise StatementError(f"the statement's id {body['id']} differs from statementId {statement_id}")
    return {**body, "id": statement_id}


def as_stored(row: XapiStatement) -> dict[str, Any]:
    """A statement as an LRS returns it: with `stored`, `authority` and `version` set."""
    return {
        "authority": AUTHORITY,
        "version": "1.0.0",
        **row.raw,
        "stored": row.received_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }


class StatementsResource:
    """The handlers, bound to the running app and its token."""

    def __init__(self, app: App, token: str) -> None:
        self.app = app
        self.token = token

    async def handle(self, request: web.Request) -> web.Response:
        try:
            if not authorised(request.headers.get("Authorization"), self.token):
                raise _Refused(401, "missing or wrong token: send Authorization: Bearer <XAPI_TOKEN>")
            _check_version(request)
            if request.method == "GET":
                return await self._get(request)
            return await self._write(request)
        except _Refused as e:
            return _error(e.status, e.message)

    async def _write(self, request: web.Request) -> web.Response:
        raw = await _read_body(request)
        now = self.app.clock.now()
        try:
            body = decode_body(request.headers.get("Content-Type", "application/json"), raw)
            if request.method == "PUT":
                body = _with_query_id(body, request.query.get("statementId"))
            ids = await receive_statements(
                self.app.store, self.app.settings, now, parse_statements(body, now)
            )
        except (BadBody, StatementError) as e:
            return _error(400, str(e))
        except StatementConflict as e:
            return _error(409, str(e))
        if request.method == "PUT":
            return web.Response(status=204, headers=_headers())
        return web.json_response(ids, headers=_headers())

    async def _get(self, request: web.Request) -> web.Response:
        query = request.query
        now = self.app.clock.now()
        consistent = _headers(
            **{
                "X-Experience-API-Consistent-Through": now.isoformat(timespec="milliseconds").replace(
                    "+00:00", "Z"
                )
            }
        )
        single = [key for key in ("statementId", "voidedStatementId") if key in query]
        if single:
            if len(single) > 1 or set(query) - {*single, "format", "attachments"}:
                raise _Refused(400, f"{single[0]} takes no other parameter than format and attachments")
            voided = single[0] == "voidedStatementId"
            wanted = query[single[0]].strip().lower()
            if not UUID_RE.match(wanted):
                raise _Refused(400, f"{single[0]} must be a statement id (a UUID)")
            async with self.app.store.transaction() as session:
                row = await session.get(XapiStatement, wanted)
            if row is None or row.voided != voided:
                raise _Refused(404, f"no {'voided ' if voided else ''}statement {query[single[0]][:40]}")
            return web.json_response(as_stored(row), headers=consistent)
        statements = await self._query(query)
        return web.json_response({"statements": statements, "more": ""}, headers=consistent)

    async def _query(self, query: Any) -> list[dict[str, Any]]:
        """The latest statements (not voided), newest first; `verb`, `since`, `until`, `limit`."""
        unknown = set(query) - {"verb", "since", "until", "limit", "format", "attachments", "ascending"}
        if unknown:
            raise _Refused(400, f"cohortbot does not filter statements by {', '.join(sorted(unknown))}")
        select_rows = select(XapiStatement).where(col(XapiStatement.voided).is_(False))
        if "verb" in query:
            select_rows = select_rows.where(col(XapiStatement.raw)["verb"]["id"].as_string() == query["verb"])
        for key, compare in (("since", "__gt__"), ("until", "__le__")):
            if key in query:
                when = _query_time(query[key], key)
                select_rows = select_rows.where(getattr(col(XapiStatement.received_at), compare)(when))
        ascending = query.get("ascending", "false").lower() == "true"
        order = col(XapiStatement.received_at)
        select_rows = select_rows.order_by(order if ascending else order.desc()).limit(
            _limit(query.get("limit"))
        )
        async with self.app.store.transaction() as session:
            return [as_stored(row) for row in (await session.exec(select_rows)).all()]

    async def about(self, _: web.Request) -> web.Response:
        return web.json_response({"version": SUPPORTED_VERSIONS}, headers=_headers())


def _query_time(value: str, key: str) -> datetime:
    try:
        return parse_timestamp(value)
    except ValueError:
        raise _Refused(400, f"{key} {value[:40]!r} is not an ISO 8601 date and time") from None


def _limit(value: str | None) -> int:
    if value is None:
        return QUERY_LIMIT
    if not value.isdigit():
        raise _Refused(400, f"limit {value[:20]!r} is not a whole number")
    return min(QUERY_LIMIT, int(value)) or QUERY_LIMIT  # 0 means the server's maximum


def statements_handler(app: App, token: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    return StatementsResource(app, token).handle


async def attach(app: App, webapp: web.Application) -> Callable[[], Awaitable[None]]:
    """Add `/xapi/statements` (POST, PUT, GET) and `/xapi/about` to the shared HTTP application."""
    if app.settings.xapi_token is None or not app.settings.xapi_token.get_secret_value():
        raise ValueError("XAPI_TOKEN is empty: set a long random token, or unset it to turn xAPI off")
    resource = StatementsResource(app, app.settings.xapi_token.get_secret_value())
    webapp.router.add_post(PATH, resource.handle)
    webapp.router.add_put(PATH, resource.handle)
    webapp.router.add_get(PATH, resource.handle)
    webapp.router.add_get(ABOUT_PATH, resource.about)

    async def cleanup() -> None:
        return None

    return cleanup
