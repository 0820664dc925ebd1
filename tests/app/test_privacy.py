"""Data rights, run as an operator runs them: `cohortbot privacy export <person>` gives everything
held about them as JSON; `privacy erase <person>` leaves nothing that names them or that they
typed, while cohort figures stay as they were; RETENTION_DAYS purges old free text and bodies."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

from bot.core.clock import SimulatedClock
from bot.core.privacy import purge_expired
from bot.core.registry import PERSONAL_DATA, load_capabilities
from tests.capabilities.surveys_fixtures import send_now
from tests.capabilities.test_reports_exports import run_cli
from tests.conftest import Chat

REASON = "alice-migraine-medical-note"
NAMED = "alice-named-comment"
ANONYMOUS = "alice-anonymous-comment"


async def _alice_leaves_traces(chat: Chat) -> tuple[int, int]:
    assert "Created" in await chat.say("tina", "create spoc tz=Europe/Paris start=2027-03-01")
    assert "Enrolled 2" in await chat.say("tina", "enroll spoc alice bob")
    assert "added" in await chat.say("tina", 'session spoc "Live" 2027-03-03 10:00 60m')
    noted = await chat.say("alice", f"absent spoc #1 {REASON}")
    assert REASON in noted, noted
    named = await send_now(chat, 'new "Named" "rating:How was it?" "text:Why?"')
    anonymous = await send_now(chat, 'new "Anon" "rating:How was it?" "text:Why?" anonymous=yes')
    for sid, comment in ((named, NAMED), (anonymous, ANONYMOUS)):
        await chat.press("alice", "surveys.answer", str(sid), {"q1": "2", "q2": comment})
        await chat.press("bob", "surveys.answer", str(sid), {"q1": "4", "q2": "bob-comment"})
    return named, anonymous


def _cells(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return [
            (table, str(value))
            for table in tables
            for row in conn.execute(f'SELECT * FROM "{table}"')
            for value in row
            if value is not None
        ]


def test_every_capability_with_personal_data_registers_its_eraser() -> None:
    load_capabilities()
    assert {"attendance", "challenges", "completion", "surveys"} <= set(PERSONAL_DATA)


async def test_export_holds_everything_about_the_person_but_anonymous_answers(
    chat: Chat, db_url: str
) -> None:
    await _alice_leaves_traces(chat)
    result = await run_cli(db_url, "privacy", "export", "console:alice")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["person"]["display_name"] == "alice"
    assert [i["user_id"] for i in data["identities"]] == ["alice"]
    assert [r["reason"] for r in data["tables"]["absence_request"]] == [REASON]
    assert {r["survey_id"] for r in data["tables"]["survey_participation"]} == {1, 2}
    assert data["surveys"]["named_survey_answers"][0]["answers"] == {"q1": 2, "q2": NAMED}
    assert ANONYMOUS not in result.output  # nobody, operators included, sees who answered what
    assert (await run_cli(db_url, "privacy", "export", "nobody@nowhere.test")).exit_code == 2


async def test_erase_leaves_nothing_of_them_and_keeps_the_figures(chat: Chat, db_url: str) -> None:
    named, anonymous = await _alice_leaves_traces(chat)
    before = [await chat.say("tina", f"survey spoc results {sid}") for sid in (named, anonymous)]
    refused = await run_cli(db_url, "privacy", "erase", "console:alice")
    assert refused.exit_code == 1 and "--yes" in refused.output
    result = await run_cli(db_url, "privacy", "erase", "console:alice", "--yes")
    assert result.exit_code == 0, result.output
    assert "identities 1" in result.output and "attendance.absence_reasons 1" in result.output

    db = Path(db_url.removeprefix("sqlite:///"))
    left = [(t, v) for t, v in _cells(db) if any(x in v for x in ("alice", REASON, NAMED, ANONYMOUS))]
    assert left == []
    # The figures are the same: both answers still count (the erased comment no longer shows).
    after = [await chat.say("tina", f"survey spoc results {sid}") for sid in (named, anonymous)]
    for old, new in zip(before, after, strict=True):
        assert "Responses : 2/2 (100%)" in old and "Responses : 2/2 (100%)" in new
    assert "average 3.0 / 5 (2 answers)" in before[0] and "average 3.0 / 5 (2 answers)" in after[0]
    assert NAMED in before[0] and NAMED not in after[0]
    assert "Learners  : 2" in await chat.say("tina", "status spoc")
    with sqlite3.connect(db) as conn:
        (erased,) = conn.execute("SELECT count(*) FROM activity WHERE kind='privacy.erased'").fetchone()
    assert erased == 1


async def test_retention_purges_old_free_text_and_message_bodies(chat: Chat, clock: SimulatedClock) -> None:
    await _alice_leaves_traces(chat)
    await chat.app.worker.drain()
    chat.app.settings.retention_days = 30
    assert not any((await purge_expired(chat.app.store, chat.app.settings, clock.now())).values())
    clock.advance(timedelta(days=31))
    purged = await purge_expired(chat.app.store, chat.app.settings, clock.now())
    assert purged["attendance.absence_reasons"] == 1 and purged["messages"] > 0
    db = Path(chat.app.settings.database_url.removeprefix("sqlite:///"))
    assert not [c for c in _cells(db) if REASON in c[1] or "Welcome to" in c[1]]


async def test_a_person_is_found_by_id_email_platform_id_or_a_unique_name(chat: Chat, db_url: str) -> None:
    assert "Created" in await chat.say("tina", "create spoc")
    assert "Enrolled 1" in await chat.say("tina", "enroll spoc dan@acme.test")
    for ref in ("console:tina", "tina", "#1", "dan@acme.test", "DAN@acme.test", "dan"):
        result = await run_cli(db_url, "privacy", "export", ref)
        assert result.exit_code == 0, (ref, result.output)
    unknown = await run_cli(db_url, "privacy", "export", "slack:UNOBODY")
    assert unknown.exit_code == 2 and "No person matches 'slack:UNOBODY'" in unknown.output
