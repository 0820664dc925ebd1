"""The audit pack: built by `cohortbot audit <cohort>`, checked offline by `cohortbot audit verify`,
and any byte changed in any of its files is caught, naming the file."""

from __future__ import annotations

import asyncio
import csv
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from bot.app.bootstrap import App
from bot.app.cli import app as cli
from bot.capabilities.attendance.keys import generate_keypair
from bot.capabilities.audit.verify import verify_pack
from bot.core.clock import SimulatedClock
from tests.capabilities.attendance_helpers import at, click, run_until
from tests.conftest import Chat

PROVIDER = {"PROVIDER_NAME": "Académie Lumière", "PROVIDER_ID": "11 75 12345 75"}


async def a_cohort_with_evidence(app: App, chat: Chat, clock: SimulatedClock) -> None:
    await chat.say("tina", "create spoc tz=Europe/Paris start=2027-03-01")
    await chat.say("tina", "enroll spoc alice bob carol")
    await chat.say("tina", 'session spoc "Kick-off" 2027-03-01 09:00 2h')
    await chat.say("tina", 'module spoc "Basics" due 2027-03-05')
    await click(app, clock, "alice", at(7, 55))  # present: two hours
    await click(app, clock, "bob", at(8, 6))  # late: from 09:06 to the end, 1.9 hours
    await run_until(app, clock, at(9, 30))
    clock.set(at(12, 0))
    assert "Basics" in await chat.say("alice", 'done spoc "Basics"')


async def build_pack(db_url: str, tmp_path: Path, *args: str) -> tuple[Any, Path, Path]:
    out = tmp_path / "pack.zip"
    env = {"DATABASE_URL": db_url, "EXPORT_DIR": str(tmp_path / "exports"), **PROVIDER}
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, ["audit", "spoc", "--out", str(out), "--at", "2027-03-02", *args], env=env
    )
    public = Path(db_url.removeprefix("sqlite:///") + ".evidence-key.pub.pem")
    return result, out, public


