"""The report page's downloads, built in memory: CSV per table, one XLSX, one PDF, the audit pack."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from bot.capabilities.reports.exports import csv_cell, report_tables, write_xlsx
from bot.capabilities.reports.kpis import CohortReport
from bot.capabilities.reports.render import (
    completion_warning,
    headline,
    kpi_pairs,
    module_line,
    reasons,
    segment_line,
    session_line,
)
from bot.core.cells import safe_row
from bot.core.i18n import _


def csv_bytes(report: CohortReport, table: str) -> bytes | None:
    tables = report_tables(report)
    if table not in tables:
        return None
    header, rows = tables[table]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(safe_row(csv_cell(v) for v in row) for row in rows)
    return out.getvalue().encode("utf-8")


def xlsx_bytes(report: CohortReport) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        (path,) = write_xlsx(report, Path(folder))
        return path.read_bytes()


def pdf_bytes(report: CohortReport, title: str, as_of: str) -> bytes:
    """The page's figures and lists as a printable document (any script, through DocumentPDF)."""
    from bot.core.pdf import DocumentPDF  # fpdf2 loads only when a PDF is asked for

    pdf = DocumentPDF(format="A4")
    pdf.set_title(title)
    pdf.set_creator("cohortbot")
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page()
    pdf.set_font("DejaVu", "", 14)
    pdf.multi_cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(0, 5, as_of, new_x="LMARGIN", new_y="NEXT")

    def section(heading: str, lines: list[str]) -> None:
        pdf.ln(2)
        pdf.set_font("DejaVu", "", 11)
        pdf.multi_cell(0, 6, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 9)
        for line in lines:
            pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")

    section(
        _("Headline figures"),
        [_("{label}: {title}", label=k, title=v) for k, v in [*headline(report), *kpi_pairs(report)]],
    )
    if report.completion_warning:
        section(_("Warning"), [completion_warning(report)])
    section(
        _("Completion per module"),
        ["• " + module_line(report, m) for m in report.modules] or [_("No modules yet.")],
    )
    section(
        _("Attendance per session"),
        ["• " + session_line(report, s) for s in report.sessions] or [_("Nothing yet")],
    )
    if report.segments:
        section(_("Segments"), ["• " + segment_line(s) for s in report.segments])
    section(
        _("At risk ({n})", n=len(report.at_risk)),
        ["• " + _("{label}: {title}", label=s.learner.name, title=reasons(s)) for s in report.at_risk]
        or [_("Nobody is at risk.")],
    )
    return bytes(pdf.output())
