"""The LMS user id each person is known by (xAPI `account.name`, e.g. Moodle's numeric user id).

Set from the learner CSV's `lms_user_id` column or with `lms-id <cohort> @person <id>`; setting it
applies the statements that were waiting for that person.
"""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.completion.models import LmsAccount
from bot.core.errors import UserError
from bot.core.i18n import _

MAX_LENGTH = 200


def check_lms_user_id(value: str) -> str:
    """A trimmed LMS user id, or a UserError saying why it cannot be one."""
    value = value.strip()
    if not value:
        raise UserError(_("the LMS user id is empty"))
    if len(value) > MAX_LENGTH or any(ch.isspace() or not ch.isprintable() for ch in value):
        raise UserError(
            _(
                "'{value}' is not an LMS user id (no spaces, up to {limit} characters)",
                value=value[:40],
                limit=MAX_LENGTH,
            )
        )
    return value


async def holders(session: AsyncSession, lms_user_ids: list[str]) -> dict[str, int]:
    """Who holds each of these LMS user ids already: {lms user id: person id}."""
    found: dict[str, int] = {}
    for start in range(0, len(lms_user_ids), 500):
        chunk = lms_user_ids[start : start + 500]
        rows = await session.exec(select(LmsAccount).where(LmsAccount.lms_user_id.in_(chunk)))  # type: ignore[attr-defined]
        found.update({row.lms_user_id: row.person_id for row in rows.all()})
    return found


async def set_lms_user_id(session: AsyncSession, person_id: int, lms_user_id: str) -> bool:
    """Give a person their LMS user id; returns whether it changed. UserError if someone else has it."""
    holder = (await holders(session, [lms_user_id])).get(lms_user_id)
    if holder is not None and holder != person_id:
        raise UserError(_("LMS user id {id} already belongs to someone else", id=lms_user_id))
    account = await session.get(LmsAccount, person_id)
    if account is not None and account.lms_user_id == lms_user_id:
        return False
    account = account or LmsAccount(person_id=person_id, lms_user_id=lms_user_id)
    account.lms_user_id = lms_user_id
    session.add(account)
    await session.flush()
    return True
