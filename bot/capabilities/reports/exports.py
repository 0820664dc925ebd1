"""The report as tables, written as CSV files (one per table) or one XLSX workbook (one sheet each)."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from bot.capabilities.reports.kpis import CohortReport
from bot.capabilities.reports.render import kpi_pairs
from bot.core.cells import safe_row

Table = tuple[list[str], list[list[Any]]]


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _iso(value: Any) -> Any:
    # Kept as a datetime: CSV writes it as ISO 8601 text, XLSX as a real date (see `cell`).
    return value


def csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, datetime) else value


def xlsx_cell(value: Any, tz: str) -> Any:
    """Excel dates have no time zone: a time is written as the cohort's local wall time."""
    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
    return value


def report_tables(report: CohortReport) -> dict[str, Table]:
    """Every table of the report: summary, learners, modules, sessions, segments, at-risk."""
    summary: list[list[Any]] = [
        ["cohort", report.slug],
        ["computed_at", _iso(report.now)],
        ["learners", len(report.learners)],
        ["launch_rate", _rate(report.launch_rate)],
        ["completion_rate_due_modules", _rate(report.completion_rate)],
        ["attendance_rate", _rate(report.attendance_rate)],
        ["average_score", report.avg_score],
        ["at_risk", len(report.at_risk)],
        *([label, value] for label, value in kpi_pairs(report)),
    ]
    learners = [
        [
            s.person_id,
            s.learner.name,
            s.learner.site or "",
            s.learner.department or "",
            s.learner.seniority or "",
            s.modules_done,
            s.modules_due,
            s.modules_overdue,
            s.modules_failed,
            s.sessions_attended,
            s.sessions_missed,
            s.sessions_excused,
            _iso(s.last_activity),
            "yes" if s.at_risk else "no",
            "; ".join(s.risks),
        ]
        for s in report.learners
    ]
    modules = [
        [m.module_id, m.title, _iso(m.due_at), m.done, m.failed, m.learners, _rate(m.rate), m.avg_score]
        for m in report.modules
    ]
    sessions = [
        [
            s.session_id,
            s.title,
            _iso(s.starts_at),
            "yes" if s.counted else "no",
            s.present,
            s.late,
            s.absent,
            s.excused,
            s.expected,
            _rate(s.rate),
        ]
        for s in report.sessions
    ]
    segments = [
        [
            g.dimension,
            g.value,
            g.learners,
            _rate(g.launch_rate),
            _rate(g.completion_rate),
            _rate(g.attendance_rate),
            g.at_risk,
        ]
        for g in report.segments
    ]
    at_risk = [[s.person_id, s.learner.name, "; ".join(s.risks)] for s in report.at_risk]
    return {
        "summary": (["figure", "value"], summary),
        "learners": (
            [
                "person_id",
                "name",
                "site",
                "department",
                "seniority",
                "modules_done",
                "modules_due",
                "modules_overdue",
                "modules_failed",
                "sessions_attended",
                "sessions_missed",
                "sessions_excused",
                "last_activity",
                "at_risk",
                "risk_reasons",
            ],
            learners,
        ),
        "modules": (
            ["module_id", "title", "due_at", "done", "failed", "learners", "completion_rate", "avg_score"],
            modules,
        ),
        "sessions": (
            [
                "session_id",
                "title",
                "starts_at",
                "counted",
                "present",
                "late",
                "absent",
                "excused",
                "expected",
                "attendance_rate",
            ],
            sessions,
        ),
        "segments": (
            [
                "dimension",
                "value",
                "learners",
                "launch_rate",
                "completion_rate",
                "attendance_rate",
                "at_risk",
            ],
            segments,
        ),
        "at_risk": (["person_id", "name", "reasons"], at_risk),
    }


def write_csv(report: CohortReport, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (header, rows) in report_tables(report).items():
        path = out / f"{report.slug}-{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(safe_row(csv_cell(v) for v in row) for row in rows)
        written.append(path)
    return written


def write_xlsx(report: CohortReport, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    book = Workbook(write_only=True)
    for name, (header, rows) in report_tables(report).items():
        sheet = book.create_sheet(name)
        sheet.append(header)
        for row in rows:
            # openpyxl would store "=..." as a live formula: text is neutralised; dates stay dates.
            sheet.append([_xlsx_value(sheet, v, report.tz) for v in safe_row(row)])
    path = out / f"{report.slug}-report.xlsx"
    book.save(path)
    return [path]


def _xlsx_value(sheet: Any, value: Any, tz: str) -> Any:
    if not isinstance(value, datetime):
        return value
    cell = WriteOnlyCell(sheet, value=xlsx_cell(value, tz))
    cell.number_format = "yyyy-mm-dd hh:mm"
    return cell
