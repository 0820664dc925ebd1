"""End to end through the real Bolt app over HTTP: signed requests as Slack sends them in, the
Web API stand-in recording every call out. A trainer creates a cohort and enrolls people by
mention, learners get DMs, a click is recorded once even when retried, a modal answer is stored."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.core.clock import SimulatedClock
from bot.core.context import Ctx
from bot.core.errors import UserError
from bot.core.messages import Button, Buttons, Message, Reply, Text, TextInput
from bot.core.models import Activity, Cohort, Identity, OutboxMessage, Person
from bot.core.privacy import erase_person
from bot.core.registry import action
from tests.conftest import START
from tests.standins.slack_harness import SlackHarness


@action("slacktest.checkin")
async def _checkin(ctx: Ctx, value: str, inputs: dict[str, str]) -> Reply:
    await ctx.log("slacktest.checked_in", person_id=ctx.actor.id, session=value, auth=ctx.inbound.auth)
    text = f"✓ Checked in at {ctx.now:%H:%M}"
    return Reply(Message(text, (Text(text),)), "replace")


@action("slacktest.feedback")
async def _feedback(ctx: Ctx, value: str, inputs: dict[str, str]) -> Reply:
    await ctx.log("slacktest.feedback", person_id=ctx.actor.id, survey=value, text=inputs["comment"])
    return Reply(Message("Thanks for your feedback", (Text("✓ Thanks for your feedback"),)), "replace")


@action("slacktest.closed")
async def _closed(ctx: Ctx, value: str, inputs: dict[str, str]) -> Reply:
    await ctx.log("slacktest.closed_click", person_id=ctx.actor.id)  # undone with the refusal
    raise UserError("This session is closed: nothing was recorded.")


CARD = Message(
    "Session starts now",
    (
        Text("*Kick-off* starts now"),
        Buttons((Button("Check in", "slacktest.checkin", "s1", "primary"),)),
        TextInput("comment", "Anything to tell the trainer?", "slacktest.feedback", value="sv1"),
    ),
)


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[SlackHarness]:
    harness = await SlackHarness.start(f"sqlite:///{tmp_path / 'slack.db'}", SimulatedClock(START))
    harness.api.add_user("UTINA", "tina", "tina@acme.test", "Europe/Paris")
    harness.api.add_user("UALICE", "alice", "alice@acme.test", "America/New_York")
    harness.api.add_user("UBOB", "bob", "bob@acme.test")
    yield harness
    await harness.stop()


async def _rows(slack: SlackHarness, query: Any) -> list[Any]:
    async with slack.app.store.transaction() as session:
        return list((await session.exec(query)).all())


async def _activities(slack: SlackHarness, kind: str) -> list[Activity]:
    return await _rows(slack, select(Activity).where(Activity.kind == kind))


async def _deliver_card(slack: SlackHarness, to_user: str) -> list[dict[str, Any]]:
    """Queue CARD for a learner the way a capability does, deliver it, return its Block Kit."""
    async with slack.app.store.transaction() as session:
        person = (await session.exec(select(Identity).where(Identity.user_id == to_user))).one()
        ctx = Ctx(session=session, now=slack.app.clock.now(), settings=slack.app.settings)
        assert await ctx.dm(person.person_id, CARD, key=f"card:{to_user}")
    await slack.app.worker.drain()
    post = [c for c in slack.api.called("chat.postMessage") if c.args["channel"] == to_user][-1]
    blocks = post.args["blocks"]
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def _element(blocks: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    """The first interactive element of a kind (b: button, t: free-text opener), as a click reports it."""
    for block in blocks:
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if re.match(rf"^{kind}\d+:", element.get("action_id", "")):
                return {"type": "button", "action_id": element["action_id"], "value": element["value"]}
    raise AssertionError(f"no element of kind {kind}")


async def test_trainer_creates_cohort_and_enrolls_by_mention_learners_get_dms(slack: SlackHarness) -> None:
    created = await slack.command("UTINA", "create spoc", channel="C0SPOC", channel_name="spoc")
    assert "Created cohort *spoc* (time zone Europe/Paris)" in created["text"]
    assert created["response_type"] == "ephemeral"

    enrolled = await slack.command("UTINA", "enroll spoc <@UALICE|alice> <@UBOB>", channel="C0SPOC")
    assert "Enrolled 2 in *spoc*: alice, bob." in enrolled["text"]

    await slack.app.worker.drain()
    dms = {c.args["channel"]: c.args["text"] for c in slack.api.called("chat.postMessage")}
    assert set(dms) == {"UALICE", "UBOB"}
    assert "Welcome to *spoc*" in dms["UALICE"]
    assert slack.api.called("conversations.open") == []

    cohort = (await _rows(slack, select(Cohort)))[0]
    assert (cohort.channel_platform, cohort.channel_workspace, cohort.channel_id) == (
        "slack",
        "T0001",
        "C0SPOC",
    )
    alice = (await _rows(slack, select(Identity).where(Identity.user_id == "UALICE")))[0]
    assert alice.dm_channel == "DALICE"  # learned from chat.postMessage, for later chat.update
    person = (await _rows(slack, select(Person).where(Person.id == alice.person_id)))[0]
    assert (person.display_name, person.email, person.tz) == ("alice", "alice@acme.test", "America/New_York")
    # users.info once per person, whatever the number of commands (cached).
    assert sorted(c.args["user"] for c in slack.api.called("users.info")) == ["UALICE", "UBOB", "UTINA"]


async def test_a_mistake_gets_one_line_and_the_usage_and_changes_nothing(slack: SlackHarness) -> None:
    await slack.command("UTINA", "create spoc")
    answer = await slack.command("UTINA", "enroll spocc <@UALICE>")
    assert "There is no cohort 'spocc'. Did you mean 'spoc'?" in answer["text"]
    assert "enroll &lt;cohort&gt;" in answer["text"]  # escaped: Slack shows `<cohort>`
    await slack.app.worker.drain()
    assert slack.api.called("chat.postMessage") == []


async def test_click_is_recorded_once_when_slack_retries_it_and_the_card_is_updated(
    slack: SlackHarness,
) -> None:
    await slack.command("UTINA", "create spoc")
    await slack.command("UTINA", "enroll spoc <@UALICE>")
    blocks = await _deliver_card(slack, "UALICE")
    checkin = _element(blocks, "b")
    assert checkin["action_id"].endswith(":slacktest.checkin") and checkin["value"] == "s1"

    payload = slack.http.block_actions_payload(
        "UALICE", checkin, action_ts="1700000100.000100", channel="DALICE"
    )
    status, _ = await slack.http.send(slack.http.interaction(payload, timestamp=int(time.time()) - 2))
    assert status == 200
    # Committed before the ack: the row is there as soon as the HTTP answer is.
    assert len(await _activities(slack, "slacktest.checked_in")) == 1

    # Slack delivers the same click again (a retry: same action_ts, signed anew).
    status, _ = await slack.http.send(slack.http.interaction(payload, timestamp=int(time.time())))
    assert status == 200
    await slack.bot.settle()
    rows = await _activities(slack, "slacktest.checked_in")
    assert len(rows) == 1
    assert rows[0].data["auth"] == "slack-signature"

    updates = [r for r in slack.api.responses if r.get("replace_original")]
    assert [u["text"] for u in updates] == ["✓ Checked in at 07:00"]
    assert updates[0]["blocks"][0]["text"]["text"] == "✓ Checked in at 07:00"

    # A genuine second click (a new action_ts) still reaches the engine.
    again = slack.http.block_actions_payload(
        "UALICE", checkin, action_ts="1700000105.000200", channel="DALICE"
    )
    status, _ = await slack.http.send(slack.http.interaction(again))
    assert status == 200
    assert len(await _activities(slack, "slacktest.checked_in")) == 2


async def _click_checkin(slack: SlackHarness) -> dict[str, Any]:
    await slack.command("UTINA", "create spoc")
    await slack.command("UTINA", "enroll spoc <@UALICE>")
    checkin = _element(await _deliver_card(slack, "UALICE"), "b")
    return slack.http.block_actions_payload(
        "UALICE", checkin, action_ts="1700000100.000100", channel="DALICE"
    )


def slack_clock(slack: SlackHarness) -> SimulatedClock:
    clock = slack.app.clock
    assert isinstance(clock, SimulatedClock)
    return clock


def _dms(slack: SlackHarness) -> list[str]:
    return [c.args["text"] for c in slack.api.called("chat.postMessage") if c.args["channel"] == "UALICE"]


def _in_place(slack: SlackHarness) -> list[str]:
    return [r["text"] for r in slack.api.responses if r.get("replace_original")]


async def test_a_card_update_slack_cannot_take_now_is_retried_in_place_once(slack: SlackHarness) -> None:
    payload = await _click_checkin(slack)
    slack.api.fail("response_url", status=500)  # an outage: the click is committed all the same
    status, _ = await slack.http.send(slack.http.interaction(payload))
    assert status == 200
    await slack.bot.settle()
    assert _in_place(slack) == []
    dms_before = len(_dms(slack))

    await slack.app.worker.drain()
    assert _in_place(slack) == []  # not due yet: the outbox backs off
    slack_clock(slack).advance(timedelta(seconds=5))
    await slack.app.worker.drain()
    assert _in_place(slack) == ["✓ Checked in at 07:00"]  # the card itself, not a new message
    # Slack retries the click: recorded once, answered once.
    status, _ = await slack.http.send(slack.http.interaction(payload))
    await slack.bot.settle()
    slack_clock(slack).advance(timedelta(minutes=5))
    await slack.app.worker.drain()
    assert _in_place(slack) == ["✓ Checked in at 07:00"]
    assert _dms(slack)[dms_before:] == []
    assert len(await _activities(slack, "slacktest.checked_in")) == 1


async def test_a_card_update_on_an_expired_url_reaches_the_learner_as_a_message_once(
    slack: SlackHarness,
) -> None:
    payload = await _click_checkin(slack)
    slack.api.fail("response_url", status=404, error="expired_url")  # 30 minutes or 5 uses later
    before = len(_dms(slack))
    status, _ = await slack.http.send(slack.http.interaction(payload))
    assert status == 200
    await slack.bot.settle()
    assert _in_place(slack) == []
    assert _dms(slack)[before:] == ["✓ Checked in at 07:00"]
    status, _ = await slack.http.send(slack.http.interaction(payload))
    await slack.bot.settle()
    slack_clock(slack).advance(timedelta(minutes=5))
    await slack.app.worker.drain()
    assert _dms(slack)[before:] == ["✓ Checked in at 07:00"]
    assert len(await _activities(slack, "slacktest.checked_in")) == 1


async def test_a_click_and_its_answer_are_committed_together(slack: SlackHarness) -> None:
    """The answer is an outbox row of the click's own transaction, sent and recorded after the ack."""
    payload = await _click_checkin(slack)
    status, _ = await slack.http.send(slack.http.interaction(payload))
    assert status == 200
    await slack.bot.settle()
    (answer,) = await _rows(slack, select(OutboxMessage).where(OutboxMessage.kind == "reply"))
    assert (answer.status, answer.address, answer.priority) == ("sent", "UALICE", 0)
    assert answer.payload["reply_to"] == payload["response_url"]
    assert _in_place(slack) == ["✓ Checked in at 07:00"]


