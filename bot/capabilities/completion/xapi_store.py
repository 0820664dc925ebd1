"""Receiving xAPI statements: store each once, act on those that mean something, undo voided ones.

One transaction per request. Statements already stored are compared with what is sent again
(same content: nothing to do; different content: `StatementConflict`, nothing stored). A
completion about a learner cohortbot does not know yet is kept as `waiting: ...` and applied by
`link_waiting` once that learner is imported or given their LMS user id.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.completion.activities import module_for_activity
from bot.capabilities.completion.models import LmsAccount, XapiStatement
from bot.capabilities.completion.recording import best_result, record_completion, withdraw_completion
from bot.capabilities.completion.statements import Actor, Statement, StatementError, parse_statement
from bot.core.context import EventContext
from bot.core.i18n import L_
from bot.core.models import Activity, Completion, Enrolment, Identity, Module, Person
from bot.core.outbox import insert_many
from bot.core.registry import on_activity
from bot.core.settings import Settings
from bot.core.store import Store

log = logging.getLogger(__name__)

CHUNK = 500  # ids per IN (...): well under SQLite's and asyncpg's bound-parameter limits
USED = ("recorded", "unchanged")
# Properties an LRS sets itself: a statement sent again with other values for them is the same one.
LRS_PROPERTIES = ("id", "stored", "authority", "version")
XAPI_STATEMENT = XapiStatement.__table__  # type: ignore[attr-defined]


class StatementConflict(Exception):
    """A statement id is already stored with different content (409 Conflict)."""


def same_statement(a: dict[str, Any], b: dict[str, Any]) -> bool:
    strip = lambda s: {k: v for k, v in s.items() if k not in LRS_PROPERTIES}  # noqa: E731
    return strip(a) == strip(b)


async def receive_statements(
    store: Store, settings: Settings, now: datetime, statements: list[Statement]
) -> list[str]:
    """Store and act on already-parsed statements in one transaction; returns their ids.

    Raises StatementError (a batch repeating an id, a voiding statement voiding a voiding
    statement) or StatementConflict; then nothing is stored.
    """
    ids = [s.statement_id for s in statements]
    if len(set(ids)) != len(ids):
        repeated = sorted({i for i in ids if ids.count(i) > 1})[:3]
        raise StatementError(L_("the batch repeats statement id(s) {ids}", ids=", ".join(repeated)))
    async with store.transaction() as session:
        known = await _stored(session, ids)
        for statement in statements:
            previous = known.get(statement.statement_id)
            if previous is not None and not same_statement(previous.raw, statement.raw):
                raise StatementConflict(
                    L_("statement {id} is already stored with other content", id=statement.statement_id)
                )
        new = [s for s in statements if s.statement_id not in known]
        await _check_voiding(session, new)
        ctx = EventContext(session=session, now=now, settings=settings)
        receiver = _Receiver(ctx, await _voided_already(session, [s.statement_id for s in new]))
        await receiver.lookup.preload(s.actor for s in new if s.status is not None)
        rows = [await receiver.store(statement) for statement in new]
        await insert_many(session, XAPI_STATEMENT, rows, key="statement_id")
        await receiver.void_pending()
    return ids


async def _stored(session: AsyncSession, ids: Iterable[str]) -> dict[str, XapiStatement]:
    ordered = sorted(set(ids))
    found: dict[str, XapiStatement] = {}
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        rows = await session.exec(select(XapiStatement).where(col(XapiStatement.statement_id).in_(chunk)))
        found.update({row.statement_id: row for row in rows.all()})
    return found


async def _voided_already(session: AsyncSession, ids: list[str]) -> set[str]:
    """Which of these new statements a statement stored earlier voids (it came first)."""
    found: set[str] = set()
    for start in range(0, len(ids), CHUNK):
        rows = await session.exec(
            select(XapiStatement.voids).where(col(XapiStatement.voids).in_(ids[start : start + CHUNK]))
        )
        found.update(v for v in rows.all() if v)
    return found


async def _check_voiding(session: AsyncSession, new: list[Statement]) -> None:
    """A voiding statement cannot void another voiding statement (xAPI 1.0.3, 2.3.2)."""
    targets = {s.voids for s in new if s.voids}
    if not targets:
        return
    voiding = {s.statement_id for s in new if s.voids} | {
        row.statement_id for row in (await _stored(session, targets)).values() if row.voids
    }
    for statement in new:
        if statement.voids in voiding:
            raise StatementError(
                L_(
                    "statement {id} voids {target}, itself a voiding statement",
                    id=statement.statement_id,
                    target=statement.voids,
                )
            )


class _Receiver:
    """Acts on the statements of one request, looking modules, people and enrolments up once each."""

    def __init__(self, ctx: EventContext, voided_already: set[str]) -> None:
        self.ctx = ctx
        self.voided_already = voided_already
        self.lookup = Lookup(ctx.session, ctx.settings)
        self.voiding: list[Statement] = []

    async def store(self, statement: Statement) -> dict[str, Any]:
        """The row to insert for a new statement, after acting on it."""
        if statement.voids:
            self.voiding.append(statement)  # after the batch is stored: it may void one of them
            outcome: dict[str, Any] = {"outcome": f"voided {statement.voids}"}
        elif statement.statement_id in self.voided_already:
            outcome = {"outcome": "not used: voided before it arrived", "voided": True}
        else:
            outcome = await apply_statement(self.ctx, statement, self.lookup)
        return {
            "statement_id": statement.statement_id,
            "received_at": self.ctx.now,
            "verb": statement.verb,
            "raw": statement.raw,
            "actor_key": statement.actor.key,
            "voids": statement.voids,
            "voided": False,
            "cohort_id": None,
            "module_id": None,
            "person_id": None,
            **outcome,
        }

    async def void_pending(self) -> None:
        for statement in self.voiding:
            await void(self.ctx, statement.voids or "")


async def apply_statement(ctx: EventContext, statement: Statement, lookup: Lookup) -> dict[str, Any]:
    """Record the completion a statement reports; returns its outcome and what it matched."""
    if statement.status is None or statement.activity_id is None:
        return {"outcome": f"not used: {statement.verb} is not a completion"}
    module = await lookup.module(statement.activity_id)
    person = await lookup.person(statement.actor)
    where = {
        "cohort_id": module.cohort_id if module else None,
        "module_id": module.id if module else None,
        "person_id": person.id if person else None,
    }
    if module is None:
        outcome = f"not used: no module matches {statement.activity_id}"
    elif statement.actor.group:
        outcome = "not used: about a Group, not a learner"
    elif person is None:
        outcome = f"waiting: no learner {statement.actor.describe()} yet"
    elif not await lookup.is_learner(module.cohort_id, person.id or 0):
        outcome = f"waiting: {person.email or person.display_name} is not a learner of this cohort"
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
            known=await lookup.completions(module.cohort_id),
        )
        outcome = "recorded" if result.changed else "unchanged"
    if not outcome.startswith("re") and not outcome.startswith("unch"):
        log.debug("xAPI statement %s %s", statement.statement_id, outcome)  # a Moodle feed: thousands
    return {"outcome": outcome, **where}


async def void(ctx: EventContext, target_id: str) -> None:
    """Mark a stored statement voided and undo the completion it recorded."""
    target = await ctx.session.get(XapiStatement, target_id)
    if target is None or target.voided:
        return  # not here yet: it will be stored voided when it arrives
    target.voided = True
    ctx.session.add(target)
    if target.outcome not in USED or target.module_id is None or target.person_id is None:
        return
    module = await ctx.session.get(Module, target.module_id)
    if module is None:
        return
    others = await ctx.session.exec(
        select(XapiStatement).where(
            XapiStatement.module_id == target.module_id,
            XapiStatement.person_id == target.person_id,
            col(XapiStatement.outcome).in_(USED),
            col(XapiStatement.voided).is_(False),
        )
    )
    results = []
    for row in others.all():
        statement = parse_statement(row.raw, row.statement_id, ctx.now)
        if statement.status is not None:
            results.append((statement.status, statement.score, statement.timestamp))
    await withdraw_completion(ctx, module, target.person_id, source="xapi", fallback=best_result(results))


async def link_waiting(ctx: EventContext, person_ids: list[int]) -> int:
    """Apply the statements kept `waiting` for these people (imported or given an LMS id since);
    returns how many recorded something."""
    if not person_ids:
        return 0
    keys = await actor_keys(ctx.session, person_ids)
    if not keys:
        return 0
    lookup = Lookup(ctx.session, ctx.settings)
    recorded = 0
    updates = []
    for start in range(0, len(keys), CHUNK):
        rows = await ctx.session.exec(
            select(XapiStatement)
            .where(col(XapiStatement.actor_key).in_(keys[start : start + CHUNK]))
            .where(col(XapiStatement.outcome).startswith("waiting"), col(XapiStatement.voided).is_(False))
            .order_by(col(XapiStatement.received_at))
        )
        for row in rows.all():
            outcome = await apply_statement(ctx, parse_statement(row.raw, row.statement_id, ctx.now), lookup)
            recorded += outcome["outcome"] == "recorded"
            updates.append({"b_id": row.statement_id, **{f"b_{k}": v for k, v in outcome.items()}})
    if updates:
        conn = await ctx.session.connection()
        await conn.execute(
            XAPI_STATEMENT.update()
            .where(XAPI_STATEMENT.c.statement_id == bindparam("b_id"))
            .values(
                outcome=bindparam("b_outcome"),
                cohort_id=bindparam("b_cohort_id"),
                module_id=bindparam("b_module_id"),
                person_id=bindparam("b_person_id"),
            ),
            updates,
        )
    return recorded


async def actor_keys(session: AsyncSession, person_ids: list[int]) -> list[str]:
    """Every actor key statements may name these people by: mbox, its SHA-1, LMS account."""
    keys: list[str] = []
    for start in range(0, len(person_ids), CHUNK):
        chunk = person_ids[start : start + CHUNK]
        for email in (await session.exec(select(Person.email).where(col(Person.id).in_(chunk)))).all():
            if email:
                keys += [f"mbox:{email.lower()}", f"sha1:{mbox_sha1(email)}"]
        accounts = await session.exec(
            select(LmsAccount.lms_user_id).where(col(LmsAccount.person_id).in_(chunk))
        )
        keys += [f"account:{name}" for name in accounts.all()]
    return keys


def mbox_sha1(email: str) -> str:
    """xAPI's mbox_sha1sum: SHA-1 of the whole mailto IRI."""
    return hashlib.sha1(f"mailto:{email.lower()}".encode()).hexdigest()


