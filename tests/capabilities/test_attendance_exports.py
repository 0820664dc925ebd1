"""Attendance sheets: per session (CSV, PDF read back as text), per half-day, per learner, and the CLI."""

from __future__ import annotations

import asyncio
import csv
import re
from pathlib import Path

from pypdf import PdfReader
from sqlmodel import select
from typer.testing import CliRunner

from bot.app.bootstrap import App
from bot.app.cli import app as cli
from bot.capabilities.attendance import exports
from bot.capabilities.attendance.sheets import cohort_sheets, half_days, learner_summaries, session_sheet
from bot.core.clock import SimulatedClock
from bot.core.inbound import Profile
from bot.core.models import Cohort, LiveSession
from bot.core.people import upsert_profile
from tests.capabilities.attendance_helpers import at, click, cohort_with_session, run_until
from tests.conftest import Chat


async def a_finished_session(app: App, chat: Chat, clock: SimulatedClock) -> None:
    async with app.store.transaction() as session:  # what the platform tells us about her name
        await upsert_profile(session, Profile("console", "", "zoe", "Zoë Ångström"), clock.now())
    await cohort_with_session(chat, ("alice", "bob", "carol", "zoe"))
    await click(app, clock, "alice", at(7, 55))
    await click(app, clock, "bob", at(8, 7))
    await run_until(app, clock, at(8, 30))
    assert "Excused" in await chat.say("tina", "correct spoc zoe excused #1 doctor's note")


async def test_session_sheet_as_csv_and_pdf(
    app: App, chat: Chat, clock: SimulatedClock, tmp_path: Path
) -> None:
    await a_finished_session(app, chat, clock)
    async with app.store.transaction() as session:
        cohort = (await session.exec(select(Cohort))).one()
        live = (await session.exec(select(LiveSession))).one()
        sheet = await session_sheet(session, cohort, live)
    csv_path, pdf_path = exports.write_session(sheet, tmp_path, clock.now())

    with csv_path.open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert csv_path.name == "spoc-session-1-kick-off-2027-03-01.csv"  # the title is in the name
    assert rows[0] == [
        "Learner",
        "Platform id",
        "Status",
        "Time (Europe/Paris)",
        "Time (UTC)",
        "Recorded by",
        "Note",
        "Minutes in meeting",
    ]
    assert rows[1][:6] == [
        "alice",
        "console:alice",
        "Present",
        "2027-03-01 08:55:00",
        "2027-03-01 07:55:00",
        "learner",
    ]
    assert rows[2][:3] == ["bob", "console:bob", "Late"]
    assert rows[3][:3] == ["carol", "console:carol", "Absent"] and rows[3][5] == "automatic"
    assert rows[4][2] == "Excused" and rows[4][5] == "tina"
    assert rows[4][6] == "corrected from Absent: doctor's note"
    assert len(rows) == 5 and all(len(r) == 8 for r in rows)  # plain CSV: header and one row each

    pdf = "\n".join(page.extract_text() for page in PdfReader(pdf_path).pages)
    assert "Attendance sheet: Kick-off (#1), Mon 01 Mar 2027 09:00 Europe/Paris" in pdf
    lines = pdf.splitlines()
    assert any(
        re.match(r"alice console:alice Present 2027-03-01 08:55:00 2027-03-01 07:55:00 learner", ln)
        for ln in lines
    )
    assert any(ln.startswith("bob console:bob Late 2027-03-01 09:07:00") for ln in lines)
    assert any(ln.startswith("carol console:carol Absent") for ln in lines)
    assert any(ln.startswith("Zoë Ångström console:zoe Excused") for ln in lines)  # non-ASCII names survive
    assert "Totals: 4 learners: 1 present, 1 late, 1 absent, 1 excused" in pdf
    assert sheet.chain_head in pdf.replace("\n", "")


