"""Importing completions from CSV, through the same recording as every other source.

Header: email,lms_user_id,module,status,score,completed_at: `module` and one of `email` /
`lms_user_id` (the learner's LMS user id, as xAPI statements name them) are required. `module` is a
title, a module id, or an LMS activity id linked with `lms-id`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.completion.csv_rows import (
    CsvFormat,
    ImportReport,
    RowError,
    Rows,
    Validator,
    email_value,
    run_import,
)
from bot.capabilities.completion.lookup import cohort_modules, match_module
from bot.capabilities.completion.models import LmsAccount, XapiActivity
from bot.capabilities.completion.recording import STATUSES, record_completion
from bot.core.context import EventContext
from bot.core.errors import UserError
from bot.core.i18n import _
from bot.core.models import Cohort, Completion, Enrolment, Module, Person
from bot.core.settings import Settings
from bot.core.store import Store

COMPLETION_COLUMNS = ("email", "lms_user_id", "module", "status", "score", "completed_at")
COMPLETIONS_CSV = CsvFormat(COMPLETION_COLUMNS, required=("module",))


@dataclass(frozen=True)
class CompletionRow:
    person_id: int
    module: Module
    status: str
    score: float | None
    at: datetime


def _completion_row(
    values: dict[str, str],
    learners: dict[str, int],
    lms_learners: dict[str, int],
    modules: list[Module],
    aliases: dict[str, Module],
    cohort: Cohort,
    now: datetime,
) -> CompletionRow:
    person_id = _learner(values, learners, lms_learners, cohort)
    ref = values.get("module", "")
    if not ref:
        raise RowError(_("module is empty"))
    try:
        module = aliases.get(ref) or match_module(modules, ref, cohort.slug)
    except UserError as e:
        raise RowError(e.message) from None
    status = (values.get("status") or "completed").lower()
    if status not in STATUSES:
        raise RowError(
            _("status '{status}' is not one of {statuses}", status=status, statuses=", ".join(STATUSES))
        )
    score = _score(values.get("score", ""))
    at = _completed_at(values.get("completed_at", ""), cohort.tz, now)
    return CompletionRow(person_id, module, status, score, at)


def _learner(
    values: dict[str, str], learners: dict[str, int], lms_learners: dict[str, int], cohort: Cohort
) -> int:
    """The learner a row is about, by email or by LMS user id."""
    lms_user_id = values.get("lms_user_id", "")
    if lms_user_id and not values.get("email"):
        if lms_user_id not in lms_learners:
            raise RowError(
                _(
                    "LMS user {id} is not a learner of '{cohort}': import learners first",
                    id=lms_user_id,
                    cohort=cohort.slug,
                )
            )
        return lms_learners[lms_user_id]
    email = email_value(values.get("email", ""), "email")
    if email not in learners:
        raise RowError(
            _(
                "{email} is not a learner of '{cohort}': import learners first",
                email=email,
                cohort=cohort.slug,
            )
        )
    return learners[email]


def _score(value: str) -> float | None:
    if not value:
        return None
    try:
        score = float(value.rstrip("%"))
    except ValueError:
        raise RowError(_("score '{value}' is not a number from 0 to 100", value=value)) from None
    if not 0 <= score <= 100:
        raise RowError(_("score {value} is outside 0..100", value=value))
    return score


def _completed_at(value: str, tz: str, now: datetime) -> datetime:
    """An ISO date and time (with a zone, or in the cohort's zone), or a date alone (noon that day)."""
    if not value:
        return now
    try:
        parsed = datetime.fromisoformat(value) if len(value) > 10 else None
        when = parsed or datetime.combine(date.fromisoformat(value), time(12, 0))
    except ValueError:
        raise RowError(
            _("completed_at '{value}' is not a date (YYYY-MM-DD) or date and time", value=value)
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(tz))
    if when > now:
        raise RowError(_("completed_at {value} is in the future", value=value))
    return when


async def import_completions(
    store: Store, settings: Settings, now: datetime, cohort_slug: str, text: str, *, skip_bad: bool = False
) -> ImportReport:
    report = ImportReport("completions")

    async def make_validator(session: AsyncSession, cohort: Cohort, rows: Rows) -> Validator:
        learners = {
            email or "": person_id
            for email, person_id in (
                await session.exec(
                    select(Person.email, Person.id)
                    .join(Enrolment, col(Enrolment.person_id) == Person.id)
                    .where(Enrolment.cohort_id == cohort.id, Enrolment.role == "learner")
                )
            ).all()
        }
        lms_learners = {
            lms_user_id: person_id
            for lms_user_id, person_id in (
                await session.exec(
                    select(LmsAccount.lms_user_id, LmsAccount.person_id)
                    .join(Enrolment, col(Enrolment.person_id) == LmsAccount.person_id)
                    .where(Enrolment.cohort_id == cohort.id, Enrolment.role == "learner")
                )
            ).all()
        }
        modules = await cohort_modules(session, cohort.id or 0)
        # A module can also be named by its id or by an LMS activity id linked with `lms-id`.
        aliases = {str(m.id): m for m in modules}
        by_id = {m.id: m for m in modules}
        links = await session.exec(select(XapiActivity).where(col(XapiActivity.module_id).in_(list(by_id))))
        aliases.update({link.activity_id: by_id[link.module_id] for link in links.all()})
        return lambda values: _completion_row(values, learners, lms_learners, modules, aliases, cohort, now)

    async def write(
        ctx: EventContext, cohort: Cohort, rows: list[CompletionRow], counts: Counter[str]
    ) -> None:
        stored = await ctx.session.exec(select(Completion).where(Completion.cohort_id == cohort.id))
        known = {(c.module_id, c.person_id): c for c in stored.all()}
        for row in rows:
            result = await record_completion(
                ctx,
                row.module,
                row.person_id,
                status=row.status,
                score=row.score,
                source="csv",
                at=row.at,
                recorded_by=None,
                known=known,
            )
            counts[result.outcome] += 1

    return await run_import(
        store, settings, now, report, cohort_slug, text, COMPLETIONS_CSV, make_validator, write, skip_bad
    )
