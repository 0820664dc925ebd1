"""Certificates of completion (PDF, fpdf2): one per learner who completed every module, with evidence.

A certificate names what an auditor checks: the training organisation and its registration number
(`PROVIDER_NAME`, `PROVIDER_ID`), the course title (the programme's title, else the cohort's name),
the dates, and the hours attended, computed from the attendance records (the whole session when
present, from the check-in to the end when late). The evidence is what it rests on: each module's
completion (date, status, source, score), the learner's attendance records, and the cohort's dates.
Names in any script print (bot.core.pdf: DejaVu Sans, Noto fallbacks for Arabic and CJK).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from babel.numbers import format_decimal
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.attendance.sheets import cohort_sheets, learner_summaries
from bot.capabilities.attendance.verification import records
from bot.capabilities.reports.config import DigestConfig
from bot.capabilities.reports.kpis import compute_report
from bot.capabilities.reports.load import DONE, load_rows
from bot.core import i18n
from bot.core.i18n import N_, _, _n
from bot.core.models import Activity, Cohort, Completion, Module
from bot.core.pdf import DocumentPDF
from bot.core.texts import local_date


@dataclass(frozen=True)
class ModuleEvidence:
    title: str
    status: str
    source: str
    at: datetime
    score: float | None


@dataclass(frozen=True)
class Issuer:
    """The training organisation that issues the certificate."""

    name: str = ""
    registration: str = ""


def course_title(cohort: Cohort) -> str:
    return str((cohort.programme or {}).get("title") or cohort.slug)


@dataclass(frozen=True)
class Certificate:
    cohort: str
    tz: str
    person_id: int
    name: str
    modules: list[ModuleEvidence]
    sessions_attended: int
    sessions_counted: int
    attendance_records: int
    dates: str  # the cohort's first and last days
    course: str = ""
    hours: float = 0.0  # hours of live sessions attended, from the attendance records
    issuer: Issuer = Issuer()
    start: date | None = None  # the first and last days of `dates`, for dates written the language's way
    end: date | None = None
    lang: str = "en"  # the cohort's: a certificate is a document for an auditor


async def certificates(
    session: AsyncSession,
    cohort: Cohort,
    now: datetime,
    issuer: Issuer | None = None,
    course: str | None = None,
) -> list[Certificate]:
    """A certificate for each active learner with every module of the cohort completed or passed."""
    cid = cohort.id or 0
    module_count = await session.exec(select(sa.func.count()).where(Module.cohort_id == cid))
    n_modules = int(module_count.one())
    if n_modules == 0:
        return []
    done = (
        await session.exec(
            select(Completion, Module.title)
            .join(Module, col(Module.id) == Completion.module_id)
            .where(Completion.cohort_id == cid, col(Completion.status).in_(DONE))
            .order_by(col(Module.due_at), col(Module.id))
        )
    ).all()
    evidence: dict[int, list[ModuleEvidence]] = {}
    for completion, title in done:
        evidence.setdefault(completion.person_id, []).append(
            ModuleEvidence(title, completion.status, completion.source, completion.at, completion.score)
        )
    complete = {pid for pid, items in evidence.items() if len(items) == n_modules}
    rows = await load_rows(session, cohort, now, person_ids=complete, with_kpis=False)
    records = dict(
        (
            await session.exec(
                select(Activity.person_id, sa.func.count())
                .where(Activity.cohort_id == cid, Activity.kind == "attendance.recorded")
                .where(col(Activity.person_id).in_(complete))
                .group_by(col(Activity.person_id))
            )
        ).all()
    )
    report = compute_report(rows, DigestConfig.of(cohort))
    zone = ZoneInfo(cohort.tz)
    days = sorted(
        t.astimezone(zone).date()
        for t in [*(m.due_at for m in rows.modules), *(x.starts_at for x in rows.sessions)]
    )
    hours = {s.person_id: s.hours for s in learner_summaries(await cohort_sheets(session, cohort))}
    first = cohort.start_date or (days[0].isoformat() if days else "")
    last = days[-1].isoformat() if days else ""
    return [
        Certificate(
            cohort=cohort.slug,
            tz=cohort.tz,
            person_id=s.person_id,
            name=s.learner.name,
            modules=evidence[s.person_id],
            sessions_attended=s.sessions_attended,
            sessions_counted=s.sessions_counted,
            attendance_records=int(records.get(s.person_id, 0)),
            dates=f"{first} to {last}" if first else last,
            course=course or course_title(cohort),
            hours=hours.get(s.person_id, 0.0),
            issuer=issuer or Issuer(),
            start=date.fromisoformat(first) if first else None,
            end=date.fromisoformat(last) if last else None,
            lang=cohort.lang,
        )
        for s in report.learners
    ]


def write_certificate(certificate: Certificate, out: Path, issued: datetime) -> Path:
    """The certificate in its cohort's language: in French a "certificat de réalisation", with the
    fields French training administration expects (the provider's declaration number, the nature
    of the training, its dates, the hours actually attended, stamp and signature)."""
    with i18n.use(certificate.lang):
        return _write_certificate(certificate, out, issued)


MODULE_STATUSES = (N_("completed"), N_("passed"))  # stored in English, shown with _()


def _day(day: date | None, fallback: str) -> str:
    """ISO in English (as before); the language's long date elsewhere ('lundi 1 mars 2027')."""
    if day is None:
        return fallback
    return day.isoformat() if i18n.current() == i18n.SOURCE_LANGUAGE else i18n.long_date(day)


