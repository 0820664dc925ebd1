"""Tamper evidence: keyed chains name the edited, inserted or deleted row, and a signed checkpoint
kept elsewhere catches what a database writer can do even with the chain secret in hand.

Every attack here is performed on the SQLite file with `sqlite3`, as someone with file access would.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.app.bootstrap import App
from bot.app.cli import app as cli
from bot.capabilities.attendance import checkpoints
from bot.capabilities.attendance.evidence import (
    GENESIS,
    HASHED_FIELDS,
    canonical,
    person_digest,
    record_hash,
    session_digest,
)
from bot.capabilities.attendance.keys import chain_secret, signing_key
from bot.capabilities.attendance.models import AttendanceRecord, EvidenceCheckpoint
from bot.capabilities.attendance.verification import compare, verify
from bot.core.clock import SimulatedClock
from bot.core.models import Cohort, LiveSession
from tests.capabilities.attendance_helpers import at, click, cohort_with_session, records, run_until
from tests.conftest import Chat, RecordingSender


async def three_records(app: App, chat: Chat, clock: SimulatedClock) -> list[AttendanceRecord]:
    await cohort_with_session(chat, ("alice", "bob", "carol"))
    await click(app, clock, "alice", at(7, 55))
    await click(app, clock, "bob", at(8, 7))
    await run_until(app, clock, at(8, 30))  # the window closes: carol Absent, and a checkpoint
    rows = await records(app)
    assert [r.status for r in rows] == ["present", "late", "absent"]
    return rows


async def latest_checkpoint(app: App) -> dict[str, Any]:
    """The latest checkpoint as its file, read back and signature-checked as an auditor would."""
    async with app.store.transaction() as session:
        row = await checkpoints.latest(session)
    assert row is not None
    data = checkpoints.file_bytes(checkpoints.signed_of(row))
    return checkpoints.open_signed(data, signing_key(app.settings).public_key())


async def check(app: App, checkpoint: dict[str, Any] | None = None) -> list[str]:
    async with app.store.transaction() as session:
        result = await verify(session, chain_secret(app.settings))
    problems = [*result.problems, *(compare(result, checkpoint) if checkpoint else [])]
    return [str(p) for p in problems]


def sql(db_url: str, statement: str, *params: object) -> None:
    """Tamper with the database file directly, as someone with file access would."""
    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as conn:
        conn.execute(statement, params)


def forged_hash(secret: bytes | None, record: AttendanceRecord) -> str:
    """The attacker's rehash: with the stolen secret, the real one; without it, plain SHA-256."""
    if secret is None:
        return hashlib.sha256(canonical({n: getattr(record, n) for n in HASHED_FIELDS})).hexdigest()
    return record_hash(secret, record)


async def rechain(
    app: App,
    db_url: str,
    secret: bytes | None,
    change: Callable[[list[AttendanceRecord]], list[AttendanceRecord]],
    *,
    new_digest: str | None = None,
    start: int = 1,
) -> None:
    """Rewrite session 1's chain from position `start` after `change`, rehash, move the head."""
    rows = change(await records(app))
    prev = rows[start - 2].hash if start > 1 else GENESIS
    for seq, row in enumerate(rows, start=1):
        if seq < start:
            continue
        row.seq, row.prev_hash = seq, prev
        if new_digest is not None:
            row.session_digest = new_digest
        if secret is not None:
            row.person_digest = person_digest(secret, row)
        row.hash = forged_hash(secret, row)
        prev = row.hash
        sql(
            db_url,
            "UPDATE attendance_record SET seq = ?, status = ?, person_name = ?, person_digest = ?, "
            "session_digest = ?, prev_hash = ?, hash = ? WHERE id = ?",
            row.seq,
            row.status,
            row.person_name,
            row.person_digest,
            row.session_digest,
            row.prev_hash,
            row.hash,
            row.id,
        )
    sql(
        db_url,
        "UPDATE attendance_session SET head_seq = ?, head_hash = ? WHERE session_id = 1",
        len(rows),
        prev,
    )


def mark_present(rows: list[AttendanceRecord]) -> list[AttendanceRecord]:
    rows[-1].status = "present"  # carol was absent
    return rows


