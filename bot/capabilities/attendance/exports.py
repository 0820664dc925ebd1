"""Attendance sheets as files and text: CSV and PDF (fpdf2, names in any script: bot.core.pdf), plain text.

A CSV is plain: one header row, then one row per learner (no title line, no totals: the title is
in the file name, the totals in the PDF). Files are named `<cohort>-<what>-<title words>.<ext>`.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.attendance.sheets import (
    AUTOMATIC,
    LEARNER,
    STATUS_ORDER,
    HalfDaySheet,
    LearnerSummary,
    SessionSheet,
    SheetRow,
    cohort_sheets,
    half_days,
    learner_summaries,
)
from bot.capabilities.attendance.texts import STATUS_LABELS
from bot.core import i18n
from bot.core.cells import safe_rows
from bot.core.i18n import N_, _, _n
from bot.core.models import Cohort

SESSION_HEADER = (
    N_("Learner"),
    N_("Platform id"),
    N_("Status"),
    N_("Time ({tz})"),
    N_("Time (UTC)"),
    N_("Recorded by"),
    N_("Note"),
    N_("Minutes in meeting"),
)


def _label(status: str) -> str:
    return _(STATUS_LABELS[status]) if status in STATUS_LABELS else status or _("not recorded")


MEETING_RECORDER = N_("meeting")  # the Teams meeting decided (meeting_sheet.MEETING)


def _recorder(row: SheetRow) -> str:
    known = (LEARNER, AUTOMATIC, MEETING_RECORDER)
    return _(row.recorded_by) if row.recorded_by in known else row.recorded_by


def _note(row: SheetRow) -> str:
    if not row.corrected_from:
        return row.note
    return _("corrected from {status}: {reason}", status=_label(row.corrected_from), reason=row.note)


def _minutes(row: SheetRow) -> str:
    """Blank when no meeting measured the learner (not zero: nothing was measured)."""
    return "" if row.minutes is None else i18n.number(row.minutes)


def _times(at: datetime | None, tz: str) -> tuple[str, str]:
    if at is None:
        return "", ""
    return f"{at.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M:%S}", f"{at.astimezone(UTC):%Y-%m-%d %H:%M:%S}"


def session_table(sheet: SessionSheet) -> list[list[str]]:
    header = [_(h, tz=sheet.tz) for h in SESSION_HEADER]
    rows = [
        [
            r.name,
            r.platform_id,
            _label(r.status),
            *_times(r.at, sheet.tz),
            _recorder(r),
            _note(r),
            _minutes(r),
        ]
        for r in sheet.rows
    ]
    return [header, *rows]


def half_day_table(sheet: HalfDaySheet) -> list[list[str]]:
    """One row per person (never per platform identity), one status and time column per session."""
    header = [_("Learner"), _("Platform id")]
    for s in sheet.sessions:
        header += [_("#{id} status", id=s.live.id), _("#{id} time ({tz})", id=s.live.id, tz=s.tz)]
    cells: dict[int, list[str]] = {}
    who: dict[int, tuple[str, str]] = {}
    for i, s in enumerate(sheet.sessions):
        for r in s.rows:
            who.setdefault(r.person_id, (r.name, r.platform_id))
            row = cells.setdefault(r.person_id, ["", ""] * len(sheet.sessions))
            row[2 * i] = _label(r.status)
            row[2 * i + 1] = _times(r.at, s.tz)[0][11:16]
    order = sorted(cells, key=lambda p: (who[p][0].lower(), p))
    return [header, *([*who[p], *cells[p]] for p in order)]


def summary_table(summaries: list[LearnerSummary]) -> list[list[str]]:
    header = [
        _("Learner"),
        _("Platform id"),
        *(_(STATUS_LABELS[s]) for s in STATUS_ORDER),
        _("Not recorded"),
        _("Expected"),
        _("Rate"),
        _("Hours attended"),
    ]
    rows = [
        [
            s.name,
            s.platform_id,
            *(str(s.counts[st]) for st in STATUS_ORDER),
            str(s.counts["unrecorded"]),
            str(s.expected),
            _("n/a") if s.rate is None else i18n.percent(s.rate),
            format_decimal(s.hours, format="0.00", locale=i18n.babel_locale(i18n.current())),
        ]
        for s in summaries
    ]
    return [header, *rows]


def totals_rows(sheets: Iterable[SessionSheet]) -> list[list[str]]:
    return [[_("Totals #{id}", id=s.live.id), s.totals_line()] for s in sheets]


def write_csv(path: Path, table: list[list[str]]) -> Path:
    """Plain CSV: the header, then the rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(safe_rows(table))
    return path


