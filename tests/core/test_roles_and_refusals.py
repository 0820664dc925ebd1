"""Roles are enforced by the engine, and refused or wrong commands change nothing."""

from __future__ import annotations

import pytest

from bot.app.bootstrap import App, build
from bot.core.clock import SimulatedClock
from bot.core.inbound import Inbound, Profile
from bot.core.render_text import render_text
from bot.core.settings import Settings
from tests.conftest import Chat, RecordingSender
from tests.dbsnapshot import snapshot


@pytest.fixture
async def cohort(chat: Chat) -> Chat:
    await chat.say("tina", "create spoc tz=Europe/Paris")
    await chat.say("tina", "enroll spoc alice bob team=blue")
    await chat.say("tina", "role spoc trainer tom")
    await chat.say("alice", "status spoc")  # alice exists before the checks below
    return chat


async def test_the_creator_is_admin_and_learners_see_only_their_own_view(cohort: Chat) -> None:
    assert "cohort status" in await cohort.say("tina", "status spoc")
    own = await cohort.say("alice", "status spoc")
    assert "your progress" in own and "Learners" not in own
    assert "*spoc*: admin" in await cohort.say("tina", "list")
    assert "*spoc*: learner, team blue" in await cohort.say("alice", "list")


@pytest.mark.parametrize(
    "command",
    [
        "enroll spoc carol",
        'session spoc "Extra" 2027-03-02 14:00 90m',
        'module spoc "Extra" due 2027-03-05',
        "role spoc trainer alice",
        "manager spoc bob alice",
    ],
)
async def test_a_learner_cannot_change_a_cohort(cohort: Chat, command: str) -> None:
    before = await snapshot(cohort.app)
    answer = await cohort.say("alice", command)
    assert "Only admins and trainers of 'spoc'" in answer
    assert await snapshot(cohort.app) == before


async def test_a_trainer_runs_the_cohort_but_cannot_make_admins(cohort: Chat) -> None:
    assert "Enrolled 1" in await cohort.say("tom", "enroll spoc carol")
    assert "added" in await cohort.say("tom", 'session spoc "Live 1" 2027-03-02 14:00 90m')
    before = await snapshot(cohort.app)
    assert "Only admins of 'spoc' can make admins" in await cohort.say("tom", "role spoc admin tom")
    assert await snapshot(cohort.app) == before


async def test_someone_outside_the_cohort_is_refused(cohort: Chat) -> None:
    await cohort.say("eve", "list")
    before = await snapshot(cohort.app)
    assert "Only admins and trainers" in await cohort.say("eve", "enroll spoc eve")
    assert "You are not in 'spoc'" in await cohort.say("eve", "status spoc")
    assert await snapshot(cohort.app) == before


async def test_configured_admins_may_do_anything_and_alone_create_cohorts(
    db_url: str, clock: SimulatedClock, sender: RecordingSender
) -> None:
    app: App = await build(
        Settings(database_url=db_url, admins="root"), {"console": sender}, clock, schema="create"
    )
    chat = Chat(app)
    try:
        assert "Only the configured cohortbot admins" in await chat.say("tina", "create spoc")
        assert "Created cohort" in await chat.say("root", "create spoc")
        assert "Enrolled 1" in await chat.say("root", "enroll spoc alice")
        assert "now admin of *spoc*" in await chat.say("root", "role spoc admin tina")
        assert "Enrolled 1" in await chat.say("tina", "enroll spoc bob")
    finally:
        await app.close()


BAD_INPUT = {
    "frobnicate spoc": "Unknown command 'frobnicate'",
    "enroll spoc": "Missing <people...>",
    "status spoc now": "Unexpected 'now'",
    'session spoc "X" 2027-02-30 10:00 90m': "is not a date and time",
    'session spoc "X" 2027-03-02 10:00 forever': "is not a duration",
    'session spoc "X" 2027-03-28 02:30 60m': "does not exist in Europe/Paris",
    "create other tz=Mars/Olympus": "is not a known time zone",
    "enroll spcc alice": "There is no cohort 'spcc'. Did you mean 'spoc'?",
    "enroll spoc alice": "alice is already enrolled in 'spoc'",
    "enroll spoc carol alice": "alice is already enrolled in 'spoc'",
    "manager spoc mia zed": "zed is not a learner of 'spoc'",
    "create spoc": "A cohort named 'spoc' already exists",
    'module spoc "M" due 2027-03-05 release=2027-03-09': "released (2027-03-09) after it is due",
}


@pytest.mark.parametrize("command,reason", list(BAD_INPUT.items()))
async def test_bad_input_gets_a_reason_and_usage_and_changes_nothing(
    cohort: Chat, command: str, reason: str
) -> None:
    before = await snapshot(cohort.app)
    answer = await cohort.say("tina", command)
    assert reason in answer
    assert "Usage:" in answer
    assert await snapshot(cohort.app) == before


async def test_an_unknown_person_on_a_chat_platform_is_not_invented(cohort: Chat) -> None:
    slack_tina = Profile("slack", "T1", "U1TINA", "tina")
    await cohort.app.engine.handle(Inbound(sender=slack_tina, text="create slackers"))
    before = await snapshot(cohort.app)
    reply = await cohort.app.engine.handle(Inbound(sender=slack_tina, text="enroll slackers nobody-known"))
    assert reply is not None
    assert "I don't know who 'nobody-known' is" in render_text(reply.message)
    assert await snapshot(cohort.app) == before


async def test_people_are_found_by_mention_and_by_email(cohort: Chat) -> None:
    slack_tina = Profile("slack", "T1", "U1TINA", "tina")
    engine = cohort.app.engine
    await engine.handle(Inbound(sender=slack_tina, text="create slackers"))
    alice = Profile("slack", "T1", "U2ALICE", "Alice Martin", "alice@example.com", "Europe/Paris")
    reply = await engine.handle(
        Inbound(
            sender=slack_tina,
            text="enroll slackers <@U2ALICE> dan@example.com",
            mentions={"<@U2ALICE>": alice},
        )
    )
    assert reply is not None and "Enrolled 2" in render_text(reply.message)
    assert "Alice Martin" in render_text(reply.message)
    # Dan writes for the first time from Slack with the same email: same person, already enrolled.
    dan = Profile("slack", "T1", "U3DAN", "Dan", "dan@example.com")
    reply = await engine.handle(Inbound(sender=dan, text="list"))
    assert reply is not None and "*slackers*: learner" in render_text(reply.message)


async def test_a_retried_delivery_of_the_same_event_is_handled_once(cohort: Chat) -> None:
    tina = Profile("console", "", "tina", "tina")
    first = await cohort.app.engine.handle(Inbound(sender=tina, text="enroll spoc zoe", dedupe_key="Ev1"))
    again = await cohort.app.engine.handle(Inbound(sender=tina, text="enroll spoc zoe", dedupe_key="Ev1"))
    assert first is not None and "Enrolled 1" in render_text(first.message)
    assert again is None
