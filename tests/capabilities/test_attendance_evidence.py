"""Tamper evidence: every record is chained; `evidence verify` names the edited, inserted or deleted row."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from typer.testing import CliRunner

from bot.app.bootstrap import App
from bot.app.cli import app as cli
from bot.capabilities.attendance.evidence import GENESIS, record_hash, verify
from bot.capabilities.attendance.models import AttendanceRecord
from bot.core.clock import SimulatedClock
from tests.capabilities.attendance_helpers import at, click, cohort_with_session, records, run_until
from tests.conftest import Chat


async def three_records(app: App, chat: Chat, clock: SimulatedClock) -> list[AttendanceRecord]:
    await cohort_with_session(chat, ("alice", "bob", "carol"))
    await click(app, clock, "alice", at(7, 55))
    await click(app, clock, "bob", at(8, 7))
    await run_until(app, clock, at(8, 30))
    rows = await records(app)
    assert [r.status for r in rows] == ["present", "late", "absent"]
    return rows


async def check(app: App) -> list[str]:
    async with app.store.transaction() as session:
        result = await verify(session)
    return [str(p) for p in result.problems]


def sql(db_url: str, statement: str, *params: object) -> None:
    """Tamper with the database file directly, as someone with file access would."""
    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as conn:
        conn.execute(statement, params)


async def test_each_record_holds_the_evidence_and_the_chain_verifies(
    app: App, chat: Chat, clock: SimulatedClock
) -> None:
    alice, bob, carol = await three_records(app, chat, clock)
    assert (alice.person_name, alice.platform, alice.platform_user_id) == ("alice", "console", "alice")
    assert (alice.event_time, alice.received_at, alice.auth) == (at(7, 55), at(7, 55), "slack-signature")
    assert alice.idempotency_key == "checkin:1:2" and alice.platform_event_id
    assert (alice.seq, alice.prev_hash, bob.prev_hash, carol.prev_hash) == (1, GENESIS, alice.hash, bob.hash)
    assert all(record_hash(r) == r.hash for r in (alice, bob, carol))
    assert await check(app) == []


async def test_an_edited_row_is_named(app: App, chat: Chat, clock: SimulatedClock, db_url: str) -> None:
    _, bob, _ = await three_records(app, chat, clock)
    sql(db_url, "UPDATE attendance_record SET status = 'present' WHERE id = ?", bob.id)
    assert await check(app) == [f"EDITED: record {bob.id}: its content does not match its hash"]


async def test_an_edit_with_a_recomputed_hash_still_breaks_the_chain(
    app: App, chat: Chat, clock: SimulatedClock, db_url: str
) -> None:
    _, bob, _ = await three_records(app, chat, clock)
    bob.status = "present"
    sql(
        db_url,
        "UPDATE attendance_record SET status = ?, hash = ? WHERE id = ?",
        "present",
        record_hash(bob),
        bob.id,
    )
    [problem] = await check(app)
    assert problem.startswith(f"EDITED: record {bob.id}: the next record")


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
    forged.hash = record_hash(forged)
    columns = [c for c in forged.model_dump() if c != "id"]
    values = [getattr(forged, c) for c in columns]
    values = [v.isoformat(" ").replace("+00:00", "") if hasattr(v, "isoformat") else v for v in values]
    placeholders = ", ".join("?" for _ in columns)
    sql(db_url, f"INSERT INTO attendance_record ({', '.join(columns)}) VALUES ({placeholders})", *values)
    [problem] = await check(app)
    assert problem.startswith("INSERTED: record 4: position #4 is past the chain head (#3)")


@pytest.mark.parametrize("tamper", ["edit", "none"])
async def test_the_verify_command_fails_on_tampering(
    app: App, chat: Chat, clock: SimulatedClock, db_url: str, tamper: str
) -> None:
    _, bob, _ = await three_records(app, chat, clock)
    if tamper == "edit":
        sql(db_url, "UPDATE attendance_record SET person_name = 'robert' WHERE id = ?", bob.id)
    # The command runs its own event loop, so it runs in a thread here, like from a shell.
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, ["evidence", "verify"], env={"DATABASE_URL": db_url}
    )
    if tamper == "edit":
        assert result.exit_code == 1
        assert f"FAIL EDITED: record {bob.id}" in result.output
    else:
        assert result.exit_code == 0, result.output
        assert "OK: 3 attendance records in 1 session chains" in result.output
