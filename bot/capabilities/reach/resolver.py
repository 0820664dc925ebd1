"""Resolve everyone enrolled by email who has no platform account yet, through each platform's
`Directory`, before anything is due: link the found (merging split records), remember why the
others were not found, and look again later (soon for a rate-limited lookup, hours later for
someone not in the workspace yet: people join late).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.reach.models import IdentityLookup
from bot.core.clock import Clock
from bot.core.context import EventContext
from bot.core.directory import LOOKUP_FAILING, LOOKUP_PENDING, Directory, Found, Lookup
from bot.core.linking import link_many
from bot.core.models import Activity, Cohort, Enrolment, Identity, Person
from bot.core.registry import on_activities
from bot.core.settings import Settings
from bot.core.store import Store

log = logging.getLogger(__name__)

CHAT_PLATFORMS = ("slack", "teams")
RETRY_PENDING = timedelta(minutes=1)  # rate limited or failing: soon
RETRY_MISSING = timedelta(hours=6)  # not in the workspace (yet): people join late
BATCH = 500  # rows written per transaction, so a big import never holds one long write lock


@dataclass
class ResolveReport:
    asked: dict[str, int] = field(default_factory=dict)  # platform -> emails asked about
    found: int = 0
    missing: int = 0
    pending: int = 0


class IdentityResolver:
    def __init__(
        self, store: Store, clock: Clock, settings: Settings, directories: Mapping[str, Directory]
    ) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.directories = directories
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Someone was just enrolled: look them up now rather than at the next periodic pass."""
        self._wake.set()

    async def run_once(self) -> ResolveReport:
        """Ask every directory about the people due for a lookup on it; record the answers."""
        report = ResolveReport()
        for platform, directory in self.directories.items():
            async with self.store.transaction() as session:
                due = await unresolved(session, platform, self.clock.now())
            if not due:
                continue
            report.asked[platform] = len(due)
            lookup = await directory.resolve(sorted(due))
            await self._record(platform, due, lookup, report)
        return report

    async def run_forever(self, every: float = 60.0) -> None:
        """Resolve now, then every `every` seconds (the safety net behind first messages), and
        soon after an enrolment in this process."""
        RUNNING.add(self)
        try:
            await self._loop(every)
        finally:
            RUNNING.discard(self)

    async def _loop(self, every: float) -> None:
        while True:
            try:
                report = await self.run_once()
                if report.asked:
                    log.info(
                        "identity lookups: asked %s, found %d, not found %d, pending %d",
                        report.asked,
                        report.found,
                        report.missing,
                        report.pending,
                    )
            except Exception:
                log.exception("identity lookups failed; trying again in %.0f s", every)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), every)
                await asyncio.sleep(SETTLE)  # let the enrolling transaction (or import) commit
            self._wake.clear()

    async def _record(
        self, platform: str, due: dict[str, int], lookup: Lookup, report: ResolveReport
    ) -> None:
        found = [f for f in lookup.found if f.email.lower() in due]
        for start in range(0, len(found), BATCH):
            await self._link(platform, due, found[start : start + BATCH])
        report.found += len(found)
        outcomes: dict[int, tuple[str, str | None, timedelta]] = {}
        for email, reason in lookup.missing.items():
            if email in due:
                outcomes[due[email]] = ("missing", reason, RETRY_MISSING)
        for email in lookup.pending:
            if email in due:
                waiting = LOOKUP_FAILING if lookup.error else LOOKUP_PENDING
                outcomes[due[email]] = ("pending", waiting, RETRY_PENDING)
        report.missing += sum(1 for o in outcomes.values() if o[0] == "missing")
        report.pending += sum(1 for o in outcomes.values() if o[0] == "pending")
        items = list(outcomes.items())
        for start in range(0, len(items), BATCH):
            async with self.store.transaction() as session:
                for person_id, (state, why, wait) in items[start : start + BATCH]:
                    await _note(
                        session, person_id, platform, state, why, lookup.error, self.clock.now(), wait
                    )

    async def _link(self, platform: str, due: dict[str, int], found: list[Found]) -> None:
        # No lookup row is kept for the found: their account is what `reach` reads from now on.
        async with self.store.transaction() as session:
            ctx = EventContext(session=session, now=self.clock.now(), settings=self.settings)
            await link_many(ctx, found, source=f"{platform} directory")


async def unresolved(session: AsyncSession, platform: str, now: datetime) -> dict[str, int]:
    """Email -> person id of everyone actively enrolled who has no chat account yet and whose
    lookup on `platform` is due."""
    has_account = select(Identity.person_id).where(col(Identity.platform).in_(CHAT_PLATFORMS))
    waiting = select(IdentityLookup.person_id).where(
        IdentityLookup.platform == platform, IdentityLookup.next_check_at > now
    )
    rows = await session.exec(
        select(Person.id, Person.email)
        .join(Enrolment, col(Enrolment.person_id) == Person.id)
        .join(Cohort, col(Cohort.id) == Enrolment.cohort_id)
        .where(
            col(Person.email).is_not(None),
            Enrolment.status == "active",
            Cohort.status != "archived",
            col(Person.id).not_in(has_account),
            col(Person.id).not_in(waiting),
        )
        .distinct()
    )
    return {email.lower(): person_id for person_id, email in rows.all() if email and person_id}


async def _note(
    session: AsyncSession,
    person_id: int,
    platform: str,
    state: str,
    reason: str | None,
    detail: str | None,
    now: datetime,
    wait: timedelta,
) -> None:
    row = (
        await session.exec(
            select(IdentityLookup).where(
                IdentityLookup.person_id == person_id, IdentityLookup.platform == platform
            )
        )
    ).first()
    if row is None:
        row = IdentityLookup(person_id=person_id, platform=platform, checked_at=now, next_check_at=now)
    row.state, row.reason, row.detail = state, reason, detail
    row.attempts += 1
    row.checked_at, row.next_check_at = now, now + wait
    session.add(row)


# Resolvers running in this process, woken by enrolments (an import run by the CLI in another
# process is picked up by the periodic pass instead).
RUNNING: weakref.WeakSet[IdentityResolver] = weakref.WeakSet()
SETTLE = 1.0  # seconds between an enrolment and the lookup it wakes


@on_activities("enrolment.created")
async def _someone_enrolled(ctx: EventContext, activities: list[Activity]) -> None:
    for resolver in list(RUNNING):
        resolver.wake()
