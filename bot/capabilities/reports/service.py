"""Shared steps of the report and the digests: compute a cohort's report, write its chart, name weeks."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.reports.config import DigestConfig
from bot.capabilities.reports.kpis import CohortReport, compute_report
from bot.capabilities.reports.load import load_rows
from bot.core.exports import cohort_folder
from bot.core.models import Cohort


async def build_report(
    session: AsyncSession,
    cohort: Cohort,
    now: datetime,
    *,
    person_ids: Collection[int] | None = None,
    with_kpis: bool = True,
) -> CohortReport:
    rows = await load_rows(session, cohort, now, person_ids=person_ids, with_kpis=with_kpis)
    return compute_report(rows, DigestConfig.of(cohort))


def week_label(when: datetime, tz: str) -> str:
    """The ISO week of `when` in a zone, e.g. '2027-W09': digests and nudges are once per week."""
    year, week, _ = when.astimezone(ZoneInfo(tz)).isocalendar()
    return f"{year}-W{week:02d}"


def chart_path(report: CohortReport, export_dir: str) -> Path:
    stamp = report.now.strftime("%Y%m%d-%H%M")
    return cohort_folder(export_dir, report.slug, "charts") / f"{report.slug}-report-{stamp}.png"


async def write_report_chart(report: CohortReport, export_dir: str) -> Path:
    """Draw the chart in a worker thread: matplotlib is CPU-bound and must not stall the event loop."""
    from bot.capabilities.reports.chart import (
        write_chart,  # matplotlib takes a second to import: only when drawing
    )

    return await asyncio.to_thread(write_chart, report, chart_path(report, export_dir))


async def export_report(
    session: AsyncSession, cohort: Cohort, now: datetime, fmt: str, out: Path
) -> list[Path]:
    """Write the report's tables as CSV files or one XLSX workbook in `out`."""
    from bot.capabilities.reports.exports import write_csv, write_xlsx

    report = await build_report(session, cohort, now)
    writer = {"csv": write_csv, "xlsx": write_xlsx}[fmt]
    return await asyncio.to_thread(writer, report, out)


async def export_certificates(
    session: AsyncSession,
    cohort: Cohort,
    now: datetime,
    out: Path,
    issuer: Any = None,
    course: str | None = None,
) -> list[Path]:
    """One PDF per learner who completed every module (issuer: a `certificates.Issuer`)."""
    from bot.capabilities.reports.certificates import certificates, write_certificate

    found = await certificates(session, cohort, now, issuer, course)
    return await asyncio.to_thread(lambda: [write_certificate(c, out, now) for c in found])