def file_words(text: str) -> str:
    """A title as file-name words: lower-case letters of any script and digits joined by dashes
    (accents kept: `séance-d-ouverture`, not `s-ance-d-ouverture`)."""
    words = re.sub(r"[^\w]+", "-", unicodedata.normalize("NFC", text.lower())).replace("_", "-")
    return words.strip("-")[:60] or "untitled"


def session_stem(sheet: SessionSheet) -> str:
    day = f"{sheet.live.starts_at.astimezone(ZoneInfo(sheet.tz)):%Y-%m-%d}"
    return f"{sheet.cohort.slug}-session-{sheet.live.id}-{file_words(sheet.live.title)}-{day}"


def write_pdf(path: Path, title: str, lines: list[str], table: list[list[str]], totals: list[str]) -> Path:
    """One landscape A4 document: title, context lines, the table (header repeated per page), totals."""
    from bot.core.pdf import DocumentPDF  # fpdf2 loads only when a PDF is written

    pdf = DocumentPDF(orientation="landscape", format="A4")  # any script; one face: parsing is slow
    pdf.set_title(title)
    pdf.set_creator("cohortbot")
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page()
    pdf.set_font("DejaVu", "", 13)
    pdf.multi_cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 8)
    for line in lines:
        pdf.multi_cell(0, 4.5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _grid(pdf, table)
    pdf.ln(2)
    pdf.set_font("DejaVu", "", 9)
    for line in totals:
        pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path


def _grid(pdf: Any, table: list[list[str]], size: float = 7.5, height: float = 5.0) -> None:
    """A plain bordered grid drawn cell by cell (much faster than fpdf's table for long sheets).

    Columns get widths in proportion to their longest text; a cell too long for its column is
    written in a smaller font rather than cut, so no evidence is hidden.
    """
    pdf.set_font("DejaVu", "", size)
    room = pdf.epw
    natural = [max(pdf.get_string_width(row[i]) for row in table) + 2.5 for i in range(len(table[0]))]
    scale = min(1.0, room / sum(natural))
    widths = [w * scale for w in natural]

    def draw(row: list[str], heading: bool) -> None:
        for text, width in zip(row, widths, strict=True):
            font = size
            pdf.set_font("DejaVu", "", font)
            pdf.set_fill_color(225 if heading else 255)
            while font > 4 and pdf.get_string_width(text) > width - 1.5:
                font -= 0.5
                pdf.set_font_size(font)
            pdf.cell(width, height, text, border=1, fill=heading)
        pdf.ln(height)

    draw(table[0], True)
    for row in table[1:]:
        if pdf.will_page_break(height):
            pdf.add_page()
            draw(table[0], True)
        draw(row, False)
    pdf.set_font("DejaVu", "", size)


def _generated(now: datetime) -> str:
    when = f"{now.astimezone(UTC):%Y-%m-%d %H:%M}"
    return _("Generated {when} UTC by cohortbot.", when=when)


def write_session(sheet: SessionSheet, out: Path, now: datetime) -> list[Path]:
    """A document for an auditor: in the cohort's language."""
    with i18n.use(sheet.cohort.lang):
        return _write_session(sheet, out, now)


def _write_session(sheet: SessionSheet, out: Path, now: datetime) -> list[Path]:
    stem = out / session_stem(sheet)
    title = _("Attendance sheet: {title}", title=sheet.title())
    table = session_table(sheet)
    lines = [
        _("Cohort {cohort}. Times in {tz} and UTC.", cohort=sheet.cohort.slug, tz=sheet.tz)
        + " "
        + _generated(now),
        _(
            "Evidence: hash chain head {head}; check it with `cohortbot evidence verify`.",
            head=sheet.chain_head or _("(no records)"),
        ),
    ]
    return [
        write_csv(stem.with_name(stem.name + ".csv"), table),
        write_pdf(
            stem.with_name(stem.name + ".pdf"),
            title,
            lines,
            table,
            [_("Totals: {totals}", totals=sheet.totals_line())],
        ),
    ]


def write_half_day(sheet: HalfDaySheet, out: Path, now: datetime) -> list[Path]:
    """The sheet per half-day (in French a "feuille d'émargement"), in the cohort's language."""
    with i18n.use(sheet.cohort.lang):
        return _write_half_day(sheet, out, now)


def _write_half_day(sheet: HalfDaySheet, out: Path, now: datetime) -> list[Path]:
    stem = out / f"{sheet.cohort.slug}-half-day-{sheet.day.isoformat()}-{sheet.part}"
    # msgctxt-free: the French catalogue names this document "Feuille d'émargement".
    title = _("Half-day attendance sheet: {title}", title=sheet.title())
    table = half_day_table(sheet)
    lines = [f"#{s.live.id}: {s.title()}" for s in sheet.sessions] + [_generated(now)]
    totals = [_("{label}: {title}", label=a, title=b) for a, b in totals_rows(sheet.sessions)]
    totals.append(_("Half-day: {totals}", totals=sheet.totals_line()))
    return [
        write_csv(stem.with_name(stem.name + ".csv"), table),
        write_pdf(stem.with_name(stem.name + ".pdf"), title, lines, table, totals),
    ]


def write_summary(cohort: Cohort, summaries: list[LearnerSummary], out: Path, now: datetime) -> list[Path]:
    with i18n.use(cohort.lang):
        return _write_summary(cohort, summaries, out, now)


def _write_summary(cohort: Cohort, summaries: list[LearnerSummary], out: Path, now: datetime) -> list[Path]:
    stem = out / f"{cohort.slug}-attendance-by-learner"
    title = _("Attendance by learner: {cohort}", cohort=cohort.slug)
    table = summary_table(summaries)
    held = summaries[0].held if summaries else 0
    lines = [
        _n("{n} session held.", "{n} sessions held.", held)
        + " "
        + _(
            "Expected = sessions held - excused; rate = (present + late) / expected. "
            "Hours: the whole session when present, from the check-in to the end when late."
        ),
        _generated(now),
    ]
    totals = [_n("{n} learner", "{n} learners", len(summaries))]
    return [
        write_csv(stem.with_name(stem.name + ".csv"), table),
        write_pdf(stem.with_name(stem.name + ".pdf"), title, lines, table, totals),
    ]


async def export_cohort(
    session: AsyncSession, cohort: Cohort, out: Path, now: datetime, *, session_id: int | None = None
) -> list[Path]:
    """Write every sheet of the cohort (or of one session): per session, per half-day, per learner."""
    sheets = await cohort_sheets(session, cohort)
    if session_id is not None:
        return [p for s in sheets if s.live.id == session_id for p in write_session(s, out, now)]
    return export_cohort_sheets(sheets, cohort, out, now)


def export_cohort_sheets(sheets: list[SessionSheet], cohort: Cohort, out: Path, now: datetime) -> list[Path]:
    paths = [p for s in sheets for p in write_session(s, out, now)]
    paths += [p for h in half_days(sheets) for p in write_half_day(h, out, now)]
    paths += write_summary(cohort, learner_summaries(sheets), out, now)
    return paths


def render_session_text(sheet: SessionSheet) -> str:
    """The sheet as aligned text, for chat and the demo."""
    table = session_table(sheet)
    day = f"{sheet.live.starts_at.astimezone(ZoneInfo(sheet.tz)):%Y-%m-%d}"

    def short(when: str) -> str:  # the time alone on the session's day, else the date too
        return when[11:16] if when.startswith(day) else when[:16]

    keep = [0, 2, 3, 5]  # learner, status, local time, recorded by
    rows = [[row[i] if i != 3 or n == 0 else short(row[i]) for i in keep] for n, row in enumerate(table)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(keep))]
    lines = [_("Attendance: {title}", title=sheet.title())]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.append(_("Totals: {totals}", totals=sheet.totals_line()))
    return "\n".join(lines)