def everyone_present(rows: list[AttendanceRecord]) -> list[AttendanceRecord]:
    for row in rows:
        row.status = "present"
    return rows


async def new_session_digest(app: App) -> str:
    async with app.store.transaction() as session:
        live = await session.get_one(LiveSession, 1)
        cohort = await session.get_one(Cohort, live.cohort_id)
        return session_digest(chain_secret(app.settings), cohort, live)


# -- what a record holds, and the naive attacks ---------------------------------------------------


async def test_each_record_holds_the_evidence_and_the_chain_verifies(
    app: App, chat: Chat, clock: SimulatedClock
) -> None:
    alice, bob, carol = await three_records(app, chat, clock)
    assert (alice.person_name, alice.platform, alice.platform_user_id) == ("alice", "console", "alice")
    assert (alice.event_time, alice.received_at, alice.auth) == (at(7, 55), at(7, 55), "slack-signature")
    assert alice.idempotency_key == "checkin:1:2" and alice.platform_event_id
    assert (alice.seq, alice.prev_hash, bob.prev_hash, carol.prev_hash) == (1, GENESIS, alice.hash, bob.hash)
    secret = chain_secret(app.settings)
    assert all(record_hash(secret, r) == r.hash for r in (alice, bob, carol))
    # Keyed: plain SHA-256 over the same content is not the hash.
    assert forged_hash(None, alice) != alice.hash
    assert await check(app) == []
    assert await check(app, await latest_checkpoint(app)) == []


async def test_an_edited_row_is_named(app: App, chat: Chat, clock: SimulatedClock, db_url: str) -> None:
    _, bob, _ = await three_records(app, chat, clock)
    sql(db_url, "UPDATE attendance_record SET status = 'present' WHERE id = ?", bob.id)
    assert await check(app) == [f"EDITED: record {bob.id}: its content does not match its hash"]


async def test_an_edited_name_is_named(app: App, chat: Chat, clock: SimulatedClock, db_url: str) -> None:
    _, bob, _ = await three_records(app, chat, clock)
    sql(db_url, "UPDATE attendance_record SET person_name = 'robert' WHERE id = ?", bob.id)
    assert await check(app) == [f"EDITED: record {bob.id}: its name, platform ids or reason were changed"]


async def test_a_deleted_row_is_named(app: App, chat: Chat, clock: SimulatedClock, db_url: str) -> None:
    _, bob, carol = await three_records(app, chat, clock)
    sql(db_url, "DELETE FROM attendance_record WHERE id = ?", bob.id)
    assert await check(app) == [f"DELETED: record {carol.id}: record(s) #2 before it are missing"]


async def test_a_deleted_last_row_is_named(app: App, chat: Chat, clock: SimulatedClock, db_url: str) -> None:
    _, bob, carol = await three_records(app, chat, clock)
    sql(db_url, "DELETE FROM attendance_record WHERE id = ?", carol.id)
    assert await check(app) == [f"DELETED: record {bob.id}: record(s) #3 after it are missing"]


async def test_an_inserted_row_is_named(app: App, chat: Chat, clock: SimulatedClock, db_url: str) -> None:
    *_, carol = await three_records(app, chat, clock)
    forged = carol.model_copy(
        update={"id": None, "seq": 4, "person_name": "mallory", "idempotency_key": "forged"}
    )
    forged.prev_hash = carol.hash
    forged.hash = forged_hash(None, forged)
    columns = [c for c in forged.model_dump() if c != "id"]
    values = [getattr(forged, c) for c in columns]
    values = [v.isoformat(" ").replace("+00:00", "") if hasattr(v, "isoformat") else v for v in values]
    placeholders = ", ".join("?" for _ in columns)
    sql(db_url, f"INSERT INTO attendance_record ({', '.join(columns)}) VALUES ({placeholders})", *values)
    [problem] = await check(app)
    assert problem.startswith("INSERTED: record 4: position #4 is past the chain head (#3)")


async def test_the_naive_edits_are_caught_with_a_checkpoint_too(
    app: App, chat: Chat, clock: SimulatedClock, db_url: str
) -> None:
    _, bob, carol = await three_records(app, chat, clock)
    checkpoint = await latest_checkpoint(app)
    sql(db_url, "UPDATE attendance_record SET status = 'present' WHERE id = ?", carol.id)
    sql(db_url, "DELETE FROM attendance_record WHERE id = ?", bob.id)
    problems = await check(app, checkpoint)
    assert problems[0] == f"DELETED: record {carol.id}: record(s) #2 before it are missing"
    assert problems[1].startswith("DELETED: session 1: the checkpoint of")