def _hours(hours: float) -> str:
    return format_decimal(hours, format="0.00", locale=i18n.babel_locale(i18n.current()))


def _write_certificate(certificate: Certificate, out: Path, issued: datetime) -> Path:
    pdf = DocumentPDF(format="A4", bold=True)  # names in any script
    pdf.set_title(
        _("Certificate of completion: {name}, {cohort}", name=certificate.name, cohort=certificate.cohort)
    )
    pdf.add_page()
    issuer = certificate.issuer
    pdf.set_font("DejaVu", "B", 22)
    pdf.cell(0, 16, _("Certificate of completion"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 11)
    for line in (
        issuer.name or _("(training organisation: set PROVIDER_NAME)"),
        _("Registration number: {id}", id=issuer.registration or _("(set PROVIDER_ID)")),
    ):
        pdf.multi_cell(0, 6, line, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("DejaVu", "", 13)
    pdf.multi_cell(0, 10, _("This certifies that"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "B", 18)
    pdf.cell(0, 12, certificate.name, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 13)
    course = certificate.course or certificate.cohort
    pdf.multi_cell(
        0,
        10,
        _("completed every module of {course}", course=course),
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    first, _to, last = certificate.dates.partition(" to ")
    dates = (
        _("{start} to {end}", start=_day(certificate.start, first), end=_day(certificate.end, last))
        if _to
        else _day(certificate.end, certificate.dates)
    )
    for line in (
        _("Course: {course} (cohort {cohort})", course=course, cohort=certificate.cohort),
        _("Nature of the training: training course"),
        _("Cohort dates: {dates}", dates=dates),
        _("Hours attended: {hours} h", hours=_hours(certificate.hours)),
    ):
        pdf.multi_cell(0, 8, line, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("DejaVu", "B", 12)
    pdf.cell(0, 8, _("Evidence"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    for m in certificate.modules:
        score = _(", score {score}", score=i18n.number(m.score)) if m.score is not None else ""
        line = _(
            "{module}: {status} on {date}, source {source}{score}",
            module=m.title,
            status=_(m.status),
            date=_day(m.at.astimezone(ZoneInfo(certificate.tz)).date(), "")
            if certificate.lang != i18n.SOURCE_LANGUAGE
            else f"{local_date(m.at, certificate.tz)} {m.at:%Y}",
            source=m.source,
            score=score,
        )
        pdf.multi_cell(0, 6, "• " + line, new_x="LMARGIN", new_y="NEXT")
    attendance = _n(
        "Attendance: {attended} of {n} session attended ({records})",
        "Attendance: {attended} of {n} sessions attended ({records})",
        certificate.sessions_counted,
        attended=certificate.sessions_attended,
        records=records(certificate.attendance_records),
    )
    pdf.multi_cell(0, 6, "• " + attendance, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("DejaVu", "", 9)
    by = issuer.name or _("the training organisation")
    registration = " " + _("(registration {id})", id=issuer.registration) if issuer.registration else ""
    pdf.multi_cell(
        0,
        6,
        _(
            "Issued by {by}{registration} on {date} (UTC).",
            by=by,
            registration=registration,
            date=_day(issued.date(), ""),
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.multi_cell(
        0,
        6,
        _(
            "Hours attended: live sessions from the attendance records (the whole session when present, "
            "from the check-in to the end when late)."
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(8)
    pdf.multi_cell(0, 6, _("Stamp and signature of the training provider"), new_x="LMARGIN", new_y="NEXT")
    out.mkdir(parents=True, exist_ok=True)
    # Letters of any script stay (José-Núñez, 李雷); only what a file name cannot hold is replaced.
    slug = re.sub(r"[^\w-]+", "-", unicodedata.normalize("NFC", certificate.name)).strip("-_") or "learner"
    path = out / f"{certificate.cohort}-certificate-{certificate.person_id}-{slug}.pdf"
    pdf.output(str(path))
    return path
