"""What a command, action or scheduled event handler works with: one transaction and its helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core import outbox
from bot.core.errors import PermissionDenied, UserError
from bot.core.grammar import brief
from bot.core.i18n import _
from bot.core.inbound import Inbound
from bot.core.messages import Message
from bot.core.models import Activity, Cohort, Enrolment, Identity, Person
from bot.core.outbox import Compose
from bot.core.people import matches_admin, resolve_person
from bot.core.prepared_insert import PreparedInsert
from bot.core.registry import ACTIVITY_BATCH_LISTENERS, ACTIVITY_LISTENERS
from bot.core.settings import Settings

STAFF_ROLES = ("admin", "trainer")
_ACTIVITY_INSERT = PreparedInsert(insert(Activity.__table__))  # type: ignore[attr-defined]


@dataclass
class EventContext:
    """A handler's view of one transaction: the session, the time, and ways to act."""

    session: AsyncSession
    now: datetime
    settings: Settings

    async def log(
        self,
        kind: str,
        *,
        cohort_id: int | None = None,
        person_id: int | None = None,
        actor_id: int | None = None,
        **data: Any,
    ) -> None:
        """Append to the activity log (the audit trail KPIs are computed from), and tell its listeners."""
        row = {
            "at": self.now,
            "cohort_id": cohort_id,
            "person_id": person_id,
            "actor_id": actor_id,
            "kind": kind,
            "data": data,
        }
        # A plain INSERT compiled once, on the table: the ORM's unit of work costs more than the
        # row, and so does SQLAlchemy's execution layer (this runs on every click).
        await _ACTIVITY_INSERT.run(self.session, row)
        listeners = [fn for prefix, fn in ACTIVITY_LISTENERS if kind.startswith(prefix)]
        batch_listeners = [fn for prefix, fn in ACTIVITY_BATCH_LISTENERS if kind.startswith(prefix)]
        if not listeners and not batch_listeners:
            return
        activity = Activity.model_construct(**row)  # read only: no ORM state needed, 8x cheaper
        for listener in listeners:
            await listener(self, activity)
        for batch_listener in batch_listeners:
            await batch_listener(self, [activity])

    async def log_many(self, kind: str, entries: list[dict[str, Any]]) -> None:
        """Log one `kind` activity per entry (cohort_id / person_id / actor_id and data) in one
        statement; listeners see them as one batch."""
        if not entries:
            return
        keys = ("cohort_id", "person_id", "actor_id")
        activities = [
            Activity(
                at=self.now,
                kind=kind,
                data={k: v for k, v in e.items() if k not in keys},
                **{k: e.get(k) for k in keys},
            )
            for e in entries
        ]
        connection = await self.session.connection()
        await connection.execute(
            insert(Activity.__table__),  # type: ignore[attr-defined]
            [a.model_dump(exclude={"id"}) for a in activities],
        )
        for prefix, listener in ACTIVITY_LISTENERS:
            if kind.startswith(prefix):
                for activity in activities:
                    await listener(self, activity)
        for prefix, batch_listener in ACTIVITY_BATCH_LISTENERS:
            if kind.startswith(prefix):
                await batch_listener(self, activities)

    async def dm(
        self, person_id: int, message: Message | Compose, *, key: str, cohort_id: int | None = None
    ) -> bool:
        return await outbox.enqueue_dm(
            self.session, person_id, message, key=key, now=self.now, cohort_id=cohort_id
        )

    async def dms(
        self,
        recipients: list[outbox.Recipient],
        *,
        cohort_id: int | None = None,
        priority: int = outbox.NORMAL,
    ) -> int:
        return await outbox.enqueue_dms(
            self.session, recipients, now=self.now, cohort_id=cohort_id, priority=priority
        )

    async def post(
        self, cohort: Cohort, message: Message | Compose, *, key: str, priority: int = outbox.NORMAL
    ) -> bool:
        return await outbox.enqueue_channel_post(
            self.session, cohort, message, key=key, now=self.now, priority=priority
        )

    async def update_message(self, original_key: str, message: Message, *, key: str) -> bool:
        return await outbox.enqueue_update(self.session, original_key, message, key=key, now=self.now)

    async def cohort(self, slug: str) -> Cohort:
        """The cohort named `slug`, or a UserError naming the closest existing one."""
        found = (await self.session.exec(select(Cohort).where(Cohort.slug == slug.lower()))).first()
        if found is not None:
            return found
        import difflib

        near = difflib.get_close_matches(slug.lower(), await self.known_cohorts(), n=1)
        hint = " " + _("Did you mean '{near}'?", near=near[0]) if near else ""
        raise UserError(_("There is no cohort '{cohort}'.", cohort=brief(slug)) + hint)

    async def known_cohorts(self) -> list[str]:
        """The cohort names a "did you mean" may suggest: all of them to the system itself."""
        return list((await self.session.exec(select(Cohort.slug))).all())

    async def enrolment(self, cohort: Cohort, person_id: int) -> Enrolment | None:
        return (
            await self.session.exec(
                select(Enrolment).where(Enrolment.cohort_id == cohort.id, Enrolment.person_id == person_id)
            )
        ).first()

    async def learners(self, cohort: Cohort) -> list[Enrolment]:
        rows = await self.session.exec(
            select(Enrolment).where(
                Enrolment.cohort_id == cohort.id, Enrolment.role == "learner", Enrolment.status == "active"
            )
        )
        return list(rows.all())

    async def count(self, model: Any, *conditions: Any) -> int:
        return int(
            (await self.session.exec(select(func.count()).select_from(model).where(*conditions))).one()
        )