async def test_a_two_day_course_has_four_half_day_sheets_and_a_learner_summary(
    app: App, chat: Chat, clock: SimulatedClock, tmp_path: Path
) -> None:
    await chat.say("tina", "create spoc tz=Europe/Paris")
    await chat.say("tina", "enroll spoc alice bob")
    for day in ("2027-03-01", "2027-03-02"):
        await chat.say("tina", f'session spoc "Morning" {day} 09:00 3h')
        await chat.say("tina", f'session spoc "Afternoon" {day} 14:00 3h')
    await click(app, clock, "alice", at(7, 55), session_id=1)
    await click(app, clock, "alice", at(12, 55), session_id=2)
    await click(app, clock, "bob", at(13, 10), session_id=2)
    await run_until(app, clock, at(23, 0))
    async with app.store.transaction() as session:
        cohort = (await session.exec(select(Cohort))).one()
        sheets = await cohort_sheets(session, cohort)
    halves = half_days(sheets)
    assert [h.slug for h in halves] == ["2027-03-01-am", "2027-03-01-pm", "2027-03-02-am", "2027-03-02-pm"]
    table = exports.half_day_table(halves[1])
    assert table[1:] == [
        ["alice", "console:alice", "Present", "13:55"],
        ["bob", "console:bob", "Late", "14:10"],
    ]
    summary = {s.name: s for s in learner_summaries(sheets)}
    alice = summary["alice"]
    assert (alice.counts["present"], alice.held, f"{alice.rate or 0:.0%}", alice.hours) == (2, 2, "100%", 6.0)
    assert (summary["bob"].counts["late"], summary["bob"].counts["absent"]) == (1, 1)
    assert exports.summary_table(list(summary.values()))[2] == [
        "bob",
        "console:bob",
        "0",  # present
        "1",  # late
        "0",  # partial (measured by a meeting only)
        "1",  # absent
        "0",  # excused
        "0",  # not recorded
        "2",
        "50%",
        "2.83",  # late at 14:10 to a 14:00-17:00 session
    ]


async def test_export_command_writes_the_files(
    app: App, chat: Chat, clock: SimulatedClock, db_url: str, tmp_path: Path
) -> None:
    await a_finished_session(app, chat, clock)
    result = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        ["export", "attendance", "spoc", "--session", "1", "--out", str(tmp_path / "out")],
        env={"DATABASE_URL": db_url},
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "spoc-session-1-kick-off-2027-03-01.csv",
        "spoc-session-1-kick-off-2027-03-01.pdf",
    ]
    everything = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        ["export", "attendance", "spoc", "--out", str(tmp_path / "all")],
        env={"DATABASE_URL": db_url},
    )
    assert everything.exit_code == 0, everything.output
    # Named apart from the training report's `spoc-learners.csv`, which may share the folder.
    assert {"spoc-attendance-by-learner.csv", "spoc-attendance-by-learner.pdf"} <= {
        p.name for p in (tmp_path / "all").iterdir()
    }
    missing = await asyncio.to_thread(
        CliRunner().invoke, cli, ["export", "attendance", "nope"], env={"DATABASE_URL": db_url}
    )
    assert missing.exit_code == 2 and "There is no cohort 'nope'" in missing.output


