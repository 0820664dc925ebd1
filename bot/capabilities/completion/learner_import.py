"""Importing learners from CSV: people by email, their profile, enrolment, team and manager.

Header: email,name,manager_email,team,site,department,seniority,tz,lms_user_id (only email is
required). `lms_user_id` is the person's id in the LMS (xAPI `account.name`); statements that were
waiting for an imported learner are applied at the end of the import.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

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
from bot.capabilities.completion.lms_accounts import check_lms_user_id, holders, set_lms_user_id
from bot.capabilities.completion.xapi_store import link_waiting
from bot.core import texts
from bot.core.context import EventContext
from bot.core.errors import UserError
from bot.core.grammar import ArgError, ZoneArg
from bot.core.i18n import _
from bot.core.messages import Message, Text
from bot.core.models import Cohort, Enrolment, ManagerLink, Person
from bot.core.outbox import Compose, Recipient
from bot.core.settings import Settings
from bot.core.store import Store

LEARNER_COLUMNS = (
    *("email", "name", "manager_email", "team", "site", "department", "seniority", "tz"),
    "lms_user_id",
)
PROFILE_FIELDS = ("site", "department", "seniority", "tz")
LEARNERS_CSV = CsvFormat(LEARNER_COLUMNS, required=("email",))


@dataclass(frozen=True)
class LearnerRow:
    email: str
    name: str | None
    manager_email: str | None
    team: str | None
    profile: dict[str, str]  # site, department, seniority, tz: only the ones given
    lms_user_id: str | None = None


def _learner_row(values: dict[str, str]) -> LearnerRow:
    email = email_value(values.get("email", ""), "email")
    manager = values.get("manager_email") or None
    if manager is not None:
        manager = email_value(manager, "manager_email")
        if manager == email:
            raise RowError(_("{email} cannot be their own manager", email=email))
    profile = {k: values[k] for k in PROFILE_FIELDS if values.get(k)}
    if "tz" in profile:
        try:
            ZoneArg("tz").convert(profile["tz"])
        except ArgError as e:
            raise RowError(str(e)) from None
    lms_user_id = None
    if values.get("lms_user_id"):
        try:
            lms_user_id = check_lms_user_id(values["lms_user_id"])
        except UserError as e:
            raise RowError(e.message) from None
    return LearnerRow(
        email, values.get("name") or None, manager, values.get("team") or None, profile, lms_user_id
    )


async def import_learners(
    store: Store, settings: Settings, now: datetime, cohort_slug: str, text: str, *, skip_bad: bool = False
) -> ImportReport:
    report = ImportReport("learners")

    async def make_validator(session: AsyncSession, cohort: Cohort, rows: Rows) -> Validator:
        staff = set(
            (
                await session.exec(
                    select(Person.email)
                    .join(Enrolment, col(Enrolment.person_id) == Person.id)
                    .where(Enrolment.cohort_id == cohort.id, Enrolment.role != "learner")
                )
            ).all()
        )
        seen: set[str] = set()
        lms_ids = await _lms_ids_held(session, [r.get("lms_user_id", "") for _, r in rows])
        lms_seen: dict[str, str] = {}

        def validate(values: dict[str, str]) -> LearnerRow:
            row = _learner_row(values)
            if row.email in seen:
                raise RowError(_("{email} appears twice in the file", email=row.email))
            if row.email in staff:
                raise RowError(
                    _(
                        "{email} is an admin or trainer of '{cohort}', not a learner",
                        email=row.email,
                        cohort=cohort.slug,
                    )
                )
            if row.lms_user_id is not None:
                holder = lms_seen.get(row.lms_user_id) or lms_ids.get(row.lms_user_id)
                if holder is not None and holder != row.email:
                    raise RowError(
                        _("lms_user_id {id} already belongs to {holder}", id=row.lms_user_id, holder=holder)
                    )
                lms_seen[row.lms_user_id] = row.email
            seen.add(row.email)
            return row

        return validate

    return await run_import(
        store,
        settings,
        now,
        report,
        cohort_slug,
        text,
        LEARNERS_CSV,
        make_validator,
        _write_learners,
        skip_bad,
    )


async def _lms_ids_held(session: AsyncSession, lms_user_ids: list[str]) -> dict[str, str]:
    """The email of whoever already holds each of these LMS user ids."""
    held = await holders(session, sorted({i.strip() for i in lms_user_ids if i.strip()}))
    emails = await _emails(session, sorted(set(held.values())))
    return {
        lms_id: emails.get(person_id) or _("person #{id}", id=person_id) for lms_id, person_id in held.items()
    }


async def _emails(session: AsyncSession, person_ids: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for start in range(0, len(person_ids), 500):
        chunk = person_ids[start : start + 500]
        rows = await session.exec(select(Person.id, Person.email).where(col(Person.id).in_(chunk)))
        found.update({person_id or 0: email or "" for person_id, email in rows.all()})
    return found


async def _people_byemail_value(session: AsyncSession, emails: set[str]) -> dict[str, Person]:
    found: dict[str, Person] = {}
    ordered = sorted(emails)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        for person in (await session.exec(select(Person).where(col(Person.email).in_(chunk)))).all():
            found[person.email or ""] = person
    return found


async def _write_learners(
    ctx: EventContext, cohort: Cohort, rows: list[LearnerRow], counts: Counter[str]
) -> None:
    session = ctx.session
    emails = {r.email for r in rows} | {r.manager_email for r in rows if r.manager_email}
    people = await _people_byemail_value(session, emails)
    enrolments = {
        e.person_id: e
        for e in (await session.exec(select(Enrolment).where(Enrolment.cohort_id == cohort.id))).all()
    }
    links = {
        link.learner_id: link
        for link in (await session.exec(select(ManagerLink).where(ManagerLink.cohort_id == cohort.id))).all()
    }

    # Create everyone new in one flush: one round trip per row would make big files crawl.
    names = {r.email: r.name for r in rows}
    new = [
        Person(display_name=names.get(email) or email.split("@")[0], email=email, created_at=ctx.now)
        for email in sorted(emails - set(people))
    ]
    session.add_all(new)
    await session.flush()
    people.update({p.email or "": p for p in new})
    counts["person(s) created"] += len(new)
    created = {p.email for p in new}

    welcome: list[Recipient] = []
    for row in rows:
        person = people[row.email]
        known = row.email not in created
        updates = dict(row.profile)
        if row.name and known and person.display_name == row.email.split("@")[0]:
            updates["display_name"] = row.name
        changed = {k: v for k, v in updates.items() if getattr(person, k) != v}
        if changed:
            for key, value in changed.items():
                setattr(person, key, value)
            session.add(person)
            counts["profile(s) updated"] += known
        enrolment = enrolments.get(person.id or 0)
        if enrolment is None:
            enrolment = Enrolment(
                cohort_id=cohort.id or 0, person_id=person.id or 0, team=row.team, enrolled_at=ctx.now
            )
            session.add(enrolment)
            enrolments[person.id or 0] = enrolment
            counts["enrolled"] += 1
            await ctx.log(
                "enrolment.created", cohort_id=cohort.id, person_id=person.id, team=row.team, source="csv"
            )
            welcome.append(
                Recipient(person.id or 0, f"welcome:{cohort.id}:{person.id}", _welcome(cohort.slug, row.team))
            )
        elif row.team and enrolment.team != row.team:
            enrolment.team = row.team
            session.add(enrolment)
            counts["team(s) changed"] += 1
        if row.manager_email:
            boss = people[row.manager_email]
            link = links.get(person.id or 0)
            if link is None or link.manager_id != boss.id:
                link = link or ManagerLink(
                    cohort_id=cohort.id or 0, manager_id=boss.id or 0, learner_id=person.id or 0
                )
                link.manager_id = boss.id or 0
                session.add(link)
                links[person.id or 0] = link
                counts["manager link(s) set"] += 1
                await ctx.log(
                    "manager.set", cohort_id=cohort.id, person_id=person.id, manager=boss.id, source="csv"
                )
        if row.lms_user_id is not None and await set_lms_user_id(session, person.id or 0, row.lms_user_id):
            counts["LMS user id(s) set"] += 1
    await session.flush()
    await ctx.dms(welcome, cohort_id=cohort.id)
    linked = await link_waiting(ctx, sorted({people[r.email].id or 0 for r in rows}))
    if linked:
        counts["waiting xAPI completion(s) recorded"] += linked


def _welcome(cohort: str, team: str | None) -> Compose:
    """A new learner's welcome, built in their language by the outbox."""

    def build() -> Message:
        text = texts.t("welcome", cohort=cohort) + (" " + texts.t("welcome.team", team=team) if team else "")
        return Message(text, (Text(text),))

    return build
