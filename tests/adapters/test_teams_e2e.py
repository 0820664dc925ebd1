"""End to end through the running aiohttp app: Teams activity JSON in at `POST /api/messages`,
replies and proactive messages out to the loopback Bot Framework connector."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.clock import SimulatedClock
from bot.core.context import Ctx, EventContext
from bot.core.messages import Button, Buttons, Message, Question, Reply, Text
from bot.core.models import Cohort, Enrolment, Person
from bot.core.registry import action
from tests.conftest import RecordingSender
from tests.standins import teams_activities as teams
from tests.standins.bf_connector import BotConnectorStandIn
from tests.standins.teams_harness import TeamsHarness, running_teams

TINA, ALICE, BOB, CAROL = (teams.TeamsUser(n) for n in ("tina", "alice", "bob", "carol"))


@action("teamstest.checkin")
async def _check_in(ctx: Ctx, value: str, inputs: dict[str, str]) -> Reply:
    """A stand-in capability action: records a check-in and closes the card."""
    await ctx.log(
        "teamstest.checked_in", person_id=ctx.actor.id, session=value, inputs=inputs, auth=ctx.inbound.auth
    )
    return Reply(
        Message("Checked in", (Text(f"✅ {ctx.actor.display_name} checked in to {value}"),)), "replace"
    )


async def say(h: TeamsHarness, user: teams.TeamsUser, text: str, **kw: object) -> str:
    """Send a message as `user`, return the text of the bot's reply card."""
    before = len(h.connector.messages())
    response = await h.post(teams.message(h.connector.url, user, text, **kw))  # type: ignore[arg-type]
    assert response.status == 201, await response.text()
    replies = h.connector.messages()[before:]
    assert len(replies) == 1
    return replies[0].card_text()


async def install(h: TeamsHarness, user: teams.TeamsUser) -> None:
    response = await h.post(teams.installation(h.connector.url, user))
    assert response.status == 201
    response = await h.post(teams.members_added(h.connector.url, user, teams.BOT_ACCOUNT))
    assert response.status == 201


async def queue_checkin_card(h: TeamsHarness, person_id: int, key: str) -> None:
    async with h.app.store.transaction() as session:
        ctx = EventContext(session=session, now=h.app.clock.now(), settings=h.app.settings)
        card = Message(
            "Kick-off starts now",
            (
                Text("*Kick-off* starts now"),
                Buttons((Button("I'm here", "teamstest.checkin", "kickoff", "primary"),)),
            ),
        )
        await ctx.dm(person_id, card, key=key)


async def test_install_create_enroll_cards_and_a_click_recorded_once(harness: TeamsHarness) -> None:
    h, url = harness, harness.connector.url
    for user in (TINA, ALICE, BOB):
        await install(h, user)
    hello = h.connector.messages(TINA.personal_conversation)
    assert len(hello) == 1 and "Hi Tina" in hello[0].card_text()  # one greeting per install
    assert len(await h.activities("teams.installed")) == 3

    assert "Created cohort *spoc*" in (await say(h, TINA, "create spoc tz=Europe/Paris")).replace("**", "*")
    # In the team's channel, on @mention: enroll people by mentioning them (Carol never installed the app).
    reply = await say(h, TINA, "enroll spoc", kind="channel", mentions=(ALICE, BOB, CAROL))
    assert "Enrolled 3" in reply and "Carol" in reply
    assert h.connector.messages()[-1].conversation_id.startswith(teams.CHANNEL_ID)  # answered in the thread

    assert await h.deliver() == 3
    for user in (ALICE, BOB):
        (welcome,) = h.connector.messages(user.personal_conversation)[-1:]
        assert "Welcome to **spoc**" in welcome.card_text()
    # Carol is reached through a conversation created for her in the tenant.
    (created,) = h.connector.created
    assert created["members"] == [{"id": CAROL.id}] and created["channelData"]["tenant"]["id"] == teams.TENANT
    assert len(h.connector.messages(f"a:personal-{CAROL.id}")) == 1

    alice = await h.identity(ALICE.id)
    await queue_checkin_card(h, alice.person_id, "checkin:kickoff:alice")
    await h.deliver()
    card_message = h.connector.messages(ALICE.personal_conversation)[-1]
    assert card_message.card and card_message.card["version"] == "1.4"
    (button,) = teams.actions_of(card_message.card)
    assert button["type"] == "Action.Execute" and button["fallback"]["type"] == "Action.Submit"

    message_id = (await h.outbox("checkin:kickoff:alice")).platform_message_id
    click = teams.execute(url, ALICE, button, reply_to=message_id or "")
    first = await h.post(click)
    assert first.status == 200
    body = await first.json()
    assert body["statusCode"] == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    assert "Alice checked in to kickoff" in body["value"]["body"][0]["text"]
    again = await h.post(click)  # Teams redelivers the same invoke
    assert again.status == 200 and (await again.json())["value"] == "Already recorded."
    (recorded,) = await h.activities("teamstest.checked_in")
    assert recorded.data["auth"] == "teams-local" and recorded.data["session"] == "kickoff"