@dataclass
class Ctx(EventContext):
    """Context of an inbound command or click: adds who is asking and how."""

    inbound: Inbound = field(default=None)  # type: ignore[assignment]
    actor: Person = field(default=None)  # type: ignore[assignment]
    identity: Identity = field(default=None)  # type: ignore[assignment]

    @property
    def is_global_admin(self) -> bool:
        # The profile email this request carried came from the platform's profile API; the
        # person's stored email may have been typed by a trainer, so it does not count.
        return matches_admin(self.identity, self.inbound.sender.email, self.settings.admin_list)

    async def known_cohorts(self) -> list[str]:
        """Only the caller's own cohorts (all of them for a configured admin): a typo must not
        reveal the names of cohorts someone is not in."""
        if self.is_global_admin:
            return await super().known_cohorts()
        query = (
            select(Cohort.slug)
            .join(Enrolment, col(Enrolment.cohort_id) == Cohort.id)
            .where(Enrolment.person_id == self.actor.id, Enrolment.status == "active")
        )
        return list((await self.session.exec(query)).all())

    async def role_in(self, cohort: Cohort) -> str | None:
        enrolment = await self.enrolment(cohort, self.actor.id or 0)
        return enrolment.role if enrolment and enrolment.status == "active" else None

    async def is_staff(self, cohort: Cohort) -> bool:
        return self.is_global_admin or await self.role_in(cohort) in STAFF_ROLES

    async def require_staff(self, cohort: Cohort, doing: str) -> None:
        """Refuse unless the caller is an admin or trainer of the cohort (or a configured admin)."""
        if not await self.is_staff(cohort):
            raise PermissionDenied(
                _(
                    "Only admins and trainers of '{cohort}' can {doing}. "
                    "Ask one of them, or see `status {cohort}`.",
                    cohort=cohort.slug,
                    doing=_(doing),  # capabilities mark their `doing` phrases with N_
                )
            )

    async def staff_cohort(self, slug: str, doing: str) -> Cohort:
        """The cohort named `slug`, if the caller may `doing` in it (admins and trainers)."""
        cohort = await self.cohort(slug)
        await self.require_staff(cohort, doing)
        return cohort

    async def require_admin(self, cohort: Cohort, doing: str) -> None:
        if not (self.is_global_admin or await self.role_in(cohort) == "admin"):
            raise PermissionDenied(
                _("Only admins of '{cohort}' can {doing}.", cohort=cohort.slug, doing=_(doing))
            )

    async def person(self, token: str) -> Person:
        return await resolve_person(
            self.session,
            token,
            platform=self.inbound.sender.platform,
            workspace=self.inbound.sender.workspace,
            mentions=self.inbound.mentions,
            now=self.now,
        )