async def test_a_refused_click_is_answered_in_place_and_erased_with_the_person(
    slack: SlackHarness,
) -> None:
    payload = await _click_checkin(slack)
    action = payload["actions"][0]
    action["action_id"] = action["action_id"].replace("slacktest.checkin", "slacktest.closed")
    status, _ = await slack.http.send(slack.http.interaction(payload))
    assert status == 200
    await slack.bot.settle()
    assert [r["text"] for r in slack.api.responses][-1] == "This session is closed: nothing was recorded."
    assert await _activities(slack, "slacktest.closed_click") == []
    (answer,) = await _rows(slack, select(OutboxMessage).where(OutboxMessage.kind == "reply"))
    (alice,) = await _rows(slack, select(Identity).where(Identity.user_id == "UALICE"))
    assert (answer.person_id, answer.status) == (alice.person_id, "sent")

    await erase_person(slack.app.store, slack.app.settings, "slack:UALICE", slack.app.clock.now())
    (answer,) = await _rows(slack, select(OutboxMessage).where(OutboxMessage.kind == "reply"))
    assert (answer.payload, answer.address) == ({}, "erased")


async def test_free_text_answer_opens_a_modal_and_is_stored(slack: SlackHarness) -> None:
    await slack.command("UTINA", "create spoc")
    await slack.command("UTINA", "enroll spoc <@UALICE>")
    blocks = await _deliver_card(slack, "UALICE")
    opener = _element(blocks, "t")
    click = slack.http.block_actions_payload("UALICE", opener, channel="DALICE")
    status, _ = await slack.http.send(slack.http.interaction(click))
    assert status == 200
    await slack.bot.settle()
    (opened,) = slack.api.called("views.open")
    assert opened.args["trigger_id"] == click["trigger_id"]
    view = opened.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["blocks"][0]["label"]["text"] == "Anything to tell the trainer?"

    status, _ = await slack.http.send(slack.http.view_submission("UALICE", view, "More exercises please"))
    assert status == 200
    await slack.bot.settle()
    (stored,) = await _activities(slack, "slacktest.feedback")
    assert stored.data == {"survey": "sv1", "text": "More exercises please"}
    # The card the modal was opened from now says thanks.
    assert any(
        r["_url"] == click["response_url"].rsplit("/", 1)[1] and r.get("replace_original")
        for r in slack.api.responses
    )


