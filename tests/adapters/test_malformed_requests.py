"""The reproductions that answered 500: each now gets a 4xx (and changes nothing), and the
org-wide install shapes (`team: null`) are served like any other."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from sqlmodel import select

from adapters.slack import blockkit
from bot.core.clock import SimulatedClock
from bot.core.context import Ctx
from bot.core.messages import Reply, say
from bot.core.models import Activity
from bot.core.registry import action
from tests.conftest import START
from tests.dbsnapshot import snapshot
from tests.standins import teams_activities as teams
from tests.standins.bf_connector import BotConnectorStandIn
from tests.standins.slack_harness import SlackHarness
from tests.standins.slack_requests import Signed
from tests.standins.teams_harness import TeamsHarness, running_teams


@action("malformedtest.note")
async def _note(ctx: Ctx, value: str, inputs: dict[str, str]) -> Reply:
    await ctx.log("malformedtest.noted", person_id=ctx.actor.id, text=inputs.get("note"))
    return say("✓ Noted")


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[SlackHarness]:
    harness = await SlackHarness.start(f"sqlite:///{tmp_path / 'slack.db'}", SimulatedClock(START))
    harness.api.add_user("UALICE", "alice", "alice@acme.test")
    yield harness
    await harness.stop()


@pytest.mark.parametrize("timestamp", ["abc", f"{time.time():.3f}", "", "-5", "１２３"])
async def test_a_malformed_slack_timestamp_is_refused_with_401(slack: SlackHarness, timestamp: str) -> None:
    before = await snapshot(slack.app)
    request = slack.http.command("UALICE", "list")
    status, _ = await slack.http.send(request, {"X-Slack-Request-Timestamp": timestamp})
    assert status == 401
    assert await snapshot(slack.app) == before


async def test_an_unsigned_non_json_body_is_refused_with_401(slack: SlackHarness) -> None:
    status, _ = await slack.http.send(Signed("{not json", {"Content-Type": "application/json"}))
    assert status == 401


@pytest.mark.parametrize(
    "body,content_type",
    [
        ("{not json", "application/json"),
        ("[1, 2]", "application/json"),
        ("payload=%7Bnope", "application/x-www-form-urlencoded"),
    ],
)
async def test_a_signed_body_slack_never_sends_is_a_400(
    slack: SlackHarness, body: str, content_type: str
) -> None:
    before = await snapshot(slack.app)
    status, _ = await slack.http.send(slack.http.signed(body, content_type))
    assert status == 400
    assert await snapshot(slack.app) == before


async def test_a_view_submission_from_an_org_wide_install_has_team_null(slack: SlackHarness) -> None:
    view = blockkit.modal(blockkit.OpenModal("malformedtest.note", "v", "note", "Your note", False), None)
    request = slack.http.view_submission("UALICE", view, "hello")
    payload = json.loads(parse_qs(request.body)["payload"][0])
    assert payload["team"]["id"] == "T0001"
    payload["team"] = None  # what Slack sends for an org-wide (Enterprise Grid) install
    status, _ = await slack.http.send(slack.http.interaction(payload))
    assert status == 200
    await slack.bot.settle()
    async with slack.app.store.transaction() as session:
        noted = (await session.exec(select(Activity).where(Activity.kind == "malformedtest.noted"))).all()
    assert [a.data["text"] for a in noted] == ["hello"]


@pytest.fixture
async def teams_bot(
    db_url: str, clock: SimulatedClock, connector: BotConnectorStandIn
) -> AsyncIterator[TeamsHarness]:
    async with running_teams(db_url, clock, connector, credentials=True) as running:
        yield running


@pytest.mark.parametrize("sender", [None, {}, {"name": "no id"}])
async def test_a_teams_activity_without_a_sender_is_a_400(teams_bot: TeamsHarness, sender: object) -> None:
    activity = teams.message(teams_bot.connector.url, teams.TeamsUser("alice"), "list")
    if sender is None:
        del activity["from"]
    else:
        activity["from"] = sender
    before = await snapshot(teams_bot.app)
    response = await teams_bot.post(activity)
    assert response.status == 400
    assert await snapshot(teams_bot.app) == before


# Found by the fuzz test: the schema's deserializer turned a list into the text "[]" and the turn
# ran on it (a person created from a malformed message), or an invoke without a name got a 501.
@pytest.mark.parametrize(
    "change",
    [
        {"text": []},
        {"text": {"a": 1}},
        {"from": {"id": ["29:1"], "name": "alice"}},
        {"from": {"id": "29:1alice", "name": 5}},
        {"from": "29:1alice"},
        {"recipient": []},
        {"conversation": "a1"},
        {"locale": 12},
        {"type": "invoke", "name": None},
        {"type": "invoke", "name": ""},
    ],
)
async def test_a_teams_activity_with_a_field_of_the_wrong_type_is_a_400_and_changes_nothing(
    teams_bot: TeamsHarness, change: dict[str, object]
) -> None:
    activity = {**teams.message(teams_bot.connector.url, teams.TeamsUser("alice"), "list"), **change}
    before = await snapshot(teams_bot.app)
    response = await teams_bot.post(activity)
    assert response.status == 400, await response.text()
    assert await snapshot(teams_bot.app) == before


async def test_a_teams_body_that_is_not_an_object_is_a_400(teams_bot: TeamsHarness) -> None:
    for body in ("null", "[]", '"text"', "1e999"):
        response = await teams_bot.client.post(
            "/api/messages", data=body, headers={"Content-Type": "application/json"}
        )
        assert response.status == 400, body
