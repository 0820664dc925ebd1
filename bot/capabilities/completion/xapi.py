"""`POST /xapi/statements`: an LMS sends xAPI statements (completed, passed, failed, scored) here.

`PUT /xapi/statements?statementId=<uuid>` takes one statement, as LRS clients also send them.

Authenticated with `Authorization: Bearer <XAPI_TOKEN>`, or Basic auth whose password is the token
(what LRS clients send), compared in constant time. Each statement id is stored once, with the raw
statement as evidence; statements about people or activities cohortbot doesn't know are stored as
`ignored: <why>` and acknowledged, as an LRS would, so one stray statement doesn't block a feed.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.completion.activities import module_for_activity
from bot.capabilities.completion.models import XapiStatement
from bot.capabilities.completion.recording import record_completion
from bot.capabilities.completion.statements import Statement, StatementError, parse_statements
from bot.core.context import EventContext
from bot.core.models import Enrolment, Identity, Module, Person
from bot.core.settings import Settings
from bot.core.store import Store, insert_for

if TYPE_CHECKING:
    from bot.core.runtime import App

log = logging.getLogger(__name__)

PATH = "/xapi/statements"
XAPI_VERSION = "1.0.3"


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


async def receive_statements(store: Store, settings: Settings, now: datetime, body: Any) -> list[str]:
    """Store and record a decoded statement body in one transaction; returns the statement ids.

    Raises StatementError (nothing stored) if any statement is malformed.
    """
    statements = parse_statements(body, now)
    async with store.transaction() as session:
        ctx = EventContext(session=session, now=now, settings=settings)
        ids = [s.statement_id for s in statements]
        stored = await session.exec(
            select(XapiStatement.statement_id).where(col(XapiStatement.statement_id).in_(ids))
        )
        seen = set(stored.all())
        lookup = _Lookup(session)
        for statement in statements:
            if statement.statement_id not in seen:
                seen.add(statement.statement_id)
                await _store_once(session, statement, now, await _apply(ctx, statement, lookup))
    return ids


async def _store_once(
    session: AsyncSession, statement: Statement, now: datetime, outcome: dict[str, Any]
) -> None:
    """Insert the statement as evidence; a concurrent copy of it already stored wins."""
    insert = insert_for(session.get_bind().dialect.name)
    values = {
        "statement_id": statement.statement_id,
        "received_at": now,
        "verb": statement.verb,
        "raw": statement.raw,
        **outcome,
    }
    await session.exec(
        insert(XapiStatement).values(**values).on_conflict_do_nothing(index_elements=["statement_id"])
    )


async def _apply(ctx: EventContext, statement: Statement, lookup: _Lookup) -> dict[str, Any]:
    """Record the completion a new statement reports; returns its outcome and what it matched."""
    module = await lookup.module(statement.activity_id)
    person = await lookup.person(statement)
    if module is None:
        outcome = f"ignored: no module matches {statement.activity_id}"
    elif person is None:
        outcome = f"ignored: no learner {statement.email or statement.account_name} in this cohort"
    elif not await lookup.is_learner(module.cohort_id, person.id or 0):
        outcome = f"ignored: {person.email or person.display_name} is not a learner of this cohort"
    else:
        result = await record_completion(
            ctx,
            module,
            person.id or 0,
            status=statement.status,
            score=statement.score,
            source="xapi",
            at=statement.timestamp,
            recorded_by=None,
        )
        outcome = "recorded" if result.changed else "unchanged"
    if outcome.startswith("ignored"):
        log.warning("xAPI statement %s %s", statement.statement_id, outcome)
    return {
        "outcome": outcome,
        "cohort_id": module.cohort_id if module else None,
        "module_id": module.id if module else None,
        "person_id": person.id if person else None,
    }


class _Lookup:
    """Modules, people and enrolments looked up once per request, however many statements name them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._modules: dict[str, Module | None] = {}
        self._people: dict[tuple[str | None, str | None], Person | None] = {}
        self._learners: dict[tuple[int, int], bool] = {}

    async def module(self, activity_id: str) -> Module | None:
        if activity_id not in self._modules:
            self._modules[activity_id] = await module_for_activity(self.session, activity_id)
        return self._modules[activity_id]

    async def person(self, statement: Statement) -> Person | None:
        """By mbox email; an account name is tried as an email, then as a platform user id."""
        key = (statement.email, statement.account_name)
        if key not in self._people:
            self._people[key] = await self._find_person(statement.email, statement.account_name)
        return self._people[key]

    async def _find_person(self, email: str | None, account: str | None) -> Person | None:
        found = (
            await self.session.exec(select(Person).where(Person.email == (email or account or "").lower()))
        ).first()
        if found is not None or account is None:
            return found
        identity = (await self.session.exec(select(Identity).where(Identity.user_id == account))).first()
        return await self.session.get(Person, identity.person_id) if identity else None

    async def is_learner(self, cohort_id: int, person_id: int) -> bool:
        key = (cohort_id, person_id)
        if key not in self._learners:
            found = await self.session.exec(
                select(col(Enrolment.id)).where(
                    Enrolment.cohort_id == cohort_id,
                    Enrolment.person_id == person_id,
                    Enrolment.role == "learner",
                    Enrolment.status == "active",
                )
            )
            self._learners[key] = found.first() is not None
        return self._learners[key]


def _error(status: int, message: str) -> web.Response:
    headers = {"X-Experience-API-Version": XAPI_VERSION}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="cohortbot xAPI", Basic realm="cohortbot xAPI"'
    return web.json_response({"error": message}, status=status, headers=headers)


def _with_query_id(body: Any, statement_id: str | None) -> Any:
    """PUT sends one statement and its id as `?statementId=`, as LRS clients do."""
    if not statement_id:
        raise StatementError("PUT needs ?statementId=<uuid> (or POST the statement)")
    if not isinstance(body, dict):
        raise StatementError("PUT takes one statement (a JSON object)")
    if "id" in body and str(body["id"]).lower() != statement_id.lower():
        raise StatementError(f"the statement's id {body['id']} differs from statementId {statement_id}")
    return {**body, "id": statement_id}


def statements_handler(app: App, token: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        if not authorised(request.headers.get("Authorization"), token):
            return _error(401, "missing or wrong token: send Authorization: Bearer <XAPI_TOKEN>")
        try:
            body = json.loads(await request.text())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            return _error(400, f"the body is not valid JSON: {e}")
        try:
            if request.method == "PUT":
                body = _with_query_id(body, request.query.get("statementId"))
            ids = await receive_statements(app.store, app.settings, app.clock.now(), body)
        except StatementError as e:
            return _error(400, str(e))
        if request.method == "PUT":
            return web.Response(status=204, headers={"X-Experience-API-Version": XAPI_VERSION})
        return web.json_response(ids, headers={"X-Experience-API-Version": XAPI_VERSION})

    return handle


async def attach(app: App, webapp: web.Application) -> Callable[[], Awaitable[None]]:
    """Add `POST` (and `PUT ?statementId=`) `/xapi/statements` to the shared HTTP application."""
    if app.settings.xapi_token is None or not app.settings.xapi_token.get_secret_value():
        raise ValueError("XAPI_TOKEN is empty: set a long random token, or unset it to turn xAPI off")
    handler = statements_handler(app, app.settings.xapi_token.get_secret_value())
    webapp.router.add_post(PATH, handler)
    webapp.router.add_put(PATH, handler)

    async def cleanup() -> None:
        return None

    return cleanup