async def test_learners_imported_by_email_never_seen_in_chat_are_one_row_each(
    app: App, chat: Chat, clock: SimulatedClock, tmp_path: Path
) -> None:
    """Five namesakes from an LMS export, none ever wrote to the bot: five rows, totals that add up."""
    from bot.capabilities.completion.learner_import import import_learners

    await chat.say("tina", "create spoc tz=Europe/Paris")
    await chat.say("tina", "enroll spoc alice")
    await chat.say("tina", 'session spoc "Morning" 2027-03-01 09:00 3h')
    await chat.say("tina", 'session spoc "Late morning" 2027-03-01 11:00 1h')
    rows = "".join(f"fatima{i}@example.com,Fatima Zahra\n" for i in range(1, 6))
    report = await import_learners(app.store, app.settings, clock.now(), "spoc", "email,name\n" + rows)
    assert report.counts["enrolled"] == 5, report.render()
    await click(app, clock, "alice", at(7, 55), session_id=1)
    await run_until(app, clock, at(12, 30))
    assert "Excused" in await chat.say(
        "tina", "correct spoc fatima1@example.com excused #2 training elsewhere"
    )
    async with app.store.transaction() as session:
        cohort = (await session.exec(select(Cohort))).one()
        sheets = await cohort_sheets(session, cohort)
    [half] = half_days(sheets)
    table = exports.half_day_table(half)
    fatimas = [r for r in table[1:] if r[0] == "Fatima Zahra"]
    assert sorted(r[1] for r in fatimas) == [f"email:fatima{i}@example.com" for i in range(1, 6)]
    assert len(table) - 1 == 6 and half.totals_line() == "6 learners over 2 sessions"
    for sheet in sheets:
        assert len(sheet.rows) == 6 and sum(sheet.totals.values()) == 6
        assert sheet.totals_line().startswith("6 learners: ")

    summaries = learner_summaries(sheets)
    assert len(summaries) == 6 and len({s.person_id for s in summaries}) == 6
    fatima1 = next(s for s in summaries if s.platform_id == "email:fatima1@example.com")
    # One absent, one excused: the excused session is not expected, so 0 of 1, not 0 of 2.
    assert (fatima1.counts["absent"], fatima1.counts["excused"], fatima1.expected) == (1, 1, 1)
    assert exports.summary_table([fatima1])[1][-2:] == ["0%", "0.00"]

    paths = exports.export_cohort_sheets(sheets, cohort, tmp_path, clock.now())
    by_learner = next(p for p in paths if p.name == "spoc-attendance-by-learner.csv")
    with by_learner.open(encoding="utf-8") as f:
        lines = list(csv.reader(f))
    assert len(lines) == 1 + 6 and lines[0][0] == "Learner"
    assert {p.name for p in paths} >= {
        "spoc-half-day-2027-03-01-morning.csv",
        "spoc-session-2-late-morning-2027-03-01.pdf",
    }


async def test_a_french_cohort_gets_french_sheets_and_a_feuille_d_emargement(
    app: App, chat: Chat, clock: SimulatedClock, tmp_path: Path
) -> None:
    """Sheets are documents for an auditor: in the cohort's language, whoever asks for them."""
    await a_finished_session(app, chat, clock)
    async with app.store.transaction() as session:
        cohort = (await session.exec(select(Cohort))).one()
        cohort.lang = "fr"
        session.add(cohort)
        live = (await session.exec(select(LiveSession))).one()
        sheet = await session_sheet(session, cohort, live)
    csv_path, pdf_path = exports.write_session(sheet, tmp_path, clock.now())
    with csv_path.open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == [
        "Apprenant",
        "Identifiant plateforme",
        "Statut",
        "Heure (Europe/Paris)",
        "Heure (UTC)",
        "Enregistré par",
        "Remarque",
        "Minutes en réunion",
    ]
    assert rows[1][2] == "Présent" and rows[1][5] == "apprenant" and rows[2][2] == "En retard"
    assert rows[3][5] == "automatique" and rows[4][2] == "Excusé"
    assert rows[4][6] == "corrigé depuis Absent : doctor's note"
    session_pdf = " ".join(p.extract_text() for p in PdfReader(pdf_path).pages)
    assert "Feuille de présence : Kick-off (#1), lundi 1 mars 2027, 09 h 00 Europe/Paris" in session_pdf
    assert "Totaux : 4 apprenants : 1 présent, 1 en retard, 1 absent, 1 excusé" in session_pdf

    (half,) = half_days([sheet])
    _, half_pdf = exports.write_half_day(half, tmp_path, clock.now())
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(half_pdf).pages).split())
    assert "Feuille d'émargement : spoc: lundi 1 mars 2027 matin" in text
    assert "Demi-journée : 4 apprenants sur 1 séance" in text  # French plurals: 1 is singular
