"""Names in any script: console names in any letters, an attendance sheet and a certificate whose
PDFs print Latin, Greek, Cyrillic, Arabic and CJK names (read back with pypdf), file names that
keep accents, and a French Excel CSV (semicolons, byte-order mark) imported."""

from __future__ import annotations

import asyncio
import logging
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlmodel import select

from bot.app.bootstrap import App
from bot.capabilities.attendance import exports
from bot.capabilities.attendance.sheets import session_sheet
from bot.capabilities.completion.learner_import import import_learners
from bot.capabilities.reports.certificates import Certificate, ModuleEvidence, write_certificate
from bot.core import pdf
from bot.core.clock import SimulatedClock
from bot.core.models import Cohort, LiveSession, Person
from tests.capabilities.attendance_helpers import at, click, run_until
from tests.conftest import Chat

# One learner per script: Latin with accents, Greek, Cyrillic, Arabic, Chinese (and Japanese).
NAMES = ("émilie", "josé", "σοφία", "анна", "فاطمة", "李雷", "山田")


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)


def printed(name: str, text: str) -> bool:
    """Is `name` in a PDF's extracted text (in reading order: Arabic is shaped, not reversed)?
    pypdf separates glyphs drawn from a fallback font with spaces or NULs: ignore both."""
    compact = "".join(text.replace("\x00", " ").split())
    return "".join(name.split()) in compact


async def test_console_names_in_any_script_are_people(chat: Chat, app: App) -> None:
    await chat.say("tina", "create spoc tz=Europe/Paris")
    decomposed = unicodedata.normalize("NFD", "Émilie")  # what some keyboards send: E + combining accent
    reply = await chat.say("tina", f"enroll spoc {decomposed} σοφία 李雷 فاطمة")
    assert "Enrolled 4 in *spoc*: émilie, σοφία, 李雷, فاطمة." in reply
    assert "spoc: your progress" in await chat.say("李雷", "status spoc")
    async with app.store.transaction() as session:
        names = sorted(p.display_name for p in (await session.exec(select(Person))).all())
    assert names == sorted(["tina", "émilie", "σοφία", "李雷", "فاطمة"])  # one émilie, NFC
    refused = await chat.say("tina", "enroll spoc 2cool")
    assert "I don't know who '2cool' is" in refused


def needs_noto_fonts() -> None:
    missing = [f.files[0] for f in pdf.FALLBACKS if not any(map(pdf.find_font, f.files))]
    if missing:
        pytest.skip(f"fonts missing: {', '.join(missing)} (`make fonts` installs them)")


async def test_a_sheet_and_a_certificate_print_names_in_five_scripts(
    app: App, chat: Chat, clock: SimulatedClock, tmp_path: Path
) -> None:
    needs_noto_fonts()
    await chat.say("tina", "create spoc tz=Europe/Paris")
    await chat.say("tina", f"enroll spoc {' '.join(NAMES)}")
    await chat.say("tina", 'session spoc "Kick-off" 2027-03-01 09:00 90m')
    for name in NAMES[:4]:
        await click(app, clock, name, at(7, 58))
    await run_until(app, clock, at(8, 30))
    async with app.store.transaction() as session:
        cohort = (await session.exec(select(Cohort))).one()
        live = (await session.exec(select(LiveSession))).one()
        sheet = await session_sheet(session, cohort, live)
    _csv, sheet_pdf = exports.write_session(sheet, tmp_path, clock.now())
    sheet_text = await asyncio.to_thread(pdf_text, sheet_pdf)
    assert [n for n in NAMES if not printed(n, sheet_text)] == [], sheet_text
    assert "?" not in sheet_text  # every glyph found a font

    for person_id, name in enumerate(("Fatima فاطمة الزهراء", "José Núñez", "李雷", "Σοφία", "Анна"), 1):
        certificate = Certificate(
            cohort="spoc",
            tz="Europe/Paris",
            person_id=person_id,
            name=name,
            modules=[ModuleEvidence("M1", "passed", "chat", datetime(2027, 3, 3, 9, tzinfo=UTC), 80.0)],
            sessions_attended=1,
            sessions_counted=1,
            attendance_records=1,
            dates="2027-03-01 to 2027-03-26",
        )
        path = write_certificate(certificate, tmp_path / "certificates", clock.now())
        text = await asyncio.to_thread(pdf_text, path)
        assert printed(name, text), (name, text)
    written = sorted(p.name for p in (tmp_path / "certificates").iterdir())
    assert "spoc-certificate-2-José-Núñez.pdf" in written  # accents kept, not `Jos-N-ez`
    assert "spoc-certificate-3-李雷.pdf" in written


def test_a_missing_fallback_font_is_named_and_its_text_is_never_blank(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    monkeypatch.setattr(pdf, "find_font", lambda name: None)  # a machine without the Noto fonts
    pdf._warn_missing.cache_clear()
    document = pdf.DocumentPDF(format="A4")
    document.add_page()
    document.set_font(pdf.FAMILY, "", 12)
    with caplog.at_level(logging.WARNING):
        document.cell(0, 10, "Élodie 李雷")
    pdf._warn_missing.cache_clear()
    assert "NotoSansCJK-Regular.ttc not found (install the fonts-noto-cjk package)" in caplog.text
    document.output(str(tmp_path / "t.pdf"))
    assert "Élodie ??" in pdf_text(tmp_path / "t.pdf")


async def test_a_french_excel_csv_with_semicolons_and_a_bom_is_imported(chat: Chat, app: App) -> None:
    await chat.say("tina", "create spoc tz=Europe/Paris")
    french_excel = (
        "\ufeffemail;name;team\r\nzoe@example.com;Zoé Lefèvre;bleu\r\nli@example.com;李雷;rouge\r\n"
    )
    report = await import_learners(app.store, app.settings, app.clock.now(), "spoc", french_excel)
    assert report.imported, report.render()
    async with app.store.transaction() as session:
        names = {p.email: p.display_name for p in (await session.exec(select(Person))).all()}
    assert names["zoe@example.com"] == "Zoé Lefèvre" and names["li@example.com"] == "李雷"
    comma = 'email,name\r\nann@example.com,"Ann; the second"\r\n'  # a ; inside a quoted field
    assert (await import_learners(app.store, app.settings, app.clock.now(), "spoc", comma)).imported


def test_the_console_speaks_as_people_named_in_any_script(tmp_path: Path) -> None:
    from tests.adapters.test_console import run_console

    out = run_console(
        tmp_path,
        "\n".join(
            [
                "as tina: create spoc tz=Europe/Paris lang=fr",
                "as tina: enroll spoc émilie 李雷",
                "as 李雷: statut spoc",
                "as Émilie: aide",
                "quit",
            ]
        ),
    )
    assert "2 personnes inscrites dans *spoc* : émilie, 李雷." in out
    assert "spoc : votre progression" in out  # 李雷 spoke, in the cohort's language
    assert "Commandes de cohortbot" in out  # Émilie is émilie
    assert "I don't know who" not in out
