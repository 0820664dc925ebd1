"""Anonymous survey answers through the real Slack path leave no link between a person and their
answer anywhere but the ballot: the same clicks with the answers swapped between people must leave
every other table, every log line and every response body exactly as they were."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bot.core.clock import SimulatedClock
from tests.conftest import START
from tests.standins.slack_harness import SlackHarness

LEARNERS = ("UALICE", "UBOB", "UCAROL")
SURVEY = 'survey spoc new "Honest feedback" "rating:How was it?" "text:Tell us more" anonymous=yes'


def _elements(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks for e in [*b.get("elements", []), b.get("accessory") or {}] if e]


async def _run(tmp: Path, ratings: dict[str, str], comments: dict[str, str]) -> tuple[Path, list[Any]]:
    """Every learner answers by clicking a rating and typing a comment; returns the database file
    and everything the app said back (response_url bodies, Web API calls)."""
    db = tmp / "slack.db"
    slack = await SlackHarness.start(f"sqlite:///{db}", SimulatedClock(START), survey_secret="s3cret")
    try:
        slack.api.add_user("UTINA", "tina", "tina@acme.test")
        for uid in LEARNERS:
            slack.api.add_user(uid, uid[1:].lower(), f"{uid[1:].lower()}@acme.test")
        await slack.command("UTINA", "create spoc", channel="C0SPOC", channel_name="spoc")
        await slack.command("UTINA", "enroll spoc " + " ".join(f"<@{u}>" for u in LEARNERS), channel="C0SPOC")
        sent = await slack.command("UTINA", SURVEY, channel="C0SPOC")
        assert "Sent" in sent["text"], sent
        await slack.app.worker.drain()
        for n, uid in enumerate(LEARNERS):
            post = [c for c in slack.api.called("chat.postMessage") if c.args["channel"] == uid][-1]
            blocks = post.args["blocks"]
            elements = _elements(json.loads(blocks) if isinstance(blocks, str) else blocks)
            rating = next(
                e
                for e in elements
                if re.match(r"^q\d+:", e["action_id"]) and json.loads(e["value"])[2] == ratings[uid]
            )
            click = slack.http.block_actions_payload(
                uid,
                {"type": "button", "action_id": rating["action_id"], "value": rating["value"]},
                channel="D" + uid[1:],
                action_ts=f"1700000100.00000{n}",
            )
            status, _ = await slack.http.send(slack.http.interaction(click))
            assert status == 200
            opener = next(e for e in elements if re.match(r"^t\d+:", e["action_id"]))
            click = slack.http.block_actions_payload(
                uid,
                {"type": "button", "action_id": opener["action_id"], "value": opener["value"]},
                channel="D" + uid[1:],
                action_ts=f"1700000200.00000{n}",
            )
            assert (await slack.http.send(slack.http.interaction(click)))[0] == 200
            await slack.bot.settle()
            view = slack.api.called("views.open")[-1].args["view"]
            view = json.loads(view) if isinstance(view, str) else view
            status, _ = await slack.http.send(slack.http.view_submission(uid, view, comments[uid]))
            assert status == 200
            await slack.bot.settle()
        await slack.app.worker.drain()
        said = [*slack.api.responses, *[(c.method, c.args) for c in slack.api.calls]]
        return db, said
    finally:
        await slack.stop()


# What differs between two runs whatever was answered: Slack's message timestamps (the stand-in
# stamps posts with the real time) and the delivery worker's random instance id.
SLACK_TS = re.compile(r"\b1\d{9}\.\d{6}\b")
STANDIN = re.compile(r"127\.0\.0\.1:\d+")  # each run's stand-in has a port of its own


def _tables(db: Path, *, without: str = "survey_ballot") -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(db) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        instances = {r[0] for r in conn.execute("SELECT id FROM delivery_instance")}
        skip = {without, "delivery_instance"}  # heartbeats: a random id and the wall-clock time

        def stable(value: Any) -> Any:
            if value in instances:
                return "<instance>"
            if not isinstance(value, str):
                return value
            # The stand-in's port is in each answer's response_url (a reply queued with its click).
            return SLACK_TS.sub("<ts>", STANDIN.sub("standin", value))

        return {
            n: sorted(tuple(stable(v) for v in row) for row in conn.execute(f'SELECT * FROM "{n}"'))
            for n in names
            if n not in skip
        }


def _wire(said: list[Any]) -> str:
    """What was said, without the stand-in's port (each run has its own) and Slack's timestamps."""
    text = STANDIN.sub("standin", json.dumps(said, sort_keys=True, default=str))
    return SLACK_TS.sub("<ts>", text)


async def test_swapping_who_answered_what_changes_nothing_outside_the_ballots(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ratings = {"UALICE": "1", "UBOB": "5", "UCAROL": "3"}
    comments = {"UALICE": "alice-said-this", "UBOB": "bob-said-this", "UCAROL": "carol-said-this"}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first_db, first_said = await _run(tmp_path / "a", ratings, comments)
    first_logs = _messages(caplog)
    caplog.clear()
    swapped = {"UALICE": "5", "UBOB": "3", "UCAROL": "1"}
    swapped_comments = {"UALICE": "bob-said-this", "UBOB": "carol-said-this", "UCAROL": "alice-said-this"}
    second_db, second_said = await _run(tmp_path / "b", swapped, swapped_comments)
    second_logs = _messages(caplog)

    first, second = _tables(first_db), _tables(second_db)
    assert first["processed_inbound"], "the clicks were deduplicated through processed_inbound"
    for table in first:
        assert first[table] == second[table], f"{table} tells who answered what"
    assert first_logs == second_logs
    assert _wire(first_said) == _wire(second_said)
    # And the answers themselves are there, in the ballots only.
    with sqlite3.connect(first_db) as conn:
        answers = sorted(json.loads(a)["q1"] for (a,) in conn.execute("SELECT answers FROM survey_ballot"))
    assert answers == [1, 3, 5]


async def test_dedupe_keys_carry_neither_the_user_nor_the_button(tmp_path: Path) -> None:
    db, _ = await _run(tmp_path, dict.fromkeys(LEARNERS, "4"), dict.fromkeys(LEARNERS, "fine"))
    with sqlite3.connect(db) as conn:
        keys = [k for (k,) in conn.execute("SELECT key FROM processed_inbound")]
    assert any(k.startswith("slack:action:") for k in keys)
    for key in keys:
        assert not any(uid in key for uid in LEARNERS), key
        assert not re.search(r"[bqxst]\d+:", key), key


def _messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Our log lines, with Bolt's response times (which vary run to run) taken out."""
    return [
        SLACK_TS.sub("<ts>", re.sub(r"\(\d+ millis\)", "(n millis)", r.getMessage()))
        for r in caplog.records
        if r.name.startswith(("bot", "adapters"))
    ]
