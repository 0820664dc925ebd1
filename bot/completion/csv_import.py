"""CSV import from an LMS: learners (people, managers, site, department, seniority) and completions.

Every row is checked first; any bad row means nothing is imported (unless `skip_bad`), and the
errors name their line. The import then runs in one transaction and is idempotent.

learners:    email,name,manager_email,team,site,department,seniority,tz   (only email is required)
completions: email,module,status,score,completed_at                     (email and module required)
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import texts
from bot.clock import SystemClock
from bot.completion.lookup import cohort_modules, match_module
from bot.completion.models import XapiActivity
from bot.completion.recording import STATUSES, record_completion
from bot.context import EventContext
from bot.errors import UserError
from bot.grammar import ArgError, ZoneArg
from bot.messages import Message, Text
from bot.models import Cohort, Completion, Enrolment, ManagerLink, Module, Person
from bot.outbox import Recipient
from bot.people import EMAIL_RE
from bot.settings import Settings
from bot.store import Store

LEARNER_COLUMNS = ("email", "name", "manager_email", "team", "site", "department", "seniority", "tz")
COMPLETION_COLUMNS = ("email", "module", "status", "score", "completed_at")
PROFILE_FIELDS = ("site", "department", "seniority", "tz")
MAX_ERRORS_SHOWN = 50
EXTRA = "__extra__"  # where the csv module puts values beyond the header


class RowError(Exception):
    """One row is wrong; the message says which value and why."""


@dataclass
class ImportReport:
    kind: str  # learners | completions
    rows: int = 0
    errors: list[str] = field(default_factory=list)  # "line N: why"
    problem: str | None = None  # what stops the whole file (header, cohort, encoding)
    imported: bool = False
    counts: Counter[str] = field(default_factory=Counter)

    def render(self) -> str:
        if self.problem:
            return f"{self.problem}\nNothing imported."
        lines = self.errors[:MAX_ERRORS_SHOWN]
        if len(self.errors) > MAX_ERRORS_SHOWN:
            lines.append(f"... and {len(self.errors) - MAX_ERRORS_SHOWN} more errors")
        if not self.imported:
            good = self.rows - len(self.errors)
            lines.append(
                f"Nothing imported: {len(self.errors)} bad row(s) of {self.rows}. "
                f"Fix them, or pass --skip-bad to import the {good} good one(s)."
                if self.rows
                else "Nothing imported."
            )
            return "\n".join(lines)
        done = ", ".join(f"{n} {what}" for what, n in sorted(self.counts.items()) if n)
        skipped = f" ({len(self.errors)} bad row(s) skipped)" if self.errors else ""
        lines.append(f"Imported {self.rows - len(self.errors)} {self.kind}{skipped}: {done or 'no changes'}.")
        return "\n".join(lines)


def read_rows(
    text: str, columns: tuple[str, ...], required: tuple[str, ...]
) -> list[tuple[int, dict[str, str]]]:
    """The data rows with their line numbers; a UserError if the header is wrong."""
    reader = csv.DictReader(io.StringIO(text), restkey=EXTRA)
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if not header:
        raise UserError(f"line 1: the file is empty; expected the header {','.join(columns)}")
    unknown = [h for h in header if h not in columns]
    missing = [c for c in required if c not in header]
    if unknown or missing:
        why = "; ".join(
            part
            for part in (
                f"unknown column(s) {', '.join(unknown)}" if unknown else "",
                f"missing column(s) {', '.join(missing)}" if missing else "",
            )
            if part
        )
        raise UserError(f"line 1: {why}. Expected the header {','.join(columns)}")
    reader.fieldnames = header
    rows = []
    for raw in reader:
        values = {k: (v or "").strip() for k, v in raw.items() if k != EXTRA}
        if raw.get(EXTRA):
            values[EXTRA] = f"{len(raw[EXTRA])} more value(s) than the {len(header)} columns"
        if any(values.values()):
            rows.append((reader.line_num, values))
    return rows


def _email(value: str, column: str) -> str:
    if not EMAIL_RE.match(value):
        raise RowError(f"{column} '{value}' is not an email address" if value else f"{column} is empty")
    return value.lower()


@dataclass(frozen=True)
class LearnerRow:
    email: str
    name: str | None
    manager_email: str | None
    team: str | None
    profile: dict[str, str]  # site, department, seniority, tz: only the ones given


def _learner_row(values: dict[str, str]) -> LearnerRow:
    email = _email(values.get("email", ""), "email")
    manager = values.get("manager_email") or None
    if manager is not None:
        manager = _email(manager, "manager_email")
        if manager == email:
            raise RowError(f"{email} cannot be their own manager")
    profile = {k: values[k] for k in PROFILE_FIELDS if values.get(k)}
    if "tz" in profile:
        try:
            ZoneArg("tz").convert(profile["tz"])
        except ArgError as e:
            raise RowError(str(e)) from None
    return LearnerRow(email, values.get("name") or None, manager, values.get("team") or None, profile)


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
    modules: list[Module],
    aliases: dict[str, Module],
    cohort: Cohort,
    now: datetime,
) -> CompletionRow:
    email = _email(values.get("email", ""), "email")
    if email not in learners:
        raise RowError(f"{email} is not a learner of '{cohort.slug}': import learners first")
    ref = values.get("module", "")
    if not ref:
        raise RowError("module is empty")
    try:
        module = aliases.get(ref) or match_module(modules, ref, cohort.slug)
    except UserError as e:
        raise RowError(e.message) from None
    status = (values.get("status") or "completed").lower()
    if status not in STATUSES:
        raise RowError(f"status '{status}' is not one of {', '.join(STATUSES)}")
    score = _score(values.get("score", ""))
    at = _completed_at(values.get("completed_at", ""), cohort.tz, now)
    return CompletionRow(learners[email], module, status, score, at)


def _score(value: str) -> float | None:
    if not value:
        return None
    try:
        score = float(value.rstrip("%"))
    except ValueError:
        raise RowError(f"score '{value}' is not a number from 0 to 100") from None
    if not 0 <= score <= 100:
        raise RowError(f"score {value} is outside 0..100")
    return score


def _completed_at(value: str, tz: str, now: datetime) -> datetime:
    """An ISO date and time (with a zone, or in the cohort's zone), or a date alone (noon that day)."""
    if not value:
        return now
    try:
        parsed = datetime.fromisoformat(value) if len(value) > 10 else None
        when = parsed or datetime.combine(date.fromisoformat(value), time(12, 0))
    except ValueError:
        raise RowError(f"completed_at '{value}' is not a date (YYYY-MM-DD) or date and time") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(tz))
    if when > now:
        raise RowError(f"completed_at {value} is in the future")
    return when


