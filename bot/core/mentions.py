"""People mentioned in a command are looked up on the platform only when the command may run.

Resolving a mention costs the platform a profile call (Slack `users.info`). An adapter therefore
hands the engine the mention tokens and a way to look them up, and the engine looks them up only
after the caller passed the permission check of a staff command, and only for a bounded number:
one signed command naming 20,000 people must not become 20,000 calls.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.context import STAFF_ROLES
from bot.core.inbound import Inbound, Profile
from bot.core.models import Cohort, Enrolment, Identity
from bot.core.people import matches_admin

MAX_MENTIONS = 100  # people named in one command; more come through a CSV import

MentionLookup = Callable[[tuple[str, ...]], Awaitable[dict[str, Profile]]]


def too_many_mentions(inbound: Inbound) -> bool:
    return len(inbound.pending_mentions) + len(inbound.mentions) > MAX_MENTIONS


async def may_act_as_staff(
    session: AsyncSession, sender: Profile, cohort_slug: str | None, admins: list[str]
) -> bool:
    """Could the sender pass a staff command's permission check: a configured admin, or an admin or
    trainer of the named cohort (of any cohort when the command names none)? Read only."""
    identity = (
        await session.exec(
            select(Identity).where(
                Identity.platform == sender.platform,
                Identity.workspace == sender.workspace,
                Identity.user_id == sender.user_id,
            )
        )
    ).first()
    probe = identity or Identity(
        person_id=0, platform=sender.platform, workspace=sender.workspace, user_id=sender.user_id
    )
    if matches_admin(probe, sender.email, admins):
        return True
    if identity is None:
        return False
    query = select(Enrolment.id).where(
        Enrolment.person_id == identity.person_id,
        Enrolment.status == "active",
        col(Enrolment.role).in_(STAFF_ROLES),
    )
    if cohort_slug:
        query = query.join(Cohort, col(Cohort.id) == Enrolment.cohort_id).where(
            Cohort.slug == cohort_slug.lower()
        )
    return (await session.exec(query)).first() is not None
