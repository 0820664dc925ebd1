"""Teams activities become the engine's Inbound: who, what, where, and the reference to come back."""

from __future__ import annotations

from botbuilder.schema import Activity

from adapters.teams.translate import click_key, to_inbound
from bot.core.inbound import Inbound
from tests.standins import teams_activities as teams

URL = "https://smba.trafficmanager.net/emea/"
TINA, ALICE = teams.TeamsUser("tina"), teams.TeamsUser("alice")


def inbound(data: dict) -> Inbound:
    got = to_inbound(Activity().deserialize(data), auth="bf-jwt", secret=b"k")
    assert got is not None
    return got


def nothing(data: dict) -> bool:
    return to_inbound(Activity().deserialize(data), auth="bf-jwt", secret=b"k") is None


def test_personal_command() -> None:
    got = inbound(teams.message(URL, TINA, "status spoc"))
    assert got.text == "status spoc" and got.channel_id is None and got.mentions == {}
    assert got.sender.platform == "teams" and got.sender.workspace == teams.TENANT
    assert got.sender.user_id == TINA.id and got.sender.name == "Tina"
    assert got.event_time.isoformat() == "2027-03-01T07:00:00+00:00"
    ref = got.conversation_ref
    assert ref["serviceUrl"] == URL and ref["conversation"]["id"] == TINA.personal_conversation
    assert "activityId" not in ref and got.auth == "bf-jwt"


def test_channel_mentions_become_tokens_and_the_channel_is_the_cohort_channel() -> None:
    got = inbound(teams.message(URL, TINA, "enroll spoc", kind="channel", mentions=(ALICE,)))
    assert got.text == "enroll spoc <@m1>"
    assert got.mentions["<@m1>"].user_id == ALICE.id and got.mentions["<@m1>"].name == "Alice"
    assert got.channel_id == teams.CHANNEL_ID
    assert got.conversation_ref["conversation"]["id"] == teams.CHANNEL_ID


def test_group_chat_is_its_own_channel() -> None:
    got = inbound(teams.message(URL, TINA, "create group-cohort", kind="groupChat"))
    assert got.text == "create group-cohort" and got.channel_id == "19:group@thread.v2"


def test_card_clicks_carry_action_value_inputs_and_source() -> None:
    button = {
        "verb": "survey.answer",
        "data": {"cohortbot": {"action": "survey.answer", "value": "s1", "key": "k9"}},
    }
    execute = inbound(teams.execute(URL, ALICE, button, reply_to="m1", inputs={"q1": "4"}))
    assert execute.action.action_id == "survey.answer" and execute.action.inputs == {"q1": "4"}
    assert execute.source_key == "k9" and execute.dedupe_key.startswith("teams:")
    submit = inbound(teams.submit(URL, ALICE, button, reply_to="m1", inputs={"q1": "5"}))
    assert submit.action.value == "s1" and submit.action.inputs == {"q1": "5"}


def test_a_redelivered_click_without_an_id_keeps_its_key() -> None:
    button = {"verb": "x", "data": {"cohortbot": {"action": "x", "value": "1"}}}
    first = Activity().deserialize({**teams.execute(URL, ALICE, button, reply_to="m1"), "id": None})
    again = Activity().deserialize({**teams.execute(URL, ALICE, button, reply_to="m1"), "id": None})
    assert click_key(first, b"k") == click_key(again, b"k")


def test_nothing_for_the_engine() -> None:
    assert nothing(teams.message(URL, TINA, ""))
    assert nothing(teams.execute(URL, ALICE, {"verb": "other", "data": {"foo": "bar"}}, reply_to="m1"))
