"""Reading an LMS's CSV file: header checks, rows with their line numbers, and the import run.

Every row is checked first; any bad row means nothing is imported (unless `skip_bad`), and the
errors name their line. Then everything is written in the same transaction. The report is written
in the cohort's language (its errors as they are found, and its summary), like its exports.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core import i18n
from bot.core.context import EventContext
from bot.core.errors import UserError
from bot.core.i18n import Np_, _, _n
from bot.core.models import Cohort
from bot.core.people import EMAIL_RE
from bot.core.settings import Settings
from bot.core.store import Store

MAX_ERRORS_SHOWN = 50
EXTRA = "__extra__"  # where the csv module puts values beyond the header


class RowError(Exception):
    """One row is wrong; the message (in the reader's language) says which value and why."""


# What an import counts (its `counts` keys, in English) as the reader reads them.
COUNTED: dict[str, tuple[str, str]] = {
    # learners
    "person(s) created": Np_("{n} person(s) created", "{n} person(s) created"),
    "profile(s) updated": Np_("{n} profile(s) updated", "{n} profile(s) updated"),
    "enrolled": Np_("{n} enrolled", "{n} enrolled"),
    "team(s) changed": Np_("{n} team(s) changed", "{n} team(s) changed"),
    "manager link(s) set": Np_("{n} manager link(s) set", "{n} manager link(s) set"),
    "LMS user id(s) set": Np_("{n} LMS user id(s) set", "{n} LMS user id(s) set"),
    "waiting xAPI completion(s) recorded": Np_(
        "{n} waiting xAPI completion(s) recorded", "{n} waiting xAPI completion(s) recorded"
    ),
    # completions (how each was recorded) and xAPI statements (what became of each)
    "new": Np_("{n} new", "{n} new"),
    "improved": Np_("{n} improved", "{n} improved"),
    "corrected": Np_("{n} corrected", "{n} corrected"),
    "unchanged": Np_("{n} unchanged", "{n} unchanged"),
    "recorded": Np_("{n} recorded", "{n} recorded"),
    "not used": Np_("{n} not used", "{n} not used"),
    "waiting": Np_("{n} waiting", "{n} waiting"),
    "voided": Np_("{n} voided", "{n} voided"),
}
IMPORTED: dict[str, tuple[str, str]] = {
    "learners": Np_(
        "Imported {n} learners{skipped}: {changes}.", "Imported {n} learners{skipped}: {changes}."
    ),
    "completions": Np_(
        "Imported {n} completions{skipped}: {changes}.", "Imported {n} completions{skipped}: {changes}."
    ),
    "statements": Np_(
        "Imported {n} statements{skipped}: {changes}.", "Imported {n} statements{skipped}: {changes}."
    ),
}


@dataclass
class ImportReport:
    kind: str  # learners | completions | statements
    rows: int = 0
    errors: list[str] = field(default_factory=list)  # "line N: why"
    problem: str | None = None  # what stops the whole file (header, cohort, encoding)
    imported: bool = False
    counts: Counter[str] = field(default_factory=Counter)
    lang: str | None = None  # the cohort's, once it is found: the report is written in it

    def render(self) -> str:
        with i18n.use(self.lang or i18n.current()):
            return self._render()

    def _render(self) -> str:
        if self.problem:
            return f"{self.problem}\n" + _("Nothing imported.")
        lines = self.errors[:MAX_ERRORS_SHOWN]
        hidden = len(self.errors) - MAX_ERRORS_SHOWN
        if hidden > 0:
            lines.append(_n("... and {n} more error", "... and {n} more errors", hidden))
        if not self.imported:
            good = self.rows - len(self.errors)
            if not self.rows:
                lines.append(_("Nothing imported."))
            elif not good:
                lines.append(
                    _(
                        "Nothing imported: {bad} bad row(s) of {rows}. Fix them.",
                        bad=len(self.errors),
                        rows=self.rows,
                    )
                )
            else:
                lines.append(
                    _n(
                        "Nothing imported: {bad} bad row(s) of {rows}. "
                        "Fix them, or pass --skip-bad to import the {n} good one.",
                        "Nothing imported: {bad} bad row(s) of {rows}. "
                        "Fix them, or pass --skip-bad to import the {n} good ones.",
                        good,
                        bad=len(self.errors),
                        rows=self.rows,
                    )
                )
            return "\n".join(lines)
        done = ", ".join(_counted(what, n) for what, n in sorted(self.counts.items()) if n)
        skipped = _(" ({n} bad row(s) skipped)", n=len(self.errors)) if self.errors else ""
        singular, plural = IMPORTED[self.kind]
        good = self.rows - len(self.errors)
        lines.append(_n(singular, plural, good, skipped=skipped, changes=done or _("no changes")))
        return "\n".join(lines)


def _counted(what: str, n: int) -> str:
    if what in COUNTED:
        return _n(*COUNTED[what], n)
    return f"{i18n.number(n)} {_(what)}"


def read_rows(
    text: str, columns: tuple[str, ...], required: tuple[str, ...]
) -> list[tuple[int, dict[str, str]]]:
    """The data rows with their line numbers; a UserError if the header is wrong.
    Comma- or semicolon-separated (French Excel writes `;`), with or without a byte-order mark."""
    text = text.removeprefix("\ufeff")
    reader = csv.DictReader(io.StringIO(text), restkey=EXTRA, delimiter=delimiter_of(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if not header:
        raise UserError(
            _("line 1: the file is empty; expected the header {header}", header=",".join(columns))
        )
    unknown = [h for h in header if h not in columns]
    missing = [c for c in required if c not in header]
    if unknown or missing:
        unknown_columns, missing_columns = ", ".join(unknown), ", ".join(missing)
        why = (
            _(
                "unknown column(s) {unknown}; missing column(s) {missing}",
                unknown=unknown_columns,
                missing=missing_columns,
            )
            if unknown and missing
            else _("unknown column(s) {columns}", columns=unknown_columns)
            if unknown
            else _("missing column(s) {columns}", columns=missing_columns)
        )
        raise UserError(
            _("line 1: {problem}. Expected the header {header}", problem=why, header=",".join(columns))
        )
    reader.fieldnames = header
    rows = []
    for raw in reader:
        values = {k: (v or "").strip() for k, v in raw.items() if k != EXTRA}
        if raw.get(EXTRA):
            values[EXTRA] = _(
                "{extra} more value(s) than the {columns} columns", extra=len(raw[EXTRA]), columns=len(header)
            )
        if any(values.values()):
            rows.append((reader.line_num, values))
    return rows


def delimiter_of(text: str) -> str:
    """`;` when the header line has more semicolons than commas (Excel in locales whose decimal
    separator is a comma), else `,`."""
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","


def email_value(value: str, column: str) -> str:
    if not EMAIL_RE.match(value):
        raise RowError(
            _("{column} '{value}' is not an email address", column=column, value=value)
            if value
            else _("{column} is empty", column=column)
        )
    return value.lower()


Rows = list[tuple[int, dict[str, str]]]
Validator = Callable[[dict[str, str]], Any]
Writer = Callable[[EventContext, Cohort, list[Any], Counter[str]], Awaitable[None]]


@dataclass(frozen=True)
class CsvFormat:
    columns: tuple[str, ...]
    required: tuple[str, ...]


async def run_import(
    store: Store,
    settings: Settings,
    now: datetime,
    report: ImportReport,
    cohort_slug: str,
    text: str,
    form: CsvFormat,
    make_validator: Callable[[AsyncSession, Cohort, Rows], Awaitable[Validator]],
    write: Writer,
    skip_bad: bool,
) -> ImportReport:
    """Find the cohort, read the rows and validate every one, then (if all are good, or skip_bad)
    write them in the same transaction; the report speaks the cohort's language."""
    async with store.transaction() as session:
        cohort = (await session.exec(select(Cohort).where(Cohort.slug == cohort_slug.lower()))).first()
        if cohort is None:
            report.problem = _("There is no cohort '{cohort}'.", cohort=cohort_slug)
            return report
        report.lang = cohort.lang
        with i18n.use(cohort.lang):
            try:
                rows = read_rows(text, form.columns, form.required)
            except UserError as e:
                report.problem = e.message
                return report
            report.rows = len(rows)
            validate = await make_validator(session, cohort, rows)
            good = []
            for line, values in rows:
                try:
                    if EXTRA in values:
                        raise RowError(values[EXTRA])
                    good.append(validate(values))
                except RowError as e:
                    report.errors.append(_("line {line}: {problem}", line=line, problem=str(e)))
            if report.errors and not skip_bad:
                return report
            ctx = EventContext(session=session, now=now, settings=settings)
            await write(ctx, cohort, good, report.counts)
            report.imported = True
    return report


async def cohort_language(store: Store, cohort_slug: str) -> str | None:
    """The language of the cohort called `cohort_slug`, if there is one."""
    async with store.transaction() as session:
        found = await session.exec(select(Cohort.lang).where(Cohort.slug == cohort_slug.lower()))
        return found.first()
