"""The report page: `GET /reports/<link>` and its downloads, served by cohortbot's own aiohttp server.

Rendered on the server with Jinja2 (autoescaped), charts as inline SVG, styles inline: no script,
no external request, so it works offline. A link that is forged, altered, malformed or expired is
refused with 403/404 before anything is read; the viewer's rights are read again on every request.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from bot.capabilities.reports.audience import Audience, grant_audience, visible_to
from bot.capabilities.reports.downloads import csv_bytes, pdf_bytes, xlsx_bytes
from bot.capabilities.reports.exports import report_tables
from bot.capabilities.reports.kpis import WARN_BELOW, CohortReport
from bot.capabilities.reports.links import PATH_PREFIX, BadLink, ReportGrant, verify
from bot.capabilities.reports.render import (
    completion_warning,
    headline,
    kpi_pairs,
    module_line,
    pct,
    reasons,
    segment_line,
    session_line,
)
from bot.capabilities.reports.service import build_report
from bot.capabilities.reports.svgchart import Bar, bar_chart
from bot.core import i18n
from bot.core.i18n import N_, _
from bot.core.languages import reader_language
from bot.core.models import Cohort, Person
from bot.core.runtime import App

TEMPLATES = Path(__file__).with_name("templates")
SECURITY_HEADERS = {
    # Nothing may load from elsewhere; the page needs only its own inline styles.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'none'; form-action 'none'; base-uri 'none'",
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "zip": "application/zip",
}


# The report's tables, as the download links name them.
TABLE_WORDS = (N_("summary"), N_("learners"), N_("modules"), N_("sessions"), N_("segments"), N_("at risk"))


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.globals["_"] = _
    return env


def as_of_text(report: CohortReport) -> str:
    return _("As of {when} ({tz})", when=i18n.long_time(report.now, report.tz), tz=report.tz)


def page_context(report: CohortReport, audience: Audience, token: str, audit_pack: bool) -> dict[str, Any]:
    """Everything the template shows, already in the viewer's language."""
    scoped = audience.is_manager
    title = (
        _("{cohort}: your people's report", cohort=report.slug)
        if scoped
        else _("{cohort}: training report", cohort=report.slug)
    )
    modules = [Bar(m.title, m.rate, f"{m.done}/{m.learners}") for m in report.modules]
    sessions = [
        Bar(s.title, s.rate, f"{s.present + s.late}/{s.expected}" if s.counted else "")
        for s in report.sessions
    ]
    base = PATH_PREFIX + token
    downloads = [
        (f"{base}/{name}.csv", _("CSV: {table}", table=_(name.replace("_", " "))))
        for name in report_tables(report)
    ]
    downloads.append((f"{base}/report.xlsx", _("XLSX workbook")))
    downloads.append((f"{base}/report.pdf", _("PDF report")))
    if audit_pack:
        downloads.append((f"{base}/audit-pack.zip", _("Audit pack (signed ZIP)")))
    return {
        "lang": i18n.current(),
        "title": title,
        "as_of": as_of_text(report),
        "scoped": scoped,
        "headline": headline(report),
        "kpis": kpi_pairs(report),
        "warning": completion_warning(report) if report.completion_warning else None,
        "module_chart": bar_chart("modules", _("Completion per module"), modules, WARN_BELOW),
        "module_lines": [module_line(report, m) for m in report.modules],
        "session_chart": bar_chart("sessions", _("Attendance per session"), sessions, WARN_BELOW),
        "session_lines": [session_line(report, s) for s in report.sessions],
        "segments": [segment_line(s) for s in report.segments],
        "at_risk": [(s.learner.name, reasons(s)) for s in report.at_risk],
        "learners": [
            (
                s.learner.name,
                s.modules_done,
                s.modules_overdue,
                f"{s.sessions_attended}/{s.sessions_counted}",
                _("yes") if s.at_risk else _("no"),
            )
            for s in report.learners
        ],
        "completion": pct(report.completion_rate),
        "downloads": downloads,
    }


