"""Who reads which language: a person's own (chosen with `lang`, else their platform's locale),
else the language of their cohort, else the deployment's default (`DEFAULT_LANGUAGE`)."""

from __future__ import annotations

from sqlalchemy import bindparam
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.i18n import SOURCE_LANGUAGE
from bot.core.models import Cohort, Enrolment, Person

# Built once with a bound parameter: it runs on every inbound from someone whose language is unknown.
_LATEST_COHORT_LANGUAGE = (
    select(Cohort.lang)
    .join(Enrolment, col(Enrolment.cohort_id) == Cohort.id)
    .where(Enrolment.person_id == bindparam("person_id"), Enrolment.status == "active")
    .order_by(col(Enrolment.enrolled_at).desc())
    .limit(1)
)


async def reader_language(session: AsyncSession, person: Person, default: str = SOURCE_LANGUAGE) -> str:
    """The language to answer `person` in (one query, only for people whose own is unknown)."""
    if person.lang:
        return person.lang
    latest = await session.exec(_LATEST_COHORT_LANGUAGE, params={"person_id": person.id})
    return latest.first() or default


async def cohort_language(session: AsyncSession, cohort_id: int | None) -> str:
    if cohort_id is None:
        return SOURCE_LANGUAGE
    return (await session.exec(select(Cohort.lang).where(Cohort.id == cohort_id))).first() or SOURCE_LANGUAGE