def members(pack: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(pack) as z:
        return {name: z.read(name) for name in z.namelist()}


def rezip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return path


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


async def test_the_pack_holds_what_an_auditor_asks_for_and_verifies(
    app: App, chat: Chat, clock: SimulatedClock, db_url: str, tmp_path: Path
) -> None:
    await a_cohort_with_evidence(app, chat, clock)
    result, pack, public = await build_pack(db_url, tmp_path)
    assert result.exit_code == 0, result.output
    assert "evidence: OK: 3 attendance records in 1 session chain" in result.output
    files = members(pack)
    names = set(files)
    for expected in (
        "attendance/spoc-session-1-kick-off-2027-03-01.csv",
        "attendance/spoc-session-1-kick-off-2027-03-01.pdf",
        "attendance/spoc-half-day-2027-03-01-morning.csv",
        "attendance/spoc-half-day-2027-03-01-morning.pdf",
        "attendance/spoc-attendance-by-learner.csv",
        "hours/spoc-hours-by-learner.csv",
        "follow-up/spoc-reminder-log.csv",
        "follow-up/spoc-absent-and-late-follow-up.csv",
        "follow-up/spoc-dropouts.csv",
        "surveys/spoc-satisfaction.csv",
        "evidence/checkpoint.json",
        "evidence/verification.txt",
        "evidence/public-key.pem",
        "MANIFEST.json",
        "MANIFEST.sig",
        "README.txt",
        "VERIFY.py",
    ):
        assert expected in names, expected

    hours = {
        r["Learner"]: r
        for r in csv.DictReader(io.StringIO(files["hours/spoc-hours-by-learner.csv"].decode()))
    }
    assert [hours[n]["Hours attended"] for n in ("alice", "bob", "carol")] == ["2.00", "1.90", "0.00"]
    follow = list(csv.DictReader(io.StringIO(files["follow-up/spoc-absent-and-late-follow-up.csv"].decode())))
    assert {(r["Learner"], r["Status"]) for r in follow} == {("bob", "late"), ("carol", "absent")}
    assert (
        b"checkpoint" in files["evidence/checkpoint.json"]
        and b'"session": 1' in files["evidence/checkpoint.json"]
    )

    [certificate] = [n for n in names if n.startswith("certificates/")]
    text = pdf_text(files[certificate])
    for expected in (
        "Académie Lumière",
        "Registration number: 11 75 12345 75",
        "alice",
        "Course: spoc",
        "Cohort dates: 2027-03-01 to 2027-03-05",
        "Hours attended: 2.00 h",
    ):
        assert expected in text, expected

    ok = await asyncio.to_thread(
        CliRunner().invoke, cli, ["audit", "verify", str(pack), "--public-key", str(public)]
    )
    assert ok.exit_code == 0, ok.output
    assert f"OK: {len(files) - 2} files, exactly as signed" in ok.output


async def test_any_changed_byte_in_any_file_is_caught_naming_the_file(
    app: App, chat: Chat, clock: SimulatedClock, db_url: str, tmp_path: Path
) -> None:
    await a_cohort_with_evidence(app, chat, clock)
    result, pack, public = await build_pack(db_url, tmp_path)
    assert result.exit_code == 0, result.output
    key = public.read_bytes()
    files = members(pack)
    for name, data in files.items():
        for position in {0, len(data) // 2, len(data) - 1}:
            changed = bytearray(data)
            changed[position] ^= 0x01
            tampered = rezip(tmp_path / "tampered.zip", {**files, name: bytes(changed)})
            check = verify_pack(tampered, key)
            assert not check.ok, (name, position)
            assert any(p.startswith(name) or name in p for p in check.problems), (name, check.problems)

    # A byte flipped in the ZIP file itself, inside a member's data: that member is named.
    raw = bytearray(pack.read_bytes())
    with zipfile.ZipFile(pack) as z:
        info = z.getinfo("hours/spoc-hours-by-learner.csv")
    raw[info.header_offset + 30 + len(info.filename) + 5] ^= 0xFF
    flipped = tmp_path / "flipped.zip"
    flipped.write_bytes(bytes(raw))
    assert any(p.startswith("hours/spoc-hours-by-learner.csv:") for p in verify_pack(flipped, key).problems)

    # Files added or removed are named too.
    extra = verify_pack(rezip(tmp_path / "extra.zip", {**files, "attendance/forged.csv": b"x"}), key)
    assert extra.problems == ["attendance/forged.csv: added (not in the manifest)"]
    missing = {k: v for k, v in files.items() if k != "hours/spoc-hours-by-learner.csv"}
    assert verify_pack(rezip(tmp_path / "missing.zip", missing), key).problems == [
        "hours/spoc-hours-by-learner.csv: missing"
    ]


async def test_a_pack_signed_by_another_key_is_refused(
    app: App, chat: Chat, clock: SimulatedClock, db_url: str, tmp_path: Path
) -> None:
    await a_cohort_with_evidence(app, chat, clock)
    result, pack, _ = await build_pack(db_url, tmp_path)
    assert result.exit_code == 0, result.output
    _, other = generate_keypair(tmp_path / "other.pem")
    refused = await asyncio.to_thread(
        CliRunner().invoke, cli, ["audit", "verify", str(pack), "--public-key", str(other)]
    )
    assert refused.exit_code == 1
    assert "FAIL MANIFEST.json: its signature (MANIFEST.sig) does not verify" in refused.output
    # Without a key, the pack's own key shows integrity only, and says so.
    alone = await asyncio.to_thread(CliRunner().invoke, cli, ["audit", "verify", str(pack)])
    assert alone.exit_code == 0 and "integrity only" in alone.output


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["audit", "nope", "--out", "x.zip"], "there is no cohort 'nope'"),
        (["audit", "verify", "missing.zip"], "missing.zip: not a readable ZIP file"),
        (["audit", "verify"], "Usage: cohortbot audit verify PACK.zip"),
    ],
)
async def test_bad_input_gets_a_clear_answer(db_url: str, app: App, args: list[str], said: str) -> None:
    result = await asyncio.to_thread(CliRunner().invoke, cli, args, env={"DATABASE_URL": db_url})
    assert result.exit_code in (1, 2) and isinstance(result.exception, SystemExit | None)
    assert said in result.output


async def test_a_french_cohorts_pack_is_written_for_a_french_auditor(
    app: App, chat: Chat, clock: SimulatedClock, db_url: str, tmp_path: Path
) -> None:
    await chat.say("tina", "create spoc tz=Europe/Paris start=2027-03-01 lang=fr")
    await chat.say("tina", "enroll spoc alice bob carol")
    await chat.say("tina", 'session spoc "Lancement" 2027-03-01 09:00 2h')
    await click(app, clock, "alice", at(7, 55))
    await run_until(app, clock, at(9, 30))
    result, pack, _ = await build_pack(db_url, tmp_path)
    assert result.exit_code == 0, result.output
    files = members(pack)
    readme = files["README.txt"].decode()
    assert readme.startswith("Dossier d'audit de la promotion spoc")
    assert "Émis par Académie Lumière,\nnuméro de déclaration d'activité 11 75 12345 75." in readme
    verification = files["evidence/verification.txt"].decode()
    assert verification.startswith("OK : 3 enregistrements d'émargement dans 1 chaîne de séance, vérifié")

    # The command line writes in DEFAULT_LANGUAGE; a problem found is told in it too.
    env = {"DATABASE_URL": db_url, "EXPORT_DIR": str(tmp_path / "exports"), "DEFAULT_LANGUAGE": "fr"}
    said = await asyncio.to_thread(CliRunner().invoke, cli, ["evidence", "verify"], env=env)
    assert said.exit_code == 0, said.output
    assert "OK : 3 enregistrements d'émargement dans 1 chaîne de séance" in said.output
    assert "sans point de contrôle" in said.output
