"""The engine: takes a platform-neutral Inbound, runs the command or action in one transaction,
and answers with Replies in the caller's language. Outbound messages it causes are queued in the
outbox, never sent here."""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from datetime import datetime
from functools import lru_cache, partial
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core import i18n
from bot.core.clock import Clock
from bot.core.context import Ctx
from bot.core.delivery import LEASE
from bot.core.errors import PermissionDenied, UserError
from bot.core.grammar import ParseError, parse
from bot.core.group_commit import GroupCommit
from bot.core.i18n import N_, _
from bot.core.identity_cache import IdentityCache
from bot.core.inbound import Inbound, Profile
from bot.core.languages import reader_language
from bot.core.linking import announce
from bot.core.mentions import MAX_MENTIONS, may_act_as_staff, too_many_mentions
from bot.core.messages import Message, Reply, say
from bot.core.models import ProcessedInbound
from bot.core.outbox import enqueue_dm
from bot.core.people import upsert_profile
from bot.core.prepared_insert import PreparedInsert
from bot.core.registry import ACTIONS, HOME_VIEWS, VERBS, load_capabilities
from bot.core.replies import hold_reply
from bot.core.settings import Settings
from bot.core.sqlite_inline import DatabaseBusy
from bot.core.store import Store, insert_for

log = logging.getLogger(__name__)
BUSY = N_(
    "I'm busy right now (my database is locked by another task). Nothing was changed: try again in a minute."
)