async def test_submit_fallback_updates_the_card_through_the_connector(harness: TeamsHarness) -> None:
    h = harness
    await install(h, BOB)
    bob = await h.identity(BOB.id)
    await queue_checkin_card(h, bob.person_id, "checkin:kickoff:bob")
    await h.deliver()
    card = h.connector.messages(BOB.personal_conversation)[-1].card
    assert card is not None
    (button,) = teams.actions_of(card)
    message_id = (await h.outbox("checkin:kickoff:bob")).platform_message_id or ""
    response = await h.post(teams.submit(h.connector.url, BOB, button, reply_to=message_id))
    assert response.status == 201
    (update,) = h.connector.updates()
    assert update.activity_id == message_id and "Bob checked in" in update.card_text()
    assert len(await h.activities("teamstest.checked_in")) == 1


async def test_question_answers_come_back_as_inputs(harness: TeamsHarness) -> None:
    h = harness
    await install(h, ALICE)
    alice = await h.identity(ALICE.id)
    async with h.app.store.transaction() as session:
        ctx = EventContext(session=session, now=h.app.clock.now(), settings=h.app.settings)
        question = Question("mood", "How was it?", "rating", "teamstest.checkin", value="survey-1")
        await ctx.dm(alice.person_id, Message("How was it?", (question,)), key="survey:alice")
    await h.deliver()
    card = h.connector.messages(ALICE.personal_conversation)[-1].card
    assert card is not None
    four = next(a for a in teams.actions_of(card) if a["title"] == "4")
    response = await h.post(teams.execute(h.connector.url, ALICE, four, reply_to="m"))
    assert response.status == 200
    (answer,) = await h.activities("teamstest.checked_in")
    assert answer.data["inputs"] == {"mood": "4"} and answer.data["session"] == "survey-1"


async def test_channel_cohort_posts_to_its_channel(harness: TeamsHarness) -> None:
    h = harness
    await say(h, TINA, "create channel-cohort", kind="channel")
    (cohort,) = await h.rows(Cohort, Cohort.slug == "channel-cohort")
    assert (cohort.channel_platform, cohort.channel_id) == ("teams", teams.CHANNEL_ID)
    async with h.app.store.transaction() as session:
        ctx = EventContext(session=session, now=h.app.clock.now(), settings=h.app.settings)
        assert await ctx.post(cohort, Message("Week 1 starts", (Text("Week 1 starts"),)), key="post:w1")
    await h.deliver()
    (post,) = h.connector.messages(teams.CHANNEL_ID)  # a new thread in the channel itself
    assert post.activity_id is None and post.body.get("replyToId") is None
    assert "Week 1 starts" in post.card_text()


async def test_messages_in_channels_without_a_mention_are_ignored(harness: TeamsHarness) -> None:
    h = harness
    activity = teams.message(h.connector.url, TINA, "create nobody-asked", kind="channel")
    activity["entities"] = [e for e in activity["entities"] if e["type"] != "mention"]
    activity["text"] = "create nobody-asked"
    assert (await h.post(activity)).status == 201
    assert h.connector.messages() == [] and await h.rows(Cohort) == []


async def test_429_is_retried_later_and_delivered_once(harness: TeamsHarness, clock: SimulatedClock) -> None:
    h = harness
    await install(h, ALICE)
    before = len(h.connector.messages())
    alice = await h.identity(ALICE.id)
    h.connector.fail_next(429, retry_after=2)
    await queue_checkin_card(h, alice.person_id, "checkin:retry")
    await h.deliver()
    row = await h.outbox("checkin:retry")
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "Teams answered 429")
    assert row.next_attempt_at >= clock.now() + timedelta(seconds=2)  # Retry-After honoured
    clock.advance(timedelta(seconds=10))
    await h.deliver()
    assert (await h.outbox("checkin:retry")).status == "sent"
    assert len(h.connector.messages()) == before + 1


async def test_blocked_or_uninstalled_is_recorded_not_retried(
    harness: TeamsHarness, clock: SimulatedClock
) -> None:
    h = harness
    await install(h, BOB)
    bob = await h.identity(BOB.id)
    h.connector.blocked.add(BOB.personal_conversation)
    await queue_checkin_card(h, bob.person_id, "checkin:blocked")
    await h.deliver()
    clock.advance(timedelta(hours=1))
    await h.deliver()
    row = await h.outbox("checkin:blocked")
    assert row.status == "failed" and "MessageWritesBlocked" in (row.last_error or "")
    assert [c.status for c in h.connector.calls if c.conversation_id == BOB.personal_conversation][-1:] == [
        403
    ]
    assert (await h.identity(BOB.id)).blocked_at is not None

    response = await h.post(teams.installation(h.connector.url, ALICE, "remove"))
    assert response.status == 201  # uninstall of someone never seen: nothing to record
    await install(h, ALICE)
    assert (await h.post(teams.installation(h.connector.url, ALICE, "remove"))).status == 201
    assert (await h.identity(ALICE.id)).blocked_at is not None
    assert len(await h.activities("teams.uninstalled")) == 1
    await install(h, ALICE)  # back again: reachable again
    assert (await h.identity(ALICE.id)).blocked_at is None
    assert [a.data["reinstalled"] for a in await h.activities("teams.installed")][-1] is True


