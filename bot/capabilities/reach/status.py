"""Who of a cohort can be reached, on which platform, and for each one who cannot, why.

Pure reading: the person's accounts (blocked or not), the outcome of their email lookups, and
whether they removed the app. `reach` and `status` both show it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.reach.models import IdentityLookup
from bot.core.directory import (
    APP_BLOCKED,
    DEACTIVATED,
    LOOKUP_FAILING,
    LOOKUP_PENDING,
    UNINSTALLED,
)
from bot.core.models import Activity, Cohort, Enrolment, Identity, OutboxMessage, Person

NO_EMAIL = "no_email"  # enrolled by name, never wrote, nothing to look up
# Slack's answers for an account that is gone (chat.postMessage errors), as the outbox recorded them.
GONE_ACCOUNT_ERRORS = ("account_inactive", "user_disabled", "user_not_found")


@dataclass(frozen=True)
class Unreachable:
    person_id: int
    name: str
    email: str | None
    reason: str
    platform: str | None = None
    detail: str | None = None


@dataclass
class Reach:
    learners: int = 0
    by_platform: Counter[str] = field(default_factory=Counter)
    unreachable: list[Unreachable] = field(default_factory=list)

    @property
    def reachable(self) -> int:
        return sum(self.by_platform.values())


async def cohort_reach(session: AsyncSession, cohort: Cohort) -> Reach:
    learners = (
        await session.exec(
            select(Person)
            .join(Enrolment, col(Enrolment.person_id) == Person.id)
            .where(
                Enrolment.cohort_id == cohort.id, Enrolment.role == "learner", Enrolment.status == "active"
            )
            .order_by(col(Person.display_name))
        )
    ).all()
    in_cohort = select(Enrolment.person_id).where(Enrolment.cohort_id == cohort.id)
    identities: dict[int, list[Identity]] = {}
    for identity in (
        await session.exec(
            select(Identity).where(col(Identity.person_id).in_(in_cohort)).order_by(col(Identity.id))
        )
    ).all():
        identities.setdefault(identity.person_id, []).append(identity)
    lookups: dict[int, list[IdentityLookup]] = {}
    for lookup in (
        await session.exec(select(IdentityLookup).where(col(IdentityLookup.person_id).in_(in_cohort)))
    ).all():
        lookups.setdefault(lookup.person_id, []).append(lookup)
    removed = set(
        (
            await session.exec(
                select(Activity.person_id).where(
                    Activity.kind == "teams.uninstalled", col(Activity.person_id).in_(in_cohort)
                )
            )
        ).all()
    )
    last_failure: dict[int, str] = {}
    for person_id, error in (
        await session.exec(
            select(OutboxMessage.person_id, OutboxMessage.last_error)
            .where(OutboxMessage.status == "failed", col(OutboxMessage.person_id).in_(in_cohort))
            .order_by(col(OutboxMessage.id))
        )
    ).all():
        if person_id is not None and error:
            last_failure[person_id] = error
    reach = Reach(learners=len(learners))
    for person in learners:
        pid = person.id or 0
        accounts = identities.get(pid, [])
        open_accounts = [i for i in accounts if i.blocked_at is None]
        if open_accounts:
            reach.by_platform[open_accounts[-1].platform] += 1
            continue
        why = _why(person, accounts, lookups.get(pid, []), pid in removed, last_failure.get(pid, ""))
        reach.unreachable.append(why)
    return reach


def _why(
    person: Person, accounts: list[Identity], lookups: list[IdentityLookup], removed: bool, failure: str
) -> Unreachable:
    pid, name, email = person.id or 0, person.display_name, person.email
    if accounts:
        # Every account refuses messages: the platform's last answer says why.
        gone = any(code in failure for code in GONE_ACCOUNT_ERRORS)
        refused = DEACTIVATED if gone else UNINSTALLED if removed else APP_BLOCKED
        return Unreachable(pid, name, email, refused, accounts[-1].platform, failure or None)
    if not email:
        return Unreachable(pid, name, email, NO_EMAIL)
    # The most useful answer first: a definite "not there", then a refused lookup, then waiting.
    wanted: tuple[tuple[str, str | None], ...] = (("missing", None), ("pending", LOOKUP_FAILING))
    for state, reason in wanted:
        for lookup in lookups:
            if lookup.state == state and (reason is None or lookup.reason == reason):
                return Unreachable(
                    pid, name, email, lookup.reason or LOOKUP_PENDING, lookup.platform, lookup.detail
                )
    return Unreachable(pid, name, email, LOOKUP_PENDING, lookups[0].platform if lookups else None)