# -- the six attacks of issue 17: each one passed the unkeyed chain -------------------------------


@pytest.mark.parametrize("stolen_secret", [False, True], ids=["without-secret", "with-stolen-secret"])
async def test_attack_1_edit_the_last_record_rehash_it_and_move_the_head(
    app: App, chat: Chat, clock: SimulatedClock, db_url: str, stolen_secret: bool
) -> None:
    *_, carol = await three_records(app, chat, clock)
    checkpoint = await latest_checkpoint(app)
    secret = chain_secret(app.settings) if stolen_secret else None
    await rechain(app, db_url, secret, mark_present, start=3)
    if stolen_secret:
        assert await check(app) == []  # a consistent chain: only a copy kept elsewhere can tell
    else:
        assert await check(app) == [f"EDITED: record {carol.id}: its content does not match its hash"]
    problems = await check(app, checkpoint)
    assert "REWRITTEN: session 1: record #3 differs from the checkpoint of " in "\n".join(problems)


@pytest.mark.parametrize("stolen_secret", [False, True], ids=["without-secret", "with-stolen-secret"])
async def test_attack_2_rewrite_a_whole_chain_from_the_start(
    app: App, chat: Chat, clock: SimulatedClock, db_url: str, stolen_secret: bool
) -> None:
    alice, *_ = await three_records(app, chat, clock)
    checkpoint = await latest_checkpoint(app)
    secret = chain_secret(app.settings) if stolen_secret else None
    await rechain(app, db_url, secret, everyone_present)
    if not stolen_secret:
        assert await check(app) == [f"EDITED: record {alice.id}: its content does not match its hash"]
    assert any(p.startswith("REWRITTEN: session 1: record #3") for p in await check(app, checkpoint))


async def test_attack_3_delete_the_last_record_and_roll_the_head_back(
    app: App, chat: Chat, clock: SimulatedClock, db_url: str
) -> None:
    _, bob, carol = await three_records(app, chat, clock)
    checkpoint = await latest_checkpoint(app)
    sql(db_url, "DELETE FROM attendance_record WHERE id = ?", carol.id)
    sql(db_url, "UPDATE attendance_session SET head_seq = 2, head_hash = ? WHERE session_id = 1", bob.hash)
    assert await check(app) == []  # a shorter chain is still a chain: the limit without a checkpoint
    assert await check(app, checkpoint) == [
        f"DELETED: session 1: the checkpoint of {checkpoint['at']} holds 3 records; the chain now has 2"
    ]


async def test_attack_4_delete_a_session_s_records_with_its_head(
    app: App, chat: Chat, clock: SimulatedClock, db_url: str
) -> None:
    await three_records(app, chat, clock)
    checkpoint = await latest_checkpoint(app)
    sql(db_url, "DELETE FROM attendance_record WHERE session_id = 1")
    sql(db_url, "DELETE FROM attendance_session WHERE session_id = 1")
    assert await check(app) == []
    assert await check(app, checkpoint) == [
        f"DELETED: session 1: the checkpoint of {checkpoint['at']} holds 3 records; the database has none"
    ]


@pytest.mark.parametrize("stolen_secret", [False, True], ids=["without-secret", "with-stolen-secret"])
@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE live_session SET starts_at = datetime(starts_at, '+7 days') WHERE id = 1",  # attack 5
        "UPDATE live_session SET title = 'Optional drop-in' WHERE id = 1",  # attack 6
    ],
    ids=["attack-5-move-the-date-a-week", "attack-6-retitle-the-session"],
)
async def test_attacks_5_and_6_move_or_retitle_a_session(
    app: App, chat: Chat, clock: SimulatedClock, db_url: str, tamper: str, stolen_secret: bool
) -> None:
    await three_records(app, chat, clock)
    checkpoint = await latest_checkpoint(app)
    sql(db_url, tamper)
    if not stolen_secret:
        detail = (
            "SESSION: session 1: its cohort, title, start, end or place changed after record #1 was chained"
        )
        assert await check(app) == [detail]
    else:  # the attacker also rechains every record with the new details
        digest = await new_session_digest(app)
        await rechain(app, db_url, chain_secret(app.settings), lambda rows: rows, new_digest=digest)
        assert await check(app) == []
    problems = await check(app, checkpoint)
    assert any(p.startswith(("REWRITTEN: session 1", "SESSION: session 1")) for p in problems), problems