class ReportPages:
    """The handlers, bound to the running app (store, clock, settings)."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def _load(self, token: str) -> tuple[CohortReport, Audience, ReportGrant, str] | web.Response:
        now = self.app.clock.now()
        try:
            grant = verify(self.app.settings, token, now)
        except BadLink as e:
            return refused(str(e))
        async with self.app.store.transaction() as session:
            cohort = await session.get(Cohort, grant.cohort_id)
            person = await session.get(Person, grant.person_id)
            audience = await grant_audience(session, grant) if cohort and person else None
            if cohort is None or person is None or audience is None:
                return refused("no rights")
            lang = await reader_language(session, person, self.app.settings.default_language)
            report = await build_report(session, cohort, now, person_ids=audience.learner_ids)
        return visible_to(report, audience), audience, grant, lang

    async def page(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        loaded = await self._load(token)
        if isinstance(loaded, web.Response):
            return loaded
        report, audience, _grant, lang = loaded
        with i18n.use(lang):
            context = page_context(report, audience, token, self._audit_pack(audience))
            html = environment().get_template("report.html").render(**context)
        return web.Response(text=html, content_type="text/html", charset="utf-8", headers=SECURITY_HEADERS)

    def _audit_pack(self, audience: Audience) -> bool:
        """Staff only (it names everyone), and only where packs can be signed (a configured key, or
        one kept beside a SQLite database)."""
        from bot.capabilities.attendance.keys import signing_key_path

        return not audience.is_manager and signing_key_path(self.app.settings) is not None

    async def download(self, request: web.Request) -> web.StreamResponse:
        token, name = request.match_info["token"], request.match_info["name"]
        loaded = await self._load(token)
        if isinstance(loaded, web.Response):
            return loaded
        report, audience, grant, lang = loaded
        stem, _dot, ext = name.rpartition(".")
        with i18n.use(lang):
            body = await self._file(report, audience, grant, stem, ext)
        if body is None:
            raise web.HTTPNotFound(text="no such download")
        filename = f"{report.slug}-{stem}.{ext}"
        headers = {
            **SECURITY_HEADERS,
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Content-Type": TYPES[ext],
        }
        return web.Response(body=body, headers=headers)

    async def _file(
        self, report: CohortReport, audience: Audience, grant: ReportGrant, stem: str, ext: str
    ) -> bytes | None:
        if ext == "csv":
            return csv_bytes(report, stem)
        if (stem, ext) == ("report", "xlsx"):
            return await asyncio.to_thread(xlsx_bytes, report)
        if (stem, ext) == ("report", "pdf"):
            title = page_context(report, audience, "", False)["title"]
            return await asyncio.to_thread(pdf_bytes, report, title, as_of_text(report))
        if (stem, ext) == ("audit-pack", "zip") and self._audit_pack(audience):
            return await self._audit_pack_bytes(grant.cohort_id, self.app.clock.now())
        return None

    async def _audit_pack_bytes(self, cohort_id: int, now: datetime) -> bytes:
        from bot.capabilities.audit.pack import build as build_pack

        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "pack.zip"
            async with self.app.store.transaction() as session:
                cohort = await session.get_one(Cohort, cohort_id)
                await build_pack(session, self.app.settings, cohort, now, out)
            return out.read_bytes()


def refused(reason: str) -> web.Response:
    """One answer for every bad link: nothing tells a prober which part was wrong."""
    text = _("This report link is not valid: it may have expired. Ask the bot for `report <cohort>` again.")
    del reason  # kept by callers for reading; never sent
    return web.Response(status=403, text=text, headers=SECURITY_HEADERS)


async def attach(app: App, webapp: web.Application) -> Callable[[], Awaitable[None]]:
    """Add the report page and its downloads to the shared HTTP application."""
    pages = ReportPages(app)
    webapp.router.add_get(PATH_PREFIX + "{token}", pages.page)
    webapp.router.add_get(PATH_PREFIX + "{token}/{name}", pages.download)

    async def cleanup() -> None:
        return None

    return cleanup