class Lookup:
    """Modules, people, enrolments and completions looked up once per request, however many
    statements name them."""

    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self._modules: dict[str, Module | None] = {}
        self._people: dict[Actor, Person | None] = {}
        self._learners: dict[int, set[int]] = {}
        self._completions: dict[int, dict[tuple[int, int], Completion]] = {}
        self._sha1: dict[str, int] | None = None

    async def module(self, activity_id: str) -> Module | None:
        if activity_id not in self._modules:
            self._modules[activity_id] = await module_for_activity(self.session, activity_id)
        return self._modules[activity_id]

    async def preload(self, actors: Iterable[Actor]) -> None:
        """Find the people behind many actors in a few queries (a batch names hundreds)."""
        todo = {a for a in actors if a not in self._people and not a.group}
        emails = sorted({a.email for a in todo if a.email})
        names = sorted({a.account_name for a in todo if a.account_name is not None and self._home_ok(a)})
        by_email: dict[str, Person] = {}
        by_account: dict[str, int] = {}
        for start in range(0, len(emails), CHUNK):
            rows = await self.session.exec(
                select(Person).where(col(Person.email).in_(emails[start : start + CHUNK]))
            )
            by_email.update({p.email or "": p for p in rows.all()})
        for start in range(0, len(names), CHUNK):
            accounts = await self.session.exec(
                select(LmsAccount).where(col(LmsAccount.lms_user_id).in_(names[start : start + CHUNK]))
            )
            by_account.update({a.lms_user_id: a.person_id for a in accounts.all()})
        ids = sorted(set(by_account.values()))
        people: dict[int, Person] = {}
        for start in range(0, len(ids), CHUNK):
            rows = await self.session.exec(
                select(Person).where(col(Person.id).in_(ids[start : start + CHUNK]))
            )
            people.update({p.id or 0: p for p in rows.all()})
        for actor in todo:
            if actor.email:
                self._people[actor] = by_email.get(actor.email)
            elif actor.account_name is not None and actor.account_name in by_account:
                self._people[actor] = people.get(by_account[actor.account_name])

    def _home_ok(self, actor: Actor) -> bool:
        """Is this account's homePage the configured LMS's (any, when none is configured)?"""
        home = self.settings.xapi_account_homepage
        return not home or (actor.account_home or "").rstrip("/") == home.rstrip("/")

    async def person(self, actor: Actor) -> Person | None:
        if actor not in self._people:
            self._people[actor] = await self._find_person(actor)
        return self._people[actor]

    async def _find_person(self, actor: Actor) -> Person | None:
        if actor.email:
            return (await self.session.exec(select(Person).where(Person.email == actor.email))).first()
        if actor.mbox_sha1sum:
            person_id = (await self._sha1_index()).get(actor.mbox_sha1sum)
            return await self.session.get(Person, person_id) if person_id else None
        if actor.account_name is not None:
            return await self._by_account(actor)
        return None

    async def _by_account(self, actor: Actor) -> Person | None:
        """An account's name is the person's LMS user id (if the account's homePage is the
        configured LMS, when one is), else their email, else a chat platform user id."""
        name = actor.account_name or ""
        if self._home_ok(actor):
            account = (
                await self.session.exec(select(LmsAccount).where(LmsAccount.lms_user_id == name))
            ).first()
            if account is not None:
                return await self.session.get(Person, account.person_id)
        found = (await self.session.exec(select(Person).where(Person.email == name.lower()))).first()
        if found is not None:
            return found
        identity = (await self.session.exec(select(Identity).where(Identity.user_id == name))).first()
        return await self.session.get(Person, identity.person_id) if identity else None

    async def _sha1_index(self) -> dict[str, int]:
        """SHA-1 of every known email, computed once per request (only when a statement needs it)."""
        if self._sha1 is None:
            rows = await self.session.exec(
                select(Person.email, Person.id).where(col(Person.email).is_not(None))
            )
            self._sha1 = {mbox_sha1(email or ""): person_id or 0 for email, person_id in rows.all()}
        return self._sha1

    async def is_learner(self, cohort_id: int, person_id: int) -> bool:
        """Whether the person is an active learner of the cohort (its learners loaded once)."""
        if cohort_id not in self._learners:
            found = await self.session.exec(
                select(Enrolment.person_id).where(
                    Enrolment.cohort_id == cohort_id,
                    Enrolment.role == "learner",
                    Enrolment.status == "active",
                )
            )
            self._learners[cohort_id] = set(found.all())
        return person_id in self._learners[cohort_id]

    async def completions(self, cohort_id: int) -> dict[tuple[int, int], Completion]:
        """The cohort's completions by (module, person), loaded once: a 10,000-statement batch
        would otherwise cost a query per completion."""
        if cohort_id not in self._completions:
            rows = await self.session.exec(select(Completion).where(Completion.cohort_id == cohort_id))
            self._completions[cohort_id] = {(c.module_id, c.person_id): c for c in rows.all()}
        return self._completions[cohort_id]


@on_activity("enrolment.created")
async def link_on_enrolment(ctx: EventContext, activity: Activity) -> None:
    """Someone enrolled in the chat (`enroll`): apply the completions waiting for them. A CSV
    import links everyone it enrolled at its end, in one pass."""
    if activity.person_id is not None and activity.data.get("source") != "csv":
        await link_waiting(ctx, [activity.person_id])