Validator = Callable[[dict[str, str]], Any]
Writer = Callable[[EventContext, Cohort, list[Any], Counter[str]], Awaitable[None]]


async def _run_import(
    store: Store,
    settings: Settings,
    now: datetime,
    report: ImportReport,
    cohort_slug: str,
    rows: list[tuple[int, dict[str, str]]],
    make_validator: Callable[[AsyncSession, Cohort], Awaitable[Validator]],
    write: Writer,
    skip_bad: bool,
) -> ImportReport:
    """Validate every row, then (if all are good, or skip_bad) write them in the same transaction."""
    report.rows = len(rows)
    async with store.transaction() as session:
        cohort = (await session.exec(select(Cohort).where(Cohort.slug == cohort_slug.lower()))).first()
        if cohort is None:
            report.problem = f"There is no cohort '{cohort_slug}'."
            return report
        validate = await make_validator(session, cohort)
        good = []
        for line, values in rows:
            try:
                if EXTRA in values:
                    raise RowError(values[EXTRA])
                good.append(validate(values))
            except RowError as e:
                report.errors.append(f"line {line}: {e}")
        if report.errors and not skip_bad:
            return report
        await write(EventContext(session=session, now=now, settings=settings), cohort, good, report.counts)
        report.imported = True
    return report


async def import_learners(
    store: Store, settings: Settings, now: datetime, cohort_slug: str, text: str, *, skip_bad: bool = False
) -> ImportReport:
    report = ImportReport("learners")
    try:
        rows = read_rows(text, LEARNER_COLUMNS, ("email",))
    except UserError as e:
        report.problem = e.message
        return report

    async def make_validator(session: AsyncSession, cohort: Cohort) -> Validator:
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

        def validate(values: dict[str, str]) -> LearnerRow:
            row = _learner_row(values)
            if row.email in seen:
                raise RowError(f"{row.email} appears twice in the file")
            if row.email in staff:
                raise RowError(f"{row.email} is an admin or trainer of '{cohort.slug}', not a learner")
            seen.add(row.email)
            return row

        return validate

    return await _run_import(
        store, settings, now, report, cohort_slug, rows, make_validator, _write_learners, skip_bad
    )


async def _people_by_email(session: AsyncSession, emails: set[str]) -> dict[str, Person]:
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
    people = await _people_by_email(session, emails)
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
            text = texts.t("welcome", cohort=cohort.slug)
            if row.team:
                text += " " + texts.t("welcome.team", team=row.team)
            welcome.append(
                Recipient(person.id or 0, f"welcome:{cohort.id}:{person.id}", Message(text, (Text(text),)))
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
    await session.flush()
    await ctx.dms(welcome, cohort_id=cohort.id)


async def import_completions(
    store: Store, settings: Settings, now: datetime, cohort_slug: str, text: str, *, skip_bad: bool = False
) -> ImportReport:
    report = ImportReport("completions")
    try:
        rows = read_rows(text, COMPLETION_COLUMNS, ("email", "module"))
    except UserError as e:
        report.problem = e.message
        return report

    async def make_validator(session: AsyncSession, cohort: Cohort) -> Validator:
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
        modules = await cohort_modules(session, cohort.id or 0)
        # A module can also be named by its id or by an LMS activity id linked with `lms-id`.
        aliases = {str(m.id): m for m in modules}
        by_id = {m.id: m for m in modules}
        links = await session.exec(select(XapiActivity).where(col(XapiActivity.module_id).in_(list(by_id))))
        aliases.update({link.activity_id: by_id[link.module_id] for link in links.all()})
        return lambda values: _completion_row(values, learners, modules, aliases, cohort, now)

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

    return await _run_import(store, settings, now, report, cohort_slug, rows, make_validator, write, skip_bad)


def import_file(
    kind: str, path: Path, cohort_slug: str, settings: Settings, *, skip_bad: bool
) -> ImportReport:
    """What `cohortbot import learners|completions FILE` runs, against DATABASE_URL."""
    report = ImportReport(kind)
    try:
        text = path.read_bytes().decode("utf-8-sig")  # Excel writes a byte-order mark
    except OSError as e:
        report.problem = f"Cannot read {path}: {e.strerror}."
        return report
    except UnicodeDecodeError:
        report.problem = f"{path} is not UTF-8 text: export the CSV as UTF-8."
        return report
    importer = import_learners if kind == "learners" else import_completions

    async def run() -> ImportReport:
        store = await Store.open(settings.database_url, schema="migrate")
        try:
            return await importer(store, settings, SystemClock().now(), cohort_slug, text, skip_bad=skip_bad)
        finally:
            await store.close()

    return asyncio.run(run())