class Engine:
    def __init__(
        self, store: Store, clock: Clock, settings: Settings, *, reply_holder: str | None = None
    ) -> None:
        load_capabilities()
        self.store = store
        self.clock = clock
        self.settings = settings
        # The delivery instance that holds the answers queued in place (its heartbeat vouches for
        # them: should it stop, another instance takes them over; see replies.py).
        self.reply_holder = reply_holder or uuid.uuid4().hex[:16]
        # Both need this process to see every write: SQLite has one instance, PostgreSQL may not.
        self.group_commit = GroupCommit(store) if store.is_sqlite else None
        self.identities = IdentityCache(store.engine) if store.is_sqlite else None
        self._remember = _remember_event(store.engine.dialect.name)

    async def handle(self, inbound: Inbound) -> Reply | None:
        """Run one command or action; returns the reply for the caller (None for a duplicate).

        Everything it does is one transaction, committed before this returns (on SQLite shared
        with the inbounds that arrive with it: see group_commit.py). A UserError undoes all of it
        (so a refused command changes nothing), then only the event id is remembered, so a retry
        is not rerun.
        """
        now = self.clock.now()
        with i18n.use(i18n.language_of(inbound.sender.locale)):
            return await self._handle(inbound, now)

    async def _handle(self, inbound: Inbound, now: datetime) -> Reply | None:
        if too_many_mentions(inbound):
            return say(
                _(
                    "A command can name at most {limit} people. "
                    "Split it, or import a list of learners from a CSV file.",
                    limit=MAX_MENTIONS,
                )
            )
        if inbound.pending_mentions:
            inbound = await self._look_up_mentions(inbound)
        try:
            return await self._commit(inbound, now)
        except OperationalError as e:
            if not isinstance(e.orig, DatabaseBusy):
                raise
            # Nothing was done (the event id neither), so the same request can simply come again.
            log.warning("database busy: %s", e.orig)
            return say(_(BUSY))

    async def _commit(self, inbound: Inbound, now: datetime) -> Reply | None:
        """Run one inbound and commit it: SQLite shares a commit among the inbounds that arrive
        together (its one connection serialises them anyway), PostgreSQL gives each its own."""
        unit = partial(self._run, inbound=inbound, now=now)
        recover = partial(self._refused, inbound=inbound, now=now)
        if self.group_commit is not None:
            return await self.group_commit.run(unit, recover)
        try:  # no savepoint: a refusal rolls the whole transaction back, then a new one remembers it
            async with self.store.transaction() as session:
                return await unit(session)
        except _Refused as refused:
            async with self.store.transaction() as session:
                return await recover(session, refused)

    async def _run(self, session: AsyncSession, *, inbound: Inbound, now: datetime) -> Reply | None:
        """One inbound; a UserError leaves as _Refused, carrying its answer in the reader's language."""
        with i18n.use(i18n.language_of(inbound.sender.locale)):
            if inbound.dedupe_key and not await self._first_time(session, inbound.dedupe_key, now):
                return None
            try:
                return await self._run_inbound(session, inbound, now)
            except UserError as e:
                raise _Refused(say(e.render())) from e

    async def _refused(
        self, session: AsyncSession, error: Exception, *, inbound: Inbound, now: datetime
    ) -> Reply | None:
        """After a refusal was undone: remember its event id only, so a retry is not rerun."""
        if not isinstance(error, _Refused):
            raise error
        if inbound.dedupe_key:
            await self._first_time(session, inbound.dedupe_key, now)
        return await self._held(session, inbound, error.reply, None, now)

    async def _held(
        self,
        session: AsyncSession,
        inbound: Inbound,
        reply: Reply | None,
        person_id: int | None,
        now: datetime,
    ) -> Reply | None:
        """The reply, queued with this transaction when the platform takes answers in place."""
        if reply is None:
            return None
        return await hold_reply(
            session,
            inbound,
            reply,
            person_id=person_id,
            holder=self.reply_holder,
            lease_until=now + LEASE,
            now=now,
        )

    async def _run_inbound(self, session: AsyncSession, inbound: Inbound, now: datetime) -> Reply | None:
        links: list[int] = []
        person, identity = await upsert_profile(
            session, inbound.sender, now, links=links, cache=self.identities
        )
        i18n.set_language(await reader_language(session, person, self.settings.default_language))
        if inbound.conversation_ref and identity.conversation_ref != inbound.conversation_ref:
            identity.conversation_ref = inbound.conversation_ref
            session.add(identity)
        ctx = Ctx(
            session=session,
            now=now,
            settings=self.settings,
            inbound=inbound,
            actor=person,
            identity=identity,
        )
        # Someone enrolled by email wrote for the first time: let capabilities catch up.
        await announce(ctx, links, platform=inbound.sender.platform, source="first message")
        reply = _as_reply(await self._dispatch(ctx, inbound))
        return await self._held(session, inbound, reply, person.id, now)

    async def _look_up_mentions(self, inbound: Inbound) -> Inbound:
        """Resolve the mentions of a command that may run; a staff command from someone who is
        not staff runs without (it is refused before it needs them), so it costs no platform call."""
        parsed = parse(inbound.text or "", VERBS)
        if isinstance(parsed, ParseError) or inbound.lookup_mentions is None:
            return replace(inbound, pending_mentions=())
        if parsed.verb.staff_only:
            cohort = parsed.values.get("cohort")
            async with self.store.transaction() as session:
                allowed = await may_act_as_staff(
                    session,
                    inbound.sender,
                    cohort if isinstance(cohort, str) else None,
                    self.settings.admin_list,
                )
            if not allowed:
                return replace(inbound, pending_mentions=())
        found = await inbound.lookup_mentions(inbound.pending_mentions)
        return replace(inbound, mentions={**inbound.mentions, **found}, pending_mentions=())

    async def home(self, profile: Profile, auth: str) -> Message:
        """A person's home screen (Slack's App Home, a Teams personal card), read in one transaction."""
        now = self.clock.now()
        async with self.store.transaction() as session:
            person, identity = await upsert_profile(session, profile, now)
            ctx = Ctx(
                session=session,
                now=now,
                settings=self.settings,
                inbound=Inbound(sender=profile, auth=auth),
                actor=person,
                identity=identity,
            )
            with i18n.use(await reader_language(session, person, self.settings.default_language)):
                return await HOME_VIEWS[-1](ctx)

    async def deliver_later(self, profile: Profile, reply: Reply, key: str) -> bool:
        """A reply the platform would not take in place (Slack's `response_url` failed, expired or
        was used up): queued in the outbox as a message to the caller, so it is retried like any
        other and sent once (`key`). False when it was queued before."""
        now = self.clock.now()
        async with self.store.transaction() as session:
            person, _ = await upsert_profile(session, profile, now, cache=self.identities)
            assert person.id is not None
            return await enqueue_dm(session, person.id, reply.message, key=key, now=now)

    async def _first_time(self, session: AsyncSession, key: str, now: datetime) -> bool:
        """Remember a platform event id; False when it was seen before (a retried delivery)."""
        return bool(await self._remember.run(session, {"key": key, "at": now}))

    async def _dispatch(self, ctx: Ctx, inbound: Inbound) -> Any:
        if inbound.action is not None:
            handler = ACTIONS.get(inbound.action.action_id)
            if handler is None:
                return say(_("This button is no longer active."))
            return await handler(ctx, inbound.action.value, inbound.action.inputs)
        parsed = parse(inbound.text or "", VERBS, lang=i18n.current())
        if isinstance(parsed, ParseError):
            return say(parsed.render())
        assert parsed.verb.handler is not None
        try:
            return await parsed.verb.handler(ctx, **parsed.values)
        except UserError as e:
            if e.usage is None and not isinstance(e, PermissionDenied):
                e.usage = parsed.verb.usage
            raise


@lru_cache(maxsize=4)
def _remember_event(dialect: str) -> PreparedInsert:
    """INSERT ... ON CONFLICT DO NOTHING into processed_inbound, built once: it runs on every click
    (its rowcount is 0 when the key was there already)."""
    insert = insert_for(dialect)
    table = ProcessedInbound.__table__  # type: ignore[attr-defined]
    return PreparedInsert(insert(table).on_conflict_do_nothing(index_elements=["key"]))


def _as_reply(result: Any) -> Reply | None:
    if result is None or isinstance(result, Reply):
        return result
    if isinstance(result, Message):
        return Reply(result)
    return say(str(result))


class _Refused(Exception):
    """A UserError, rendered in the reader's language: its inbound is undone, the answer kept."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.message.summary)
        self.reply = reply
