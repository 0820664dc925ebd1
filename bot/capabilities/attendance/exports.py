"""Attendance sheets as files and text: CSV and PDF (fpdf2, DejaVu Sans from matplotlib), plain text."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.attendance.sheets import (
    STATUS_ORDER,
    HalfDaySheet,
    LearnerSummary,
    SessionSheet,
    cohort_sheets,
    half_days,
    learner_summaries,
)
from bot.capabilities.attendance.texts import STATUS_LABELS
from bot.core.cells import safe_row, safe_rows
from bot.core.models import Cohort

SESSION_HEADER = ("Learner", "Platform id", "Status", "Time ({tz})", "Time (UTC)", "Recorded by", "Note")


def _label(status: str) -> str:
    return STATUS_LABELS.get(status, status or "not recorded")


def _times(at: datetime | None, tz: str) -> tuple[str, str]:
    if at is None:
        return "", ""
    return f"{at.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M:%S}", f"{at.astimezone(UTC):%Y-%m-%d %H:%M:%S}"


def session_table(sheet: SessionSheet) -> list[list[str]]:
    header = [h.format(tz=sheet.tz) for h in SESSION_HEADER]
    rows = [
        [r.name, r.platform_id, _label(r.status), *_times(r.at, sheet.tz), r.recorded_by, r.note]
        for r in sheet.rows
    ]
    return [header, *rows]


def half_day_table(sheet: HalfDaySheet) -> list[list[str]]:
    header = ["Learner", "Platform id"]
    for s in sheet.sessions:
        header += [f"#{s.live.id} status", f"#{s.live.id} time ({s.tz})"]
    cells: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for i, s in enumerate(sheet.sessions):
        for r in s.rows:
            names.setdefault(r.platform_id, r.name)
            row = cells.setdefault(r.platform_id, ["", ""] * len(sheet.sessions))
            row[2 * i] = _label(r.status)
            row[2 * i + 1] = _times(r.at, s.tz)[0][11:16]
    body = [[names[pid], pid, *cells[pid]] for pid in sorted(cells, key=lambda p: names[p].lower())]
    return [header, *body]


def summary_table(summaries: list[LearnerSummary]) -> list[list[str]]:
    header = ["Learner", "Platform id", *(STATUS_LABELS[s] for s in STATUS_ORDER), "Not recorded", "Rate"]
    rows = [
        [
            s.name,
            s.platform_id,
            *(str(s.counts[st]) for st in STATUS_ORDER),
            str(s.counts["unrecorded"]),
            f"{s.rate:.0%}",
        ]
        for s in summaries
    ]
    return [header, *rows]


def totals_rows(sheets: Iterable[SessionSheet]) -> list[list[str]]:
    return [[f"Totals #{s.live.id}", s.totals_line()] for s in sheets]


def write_csv(path: Path, title: str, table: list[list[str]], totals: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(safe_row([title]))
        writer.writerows(safe_rows(table))
        if totals:
            writer.writerow([])
            writer.writerows(safe_rows(totals))
    return path


def font_path() -> Path:
    """DejaVu Sans as shipped by matplotlib: covers accents and most scripts, nothing to download."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


def write_pdf(path: Path, title: str, lines: list[str], table: list[list[str]], totals: list[str]) -> Path:
    """One landscape A4 document: title, context lines, the table (header repeated per page), totals."""
    from fpdf import FPDF

    pdf = FPDF(orientation="landscape", format="A4")
    pdf.add_font("DejaVu", "", str(font_path()))  # one face only: parsing a font is the slow part
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
    return f"Generated {now.astimezone(UTC):%Y-%m-%d %H:%M} UTC by cohortbot."


def write_session(sheet: SessionSheet, out: Path, now: datetime) -> list[Path]:
    stem = out / f"{sheet.cohort.slug}-session-{sheet.live.id}"
    title = f"Attendance sheet: {sheet.title()}"
    table = session_table(sheet)
    lines = [
        f"Cohort {sheet.cohort.slug}. Times in {sheet.tz} and UTC. {_generated(now)}",
        f"Evidence: hash chain head {sheet.chain_head or '(no records)'}; "
        "check it with `cohortbot evidence verify`.",
    ]
    return [
        write_csv(stem.with_suffix(".csv"), title, table, [["Totals", sheet.totals_line()]]),
        write_pdf(stem.with_suffix(".pdf"), title, lines, table, [f"Totals: {sheet.totals_line()}"]),
    ]


def write_half_day(sheet: HalfDaySheet, out: Path, now: datetime) -> list[Path]:
    stem = out / f"{sheet.cohort.slug}-{sheet.slug}"
    title = f"Attendance sheet: {sheet.title()}"
    table = half_day_table(sheet)
    lines = [f"#{s.live.id}: {s.title()}" for s in sheet.sessions] + [_generated(now)]
    totals = totals_rows(sheet.sessions)
    return [
        write_csv(stem.with_suffix(".csv"), title, table, totals),
        write_pdf(stem.with_suffix(".pdf"), title, lines, table, [f"{a}: {b}" for a, b in totals]),
    ]


def write_summary(cohort: Cohort, summaries: list[LearnerSummary], out: Path, now: datetime) -> list[Path]:
    stem = out / f"{cohort.slug}-attendance-by-learner"
    title = f"Attendance by learner: {cohort.slug}"
    table = summary_table(summaries)
    held = summaries[0].held if summaries else 0
    lines = [f"{held} sessions held. Rate = (present + late) / sessions held. {_generated(now)}"]
    return [
        write_csv(stem.with_suffix(".csv"), title, table, []),
        write_pdf(stem.with_suffix(".pdf"), title, lines, table, []),
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
    lines = [f"Attendance: {sheet.title()}"]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.append(f"Totals: {sheet.totals_line()}")
    return "\n".join(lines)