# -- checkpoints: when they are taken, who hears of them, and the command line --------------------


async def test_checkpoints_are_taken_when_a_session_closes_and_daily_and_announced_to_staff(
    app: App, chat: Chat, clock: SimulatedClock, sender: RecordingSender, tmp_path: Path
) -> None:
    app.settings.export_dir = str(tmp_path / "exports")
    await three_records(app, chat, clock)
    async with app.store.transaction() as session:
        rows = list((await session.exec(__import__("sqlmodel").select(EvidenceCheckpoint))).all())
    assert [(r.reason, r.chains, r.records) for r in rows] == [("session 1 closed", 1, 3)]
    [file] = (tmp_path / "exports" / "evidence" / "checkpoints").iterdir()
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    told = [m.summary for m in sender.to("tina")]
    assert any(digest in text and "3 records" in text for text in told), told
    assert not any(digest in m.summary for a in ("alice", "bob", "carol") for m in sender.to(a))
    # The day's checkpoint: nothing moved since the close, so nothing new is signed.
    await run_until(app, clock, at(23, 59))
    async with app.store.transaction() as session:
        assert (await checkpoints.latest(session)).reason == "session 1 closed"  # type: ignore[union-attr]
    # A late correction moves the chain: that night's checkpoint signs it.
    await chat.say("tina", "correct spoc carol excused #1 doctor's note")
    await run_until(app, clock, clock.now().replace(day=2, hour=23, minute=59))
    async with app.store.transaction() as session:
        last = await checkpoints.latest(session)
    assert last is not None and (last.reason, last.records) == ("daily", 4)


async def test_the_commands_keygen_checkpoint_and_verify(
    app: App, chat: Chat, clock: SimulatedClock, db_url: str, tmp_path: Path
) -> None:
    await three_records(app, chat, clock)
    env = {"DATABASE_URL": db_url, "EXPORT_DIR": str(tmp_path / "exports")}

    def run(*args: str, **extra: str) -> Any:
        return CliRunner().invoke(cli, list(args), env={**env, **extra})

    key = tmp_path / "keys" / "signing.pem"
    made = await asyncio.to_thread(run, "evidence", "keygen", "--out", str(key))
    assert made.exit_code == 0, made.output
    assert key.exists() and (tmp_path / "keys" / "signing.pub.pem").exists()
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert (await asyncio.to_thread(run, "evidence", "keygen", "--out", str(key))).exit_code == 2

    kept = tmp_path / "kept" / "checkpoint.json"
    taken = await asyncio.to_thread(
        run, "evidence", "checkpoint", "--out", str(kept), EVIDENCE_SIGNING_KEY=str(key)
    )
    assert taken.exit_code == 0, taken.output
    assert "1 session chain, 3 attendance records" in taken.output

    pub = str(tmp_path / "keys" / "signing.pub.pem")
    ok = await asyncio.to_thread(run, "evidence", "verify", "--checkpoint", str(kept), "--public-key", pub)
    assert ok.exit_code == 0, ok.output
    assert "OK: 3 attendance records in 1 session chain" in ok.output

    sql(db_url, "DELETE FROM attendance_record WHERE session_id = 1")
    sql(db_url, "DELETE FROM attendance_session WHERE session_id = 1")
    plain = await asyncio.to_thread(run, "evidence", "verify")
    assert plain.exit_code == 0 and "go unseen" in plain.output
    caught = await asyncio.to_thread(
        run, "evidence", "verify", "--checkpoint", str(kept), "--public-key", pub
    )
    assert caught.exit_code == 1
    assert "FAIL DELETED: session 1: the checkpoint of" in caught.output

    # A checkpoint edited to match the damage no longer carries a valid signature.
    kept.write_text(kept.read_text().replace('"records": 3', '"records": 0'))
    forged = await asyncio.to_thread(
        run, "evidence", "verify", "--checkpoint", str(kept), "--public-key", pub
    )
    assert forged.exit_code == 2
    assert "signature does not match" in forged.output


