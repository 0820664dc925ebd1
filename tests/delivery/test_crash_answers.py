"""kill -9 between a click's commit and its answer: `cohortbot run` as a real process acks a
learner's check-in, then dies while the card update is still on its way to Slack's response_url
(Slack never got it). The answer was queued in the click's own transaction, so the restarted
process sends it: the card is updated exactly once, and the check-in is recorded once."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from bot.app.bootstrap import build
from bot.core.clock import SystemClock
from bot.core.models import Activity, OutboxMessage
from bot.core.settings import Settings
from tests.adapters.test_slack_run import _wait_healthy
from tests.delivery.reach_helpers import cohort_with_session_opening_now, enrol_slack_learners, user_id
from tests.delivery.test_crash_slack import _start
from tests.standins.slack_api import SlackApiStandIn
from tests.standins.slack_harness import SECRET
from tests.standins.slack_requests import SlackRequests


def _cards_to(api: SlackApiStandIn, user: str) -> list[Any]:
    return [c for c in api.called("chat.postMessage") if c.args["channel"] == user]


def _checkin_button(api: SlackApiStandIn, user: str) -> dict[str, Any]:
    (card,) = _cards_to(api, user)
    blocks = card.args["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    buttons = [e for b in blocks for e in b.get("elements", []) if e.get("type") == "button"]
    return next(b for b in buttons if b.get("style") == "primary")


async def _rows(db_url: str, kind: str) -> list[OutboxMessage]:
    app = await build(Settings(database_url=db_url), {}, SystemClock(), schema="none")
    try:
        async with app.store.transaction() as session:
            return list((await session.exec(select(OutboxMessage).where(OutboxMessage.kind == kind))).all())
    finally:
        await app.close()


async def test_kill_9_after_the_ack_still_updates_the_card_once(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'answers.db'}"
    app = await build(Settings(database_url=db_url), {}, SystemClock())
    now = app.clock.now()
    cohort_id, _ = await cohort_with_session_opening_now(app, now)
    await enrol_slack_learners(app, cohort_id, 1, now)
    await app.close()
    learner = user_id(0)

    api = await SlackApiStandIn().start()
    api.add_user(learner, "learner")
    first, port = await _start(db_url, api, tmp_path)
    second = None
    http = SlackRequests(f"http://127.0.0.1:{port}/slack/events", SECRET, api.base_url)
    try:
        await _wait_healthy(f"http://127.0.0.1:{port}/healthz", first)
        await api.wait_for(lambda: bool(_cards_to(api, learner)), within=30)
        button = _checkin_button(api, learner)

        api.hold_answers = asyncio.Event()
        status, _ = await http.send(http.interaction(http.block_actions_payload(learner, button)))
        assert status == 200  # committed, then acked
        await api.wait_for(lambda: api.answers_waiting == 1, within=10)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        api.hold_answers.set()  # the POST cut short by the crash is dropped, never taken
        await asyncio.sleep(0.2)
        assert api.responses == []
        (held,) = await _rows(db_url, "reply")
        assert held.status == "sending"

        second, port = await _start(db_url, api, tmp_path)
        await _wait_healthy(f"http://127.0.0.1:{port}/healthz", second)
        await api.wait_for(lambda: len(api.responses) >= 1, within=30)
        await asyncio.sleep(1.0)  # room for a second answer, should there be one
    finally:
        await http.close()
        for process in (first, second):
            if process is not None and process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await process.wait()
        await api.stop()

    (answer,) = api.responses
    assert answer["replace_original"] is True
    assert "Checked in" in answer["text"], answer["text"]
    (sent,) = await _rows(db_url, "reply")
    assert sent.status == "sent"
    assert await _activity_kinds(db_url) == ["attendance.recorded"]  # the check-in, once


async def _activity_kinds(db_url: str) -> list[str]:
    app = await build(Settings(database_url=db_url), {}, SystemClock(), schema="none")
    try:
        async with app.store.transaction() as session:
            query = select(Activity.kind).where(col(Activity.kind).startswith("attendance."))
            return list((await session.exec(query)).all())
    finally:
        await app.close()