async def test_app_home_shows_cohorts_next_session_and_progress(slack: SlackHarness) -> None:
    await slack.command("UTINA", "create spoc")
    await slack.command("UTINA", 'session spoc "Kick-off" 2027-03-09 09:30 90m')
    await slack.command("UTINA", "enroll spoc <@UALICE>")
    status, _ = await slack.http.send(
        slack.http.event(
            {"type": "app_home_opened", "user": "UALICE", "tab": "home", "channel": "DALICE"}, event_id="Ev1"
        )
    )
    assert status == 200
    await slack.bot.settle()
    (published,) = slack.api.called("views.publish")
    assert published.args["user_id"] == "UALICE"
    view = published.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    text = json.dumps(view["blocks"])
    assert view["type"] == "home"
    assert "spoc: your progress" in text
    assert "Kick-off, Tue 9 Mar 03:30 (America/New_York)" in text  # in alice's own time zone


async def test_direct_message_is_a_command_and_a_retried_event_is_answered_once(slack: SlackHarness) -> None:
    await slack.command("UTINA", "create spoc")
    event = {
        "type": "message",
        "channel_type": "im",
        "user": "UTINA",
        "text": "list",
        "channel": "DTINA",
        "ts": "1700000000.1",
    }
    # Slack retries an event it thinks timed out: same event_id, signed again a few seconds later.
    for sent_at, retry in (
        (-3, None),
        (0, {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}),
    ):
        request = slack.http.event(event, event_id="EvDM1", timestamp=int(time.time()) + sent_at)
        status, _ = await slack.http.send(request, retry)
        assert status == 200
        await slack.bot.settle()
    answers = [c for c in slack.api.called("chat.postMessage") if c.args["channel"] == "DTINA"]
    assert len(answers) == 1
    assert "spoc" in json.dumps(answers[0].args["blocks"])


async def test_a_click_in_the_home_tab_refreshes_it(slack: SlackHarness) -> None:
    await slack.command("UTINA", "create spoc")
    await slack.command("UTINA", "enroll spoc <@UALICE>")
    button = {"type": "button", "action_id": "b1:slacktest.checkin", "value": "s1"}
    payload = slack.http.block_actions_payload(
        "UALICE", button, container={"type": "view", "view_id": "VHOME"}
    )
    del payload["response_url"], payload["message"], payload["channel"]
    payload["view"] = {"id": "VHOME", "type": "home"}
    status, _ = await slack.http.send(slack.http.interaction(payload))
    assert status == 200
    await slack.bot.settle()
    assert len(await _activities(slack, "slacktest.checked_in")) == 1
    (published,) = slack.api.called("views.publish")
    assert published.args["user_id"] == "UALICE"