# -- erasure: personal data goes, the evidence stays verifiable -----------------------------------


async def test_erasing_a_learner_keeps_every_chain_verifiable(
    app: App, chat: Chat, clock: SimulatedClock, db_url: str
) -> None:
    from bot.capabilities.attendance.erasure import erase_learner

    await three_records(app, chat, clock)
    await chat.say("tina", "correct spoc carol excused #1 doctor's note")
    checkpoint = await latest_checkpoint(app)
    async with app.store.transaction() as session:
        carol = (await records(app))[2].person_id
        assert await erase_learner(session, carol, clock.now()) == 2  # the signature the lead wires
    rows = await records(app)
    theirs = [r for r in rows if r.person_id == carol]
    assert [(r.person_name, r.platform_user_id, r.reason, r.erased) for r in theirs[:2]] == [
        ("", "", None, True),
        ("", "", None, True),
    ]
    assert theirs[-1].auth == "system:erasure" and theirs[-1].status == "excused"
    assert not any("doctor" in str(r.reason) for r in rows)
    assert await check(app) == []
    assert await check(app, checkpoint) == []  # records were added, none lost or rewritten
    async with app.store.transaction() as session:
        assert await erase_learner(session, carol, clock.now(), app.settings) == 0  # nothing left


async def test_blanking_a_name_without_an_erasure_record_is_caught(
    app: App, chat: Chat, clock: SimulatedClock, db_url: str
) -> None:
    _, bob, _ = await three_records(app, chat, clock)
    sql(
        db_url,
        "UPDATE attendance_record SET person_name = '', platform = '', workspace = '', "
        "platform_user_id = '', reason = NULL, person_salt = '', erased = 1 WHERE id = ?",
        bob.id,
    )
    assert await check(app) == [
        f"ERASED: record {bob.id}: its personal fields were removed without an erasure record"
    ]


# -- keys, and chains written before keyed hashes -------------------------------------------------


def test_where_the_chain_secret_comes_from(tmp_path: Path) -> None:
    from pydantic import SecretStr

    from bot.core.errors import ConfigurationError
    from bot.core.settings import Settings

    server = "postgresql://cohortbot@db.example.org/cohortbot"
    with pytest.raises(ConfigurationError, match="EVIDENCE_SECRET"):
        chain_secret(Settings(database_url=server, evidence_secret=None, survey_secret=None))
    derived = chain_secret(Settings(database_url=server, evidence_secret=None, survey_secret=SecretStr("s")))
    assert derived != b"s" and len(derived) == 32  # derived with its own label: reveals nothing of it
    own = Settings(database_url=server, evidence_secret=SecretStr("e"), survey_secret=SecretStr("s"))
    assert chain_secret(own) == b"e"
    sqlite = Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", evidence_secret=None, survey_secret=None)
    generated = chain_secret(sqlite)
    secret_file = tmp_path / "x.db.evidence-secret"
    assert (
        secret_file.read_text().encode() == generated and oct(secret_file.stat().st_mode & 0o777) == "0o600"
    )


async def test_records_from_before_keyed_chains_still_verify(
    app: App, chat: Chat, clock: SimulatedClock, db_url: str
) -> None:
    rows = await three_records(app, chat, clock)
    prev = GENESIS
    for row in rows:  # as version 1 wrote them: plain SHA-256, personal fields included
        row.chain_version, row.prev_hash = 1, prev
        row.hash = record_hash(b"ignored", row)
        prev = row.hash
        sql(
            db_url,
            "UPDATE attendance_record SET chain_version = 1, session_digest = '', person_digest = '', "
            "person_salt = '', prev_hash = ?, hash = ? WHERE id = ?",
            row.prev_hash,
            row.hash,
            row.id,
        )
    sql(db_url, "UPDATE attendance_session SET head_hash = ? WHERE session_id = 1", prev)
    assert await check(app) == []
    sql(db_url, "UPDATE attendance_record SET status = 'present' WHERE id = ?", rows[1].id)
    assert await check(app) == [f"EDITED: record {rows[1].id}: its content does not match its hash"]
