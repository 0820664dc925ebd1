"""A manager's `digest`, `status` and home screen through the real Slack and Teams libraries,
against the loopback stand-ins: their own people only, Nudge buttons within each platform's limits,
and a link to the report page instead of an inlined chart."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.clock import SimulatedClock
from tests.conftest import START
from tests.standins import teams_activities as teams
from tests.standins.slack_harness import SlackHarness
from tests.standins.teams_harness import TeamsHarness

LEARNERS = [f"l{i}" for i in range(7)]  # seven at risk: more Nudge buttons than Teams shows in a row


def _blocks(value: Any) -> list[dict[str, Any]]:
    return json.loads(value) if isinstance(value, str) else value


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[SlackHarness]:
    harness = await SlackHarness.start(f"sqlite:///{tmp_path / 'slack.db'}", SimulatedClock(START))
    harness.api.add_user("UTINA", "tina", "tina@acme.test", "Europe/Paris")
    harness.api.add_user("UMAYA", "maya", "maya@acme.test", "Europe/Paris")
    for i, name in enumerate(LEARNERS):
        harness.api.add_user(f"UL{i}", name, f"{name}@acme.test")
    harness.api.add_user("UOUT", "outsider", "outsider@acme.test")
    yield harness
    await harness.stop()


async def test_slack_manager_digest_status_and_app_home(slack: SlackHarness) -> None:
    mentions = " ".join(f"<@UL{i}>" for i in range(len(LEARNERS)))
    await slack.command("UTINA", "create spoc")
    await slack.command("UTINA", f"enroll spoc {mentions} <@UOUT>")
    await slack.command("UTINA", f"manager spoc <@UMAYA> {mentions}")
    await slack.command("UTINA", 'module spoc "Intro" due 2027-03-02')
    slack.app.clock.advance(timedelta(days=3))  # type: ignore[attr-defined]

    answer = await slack.command("UMAYA", "digest spoc")
    blocks = _blocks(answer["blocks"])
    text = json.dumps(blocks)
    assert "spoc: your people this week" in text and "outsider" not in text
    actions = [b for b in blocks if b["type"] == "actions"]
    nudges = [e for b in actions for e in b["elements"]]
    assert len(nudges) == 7 and all(len(b["elements"]) <= 25 for b in actions)
    links = [b for b in blocks if b["type"] == "section" and "/reports/" in b["text"]["text"]]
    assert len(links) == 1 and links[0]["text"]["text"].startswith("<http://localhost:3000/reports/")
    assert not [b for b in blocks if b["type"] == "image"]

    status = json.dumps(_blocks((await slack.command("UMAYA", "status spoc"))["blocks"]))
    assert "You are not in" not in status and "l6" in status and "outsider" not in status

    event = {"type": "app_home_opened", "user": "UMAYA", "tab": "home", "channel": "DMAYA"}
    assert (await slack.http.send(slack.http.event(event, event_id="EvHome")))[0] == 200
    await slack.bot.settle()
    (published,) = slack.api.called("views.publish")
    view = published.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["type"] == "home" and "spoc: your people this week" in json.dumps(view["blocks"])


async def _say(h: TeamsHarness, user: teams.TeamsUser, text: str, **kw: object) -> dict[str, Any]:
    before = len(h.connector.messages())
    response = await h.post(teams.message(h.connector.url, user, text, **kw))  # type: ignore[arg-type]
    assert response.status == 201, await response.text()
    (reply,) = h.connector.messages()[before:]
    assert reply.card is not None
    return reply.card


async def test_teams_manager_digest_status_and_home_card(
    harness: TeamsHarness, clock: SimulatedClock
) -> None:
    h = harness
    tina, maya, outsider = teams.TeamsUser("tina"), teams.TeamsUser("maya"), teams.TeamsUser("outsider")
    people = tuple(teams.TeamsUser(n) for n in LEARNERS)
    await _say(h, tina, "create spoc tz=Europe/Paris")
    await _say(h, tina, "enroll spoc", kind="channel", mentions=(*people, outsider))
    await _say(h, tina, "manager spoc", kind="channel", mentions=(maya, *people))
    await _say(h, tina, 'module spoc "Intro" due 2027-03-02')
    clock.advance(timedelta(days=3))

    card = await _say(h, maya, "digest spoc")
    sets = [e for e in card["body"] if e["type"] == "ActionSet"]
    nudges = [a for s in sets for a in s["actions"] if a["type"] == "Action.Execute"]
    assert len(nudges) == 7 and all(len(s["actions"]) <= 6 for s in sets)
    opens = [a for s in sets for a in s["actions"] if a["type"] == "Action.OpenUrl"]
    assert len(opens) == 1 and "/reports/" in opens[0]["url"]
    assert not [e for e in card["body"] if e["type"] == "Image"]
    assert len(json.dumps(card)) < 28_000  # no inlined chart: well under Teams' 28 KB message cap
    text = json.dumps(card)
    assert "Outsider" not in text and "outsider" not in text

    status = json.dumps(await _say(h, maya, "status spoc"))
    assert "You are not in" not in status and "your people this week" in status
    home = json.dumps(await _say(h, maya, "home"))
    assert "Your cohorts" in home and "your people this week" in home