async def test_one_cohort_with_slack_and_teams_learners(
    db_url: str, clock: SimulatedClock, connector: BotConnectorStandIn
) -> None:
    slack = RecordingSender()
    async with running_teams(db_url, clock, connector, other_senders={"slack": slack}) as h:
        await install(h, ALICE)
        await say(h, TINA, "create mixed")
        # A Slack learner, known to the engine from their own Slack activity.
        from bot.core.inbound import Inbound, Profile

        await h.app.engine.handle(
            Inbound(sender=Profile("slack", "T1", "U0SLACKBOB", "sam"), text="list", auth="slack-signature")
        )
        reply = await say(h, TINA, "enroll mixed sam alice")
        assert "Enrolled 2" in reply
        assert len(await h.rows(Enrolment, Enrolment.role == "learner")) == 2
        await h.deliver()
        assert [t.address for t, _ in slack.sent] == ["U0SLACKBOB"]
        assert "Welcome to *mixed*" in slack.sent[0][1].summary
        (welcome,) = h.connector.messages(ALICE.personal_conversation)[-1:]
        assert "Welcome to **mixed**" in welcome.card_text()


@pytest.mark.parametrize("status", [412, 502, 504])
async def test_transient_failures_are_retried_with_backoff(
    harness: TeamsHarness, clock: SimulatedClock, status: int
) -> None:
    h = harness
    await install(h, ALICE)
    alice = await h.identity(ALICE.id)
    h.connector.fail_next(status, count=2)
    await queue_checkin_card(h, alice.person_id, "checkin:transient")
    await h.deliver()
    first = await h.outbox("checkin:transient")
    first_delay = first.next_attempt_at - clock.now()
    assert (first.status, first.attempts) == ("pending", 1)
    clock.advance(timedelta(minutes=1))
    await h.deliver()
    second = await h.outbox("checkin:transient")
    assert (second.status, second.attempts) == ("pending", 2)
    assert second.next_attempt_at - clock.now() > first_delay  # backing off
    clock.advance(timedelta(minutes=1))
    await h.deliver()
    assert (await h.outbox("checkin:transient")).status == "sent"
    assert (
        len([c for c in h.connector.messages(ALICE.personal_conversation) if "Kick-off" in c.card_text()])
        == 1
    )


async def test_mentions_and_html_in_channel_text(harness: TeamsHarness) -> None:
    h = harness
    activity = teams.message(h.connector.url, TINA, "create", kind="channel")
    activity["text"] = "<at>cohortbot</at>&nbsp;create <b>html-cohort</b>\n"
    assert (await h.post(activity)).status == 201
    assert "Created cohort" in h.connector.messages()[-1].card_text()
    assert [c.slug for c in await h.rows(Cohort)] == ["html-cohort"]


async def test_joining_a_team_links_someone_enrolled_by_email(harness: TeamsHarness) -> None:
    h = harness
    await say(h, TINA, "create email-cohort")
    assert "Enrolled 1" in await say(h, TINA, "enroll email-cohort dana@example.com")
    dana = teams.TeamsUser("dana")
    h.connector.members[dana.id] = {
        **dana.account,
        "email": "dana@example.com",
        "userPrincipalName": "dana@example.com",
    }
    joined = teams.members_added(
        h.connector.url, TINA, {"id": dana.id, "aadObjectId": dana.aad}, kind="channel"
    )
    assert (await h.post(joined)).status == 201
    identity = await h.identity(dana.id)
    (person,) = await h.rows(Person, Person.email == "dana@example.com")
    assert identity.person_id == person.id and identity.conversation_ref["user"]["id"] == dana.id
    assert len(await h.rows(Person)) == 2  # Tina and Dana: nobody was created twice


async def test_a_delivered_card_is_updated_later_through_the_outbox(harness: TeamsHarness) -> None:
    h = harness
    await install(h, BOB)
    await say(h, BOB, "create updates")  # Bob speaks in a channel too: his reference is the channel's
    await say(h, BOB, "list", kind="channel")
    bob = await h.identity(BOB.id)
    await queue_checkin_card(h, bob.person_id, "checkin:update")
    await h.deliver()
    original = await h.outbox("checkin:update")
    assert original.platform_channel_id is not None and original.platform_channel_id.startswith("a:personal-")
    async with h.app.store.transaction() as session:
        ctx = EventContext(session=session, now=h.app.clock.now(), settings=h.app.settings)
        closed = Message("Check-in closed", (Text("Check-in is closed"),))
        assert await ctx.update_message("checkin:update", closed, key="checkin:update:closed")
    await h.deliver()
    (update,) = h.connector.updates()
    assert (update.conversation_id, update.activity_id) == (
        original.platform_channel_id,
        original.platform_message_id,
    )
    assert "Check-in is closed" in update.card_text()
