"""Reading an LMS's CSV file: header checks, rows with their line numbers, and the import run.

Every row is checked first; any bad row means nothing is imported (unless `skip_bad`), and the
errors name their line. Then everything is written in the same transaction.
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

from bot.core.context import EventContext
from bot.core.errors import UserError
from bot.core.models import Cohort
from bot.core.people import EMAIL_RE
from bot.core.settings import Settings
from bot.core.store import Store

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
    """The data rows with their line numbers; a UserError if the header is wrong.
    Comma- or semicolon-separated (French Excel writes `;`), with or without a byte-order mark."""
    text = text.removeprefix("\ufeff")
    reader = csv.DictReader(io.StringIO(text), restkey=EXTRA, delimiter=delimiter_of(text))
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


def delimiter_of(text: str) -> str:
    """`;` when the header line has more semicolons than commas (Excel in locales whose decimal
    separator is a comma), else `,`."""
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","


def email_value(value: str, column: str) -> str:
    if not EMAIL_RE.match(value):
        raise RowError(f"{column} '{value}' is not an email address" if value else f"{column} is empty")
    return value.lower()


Validator = Callable[[dict[str, str]], Any]
Writer = Callable[[EventContext, Cohort, list[Any], Counter[str]], Awaitable[None]]


async def run_import(
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
