"""Anonymous surveys, checked the hard way: open the SQLite file directly and look for anything
that ties an answer to a person: a column, a reference, a timestamp, the storage order, a
recomputable token, a logged or queued copy of the answer."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from pathlib import Path

import pytest

from bot.core.messages import Message
from tests.capabilities.surveys_fixtures import cohort_with_learners, send_now
from tests.conftest import Chat, RecordingSender

ALICE_COMMENT = "alice-wrote-this-comment"
BOB_COMMENT = "bob-wrote-this-comment"
CAROL_COMMENT = "carol-wrote-this-comment"


def db_file(chat: Chat) -> Path:
    return Path(chat.app.settings.database_url.removeprefix("sqlite:///"))


def every_cell(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """(table, column, text) of every non-null cell of the database."""
    cells = []
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    for table in tables:
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        for row in conn.execute(f"SELECT * FROM {table}"):
            cells.extend((table, col, str(v)) for col, v in zip(columns, row, strict=True) if v is not None)
    return cells


async def answer_anonymously(chat: Chat) -> int:
    await cohort_with_learners(chat)
    sid = await send_now(chat, 'new "Honest feedback" "rating:How was it?" "text:Tell us more" anonymous=yes')
    await chat.press("alice", "surveys.answer", str(sid), {"q1": "2", "q2": ALICE_COMMENT})
    bob_sees = await chat.press("bob", "surveys.answer", str(sid), {"q1": "5", "q2": BOB_COMMENT})
    assert "Thank you" in bob_sees and "your answer" not in bob_sees  # the chat keeps no copy either
    two_answers = await chat.say("tina", f"survey spoc results {sid}")
    assert "shows its results from 3 answers on" in two_answers and BOB_COMMENT not in two_answers
    await chat.press("carol", "surveys.answer", str(sid), {"q1": "1", "q2": CAROL_COMMENT})
    await chat.press("alice", "surveys.answer", str(sid), {"q1": "4"})  # changed before the deadline
    return sid


async def test_the_database_cannot_link_an_anonymous_answer_to_a_person(chat: Chat) -> None:
    sid = await answer_anonymously(chat)
    secret = Path(str(db_file(chat)) + ".survey-secret").read_text().strip()  # noqa: ASYNC240
    with sqlite3.connect(db_file(chat)) as conn:
        ballots = conn.execute("SELECT id, survey_id, token, answers FROM survey_ballot").fetchall()
        # Answers live in the ballot table only: not in the log, the outbox, or anywhere else.
        comments = (ALICE_COMMENT, BOB_COMMENT, CAROL_COMMENT)
        holders = {(t, c) for t, c, v in every_cell(conn) if any(x in v for x in comments)}
        assert holders == {("survey_ballot", "answers")}
        # Changing an answer replaced it: one ballot per respondent, alice's new rating kept.
        assert sorted(json.loads(a)["q1"] for _, _, _, a in ballots) == [1, 4, 5]
        # No column of the ballot table names a person or a time.
        columns = [r[1] for r in conn.execute("PRAGMA table_info(survey_ballot)")]
        assert sorted(columns) == ["answers", "complete", "id", "survey_id", "token"]
        # It references only the survey, and the one table that could point at it does not here.
        assert {r[2] for r in conn.execute("PRAGMA foreign_key_list(survey_ballot)")} == {"survey"}
        referencing = [
            (t, r[3])
            for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            for r in conn.execute(f"PRAGMA foreign_key_list({t})")
            if r[2] == "survey_ballot"
        ]
        assert referencing == [("survey_participation", "ballot_id")]
        links = conn.execute(
            "SELECT count(*) FROM survey_participation WHERE survey_id=? AND ballot_id IS NOT NULL", (sid,)
        ).fetchone()
        assert links == (0,)
        # No insertion order: the table has no rowid, and ids are random, not a sequence.
        with pytest.raises(sqlite3.OperationalError, match="rowid"):
            conn.execute("SELECT rowid FROM survey_ballot")
        assert all(len(b[0]) == 32 and not b[0].isdigit() for b in ballots)
        # Tokens cannot be recomputed from what the database holds: the secret is not in it.
        assert not any(secret in v for _, _, v in every_cell(conn))
        people = [r[0] for r in conn.execute("SELECT id FROM person")]
        guesses = {
            f(f"{sid}:{pid}".encode())
            for pid in people
            for f in (
                lambda m: hashlib.sha256(m).hexdigest(),
                lambda m: hmac.new(b"", m, hashlib.sha256).hexdigest(),
            )
        }
        assert not guesses & {b[2] for b in ballots}
        # Only the fact of answering is logged, with the survey id and nothing else.
        logged = conn.execute("SELECT data FROM activity WHERE kind='survey.answered'").fetchall()
        assert [json.loads(d) for (d,) in logged] == [{"survey_id": sid}] * 3
        answered = conn.execute(
            "SELECT p.display_name FROM survey_participation s JOIN person p ON p.id = s.person_id "
            "WHERE s.answered ORDER BY 1"
        ).fetchall()
        assert answered == [("alice",), ("bob",), ("carol",)]  # known, so reminders can skip them


async def test_every_learner_is_sent_the_same_card_and_closed_card(
    chat: Chat, sender: RecordingSender
) -> None:
    sid = await answer_anonymously(chat)
    await chat.say("tina", f"survey spoc close {sid}")
    await chat.app.worker.drain()
    with sqlite3.connect(db_file(chat)) as conn:
        rows = conn.execute("SELECT kind, payload FROM outbox WHERE key LIKE 'survey:%'").fetchall()
    cards = {kind: {p for k, p in rows if k == kind} for kind, _ in rows}
    assert len(rows) == 6 and {k: len(v) for k, v in cards.items()} == {"message": 1, "update": 1}
    closed = [m for _, _, m in sender.updated]
    assert all(m == closed[0] for m in closed) and isinstance(closed[0], Message)


async def test_results_of_an_anonymous_survey_name_nobody(chat: Chat, tmp_path: Path) -> None:
    chat.app.settings.export_dir = str(tmp_path / "exports")
    sid = await answer_anonymously(chat)
    results = await chat.say("tina", f"survey spoc results {sid}")
    assert "Responses : 3/3 (100%)" in results and "average 3.3 / 5 (3 answers)" in results
    assert f"• {ALICE_COMMENT}\n• {BOB_COMMENT}\n• {CAROL_COMMENT}" in results
    without_comments = results.replace(ALICE_COMMENT, "").replace(BOB_COMMENT, "").replace(CAROL_COMMENT, "")
    assert not any(name in without_comments for name in ("alice", "bob", "carol"))
    export = await chat.say("tina", f"survey spoc export {sid}")
    # The reply names the file, not the server's folder; the file is in EXPORT_DIR/<cohort>/surveys.
    path = tmp_path / "exports" / "spoc" / "surveys" / export.split("`")[1]
    rows = path.read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["anonymous 1", "anonymous 2", "anonymous 3"]
