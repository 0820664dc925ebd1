"""`cohortbot export report` (CSV, XLSX) and `export certificates` (PDF), run as a user runs them."""

from __future__ import annotations

import asyncio
import csv
import re
from datetime import UTC, datetime
from pathlib import Path

from openpyxl import load_workbook
from pypdf import PdfReader
from sqlmodel import select
from typer.testing import CliRunner, Result

from bot.app.cli import app as cli
from bot.core.models import Completion
from tests.capabilities.reports_fixture import build_fixture
from tests.conftest import Chat


async def run_cli(db_url: str, *args: str, **env: str) -> Result:
    # The CLI runs its own event loop: give it a thread, as a terminal would give it a process.
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args), env={"DATABASE_URL": db_url, **env})


def said(result: Result) -> str:
    """The CLI's output as one line: rich draws errors in a box and wraps them."""
    return " ".join(re.sub("[│╭╮╰╯─]", " ", result.output).split())


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def sheets(path: Path) -> dict[str, list[tuple]]:
    book = load_workbook(path, read_only=True)
    return {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}


def files(directory: Path, pattern: str = "*") -> list[Path]:
    return sorted(directory.glob(pattern))


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


async def test_csv_and_xlsx_hold_every_table(chat: Chat, db_url: str, tmp_path: Path) -> None:
    await build_fixture(chat)
    result = await run_cli(
        db_url, "export", "report", "--cohort", "spoc", "--format", "csv", "--out", str(tmp_path)
    )
    assert result.exit_code == 0, result.output
    names = [p.name for p in files(tmp_path, "*.csv")]
    assert names == [
        f"spoc-{t}.csv" for t in ("at_risk", "learners", "modules", "segments", "sessions", "summary")
    ]
    learners = {row["name"]: row for row in read_csv(tmp_path / "spoc-learners.csv")}
    assert set(learners) == {"ann", "ben", "cat", "dan"}
    assert (learners["cat"]["site"], learners["cat"]["modules_failed"]) == ("Lyon", "1")
    modules = read_csv(tmp_path / "spoc-modules.csv")
    assert [(m["title"], m["done"], m["completion_rate"]) for m in modules] == [
        ("M1", "2", "0.5"),
        ("M2", "1", "0.25"),
        ("M3", "0", "0.0"),
    ]
    segments = {(s["dimension"], s["value"]): s["learners"] for s in read_csv(tmp_path / "spoc-segments.csv")}
    assert segments[("department", "Ops")] == "2" and segments[("site", "(unknown)")] == "1"

    xlsx_dir = tmp_path / "xlsx"
    result = await run_cli(
        db_url, "export", "report", "--cohort", "spoc", "--format", "xlsx", "--out", str(xlsx_dir)
    )
    assert result.exit_code == 0, result.output
    book = await asyncio.to_thread(sheets, xlsx_dir / "spoc-report.xlsx")
    assert list(book) == ["summary", "learners", "modules", "sessions", "segments", "at_risk"]
    assert book["sessions"][0][:3] == ("session_id", "title", "starts_at")
    assert [row[1] for row in book["sessions"][1:]] == ["S1", "S2", "S3"]
    assert len(book["learners"]) == 5


async def test_bad_export_arguments_get_a_clear_answer(chat: Chat, db_url: str, tmp_path: Path) -> None:
    await build_fixture(chat)
    result = await run_cli(
        db_url, "export", "report", "--cohort", "spoc", "--format", "pdf", "--out", str(tmp_path)
    )
    assert result.exit_code != 0 and "'pdf' is not a format: use csv or xlsx" in said(result)
    result = await run_cli(
        db_url, "export", "report", "--cohort", "spoc", "--at", "monday", "--out", str(tmp_path)
    )
    assert result.exit_code != 0
    assert "'monday' is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM" in said(result)
    result = await run_cli(db_url, "export", "certificates", "--cohort", "nope", "--out", str(tmp_path))
    assert result.exit_code != 0 and "there is no cohort 'nope'" in said(result)
    assert files(tmp_path, "*.csv") == files(tmp_path, "*.pdf") == []


async def test_certificates_only_for_learners_who_completed_every_module(
    chat: Chat, db_url: str, tmp_path: Path
) -> None:
    fixture = await build_fixture(chat)
    async with fixture.app.store.transaction() as session:
        session.add(
            Completion(
                cohort_id=fixture.cohort.id or 0,
                module_id=fixture.modules["M3"],
                person_id=fixture.ids["ann"],
                status="passed",
                score=92.5,
                source="xapi",
                at=datetime(2027, 3, 20, 10, 0, tzinfo=UTC),
            )
        )
        assert len((await session.exec(select(Completion))).all()) == 6
    result = await run_cli(
        db_url,
        "export",
        "certificates",
        "--cohort",
        "spoc",
        "--out",
        str(tmp_path),
        "--at",
        "2027-03-29",
        PROVIDER_NAME="Académie Lumière",
        PROVIDER_ID="11 75 12345 75",
    )
    assert result.exit_code == 0, result.output
    assert "1 certificates written" in result.output
    (pdf,) = files(tmp_path, "*.pdf")
    assert pdf.name == f"spoc-certificate-{fixture.ids['ann']}-ann.pdf"
    text = " ".join((await asyncio.to_thread(pdf_text, pdf)).split())
    for expected in (
        "Certificate of completion",
        "ann",
        "completed every module of spoc",
        "Cohort dates: 2027-03-01 to 2027-03-26",
        "M1: passed on Wed 3 Mar 2027, source chat, score 80",
        "M2: completed on Wed 10 Mar 2027, source chat",
        "M3: passed on Sat 20 Mar 2027, source xapi, score 92.5",
        "Attendance: 2 of 2 sessions attended (2 attendance records)",
        "Académie Lumière",
        "Registration number: 11 75 12345 75",
        "Course: spoc",
        "Hours attended: ",
        "Issued by Académie Lumière (registration 11 75 12345 75) on 2027-03-29",
    ):
        assert expected in text, expected
