"""xAPI out: what learners do reaches the customer's LRS (a loopback stand-in) as valid statements,
each exactly once, batched, through an outage, and never an anonymous answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlmodel import select, update

from bot.app.bootstrap import App, build
from bot.app.serve import attach_adapters, web_application
from bot.capabilities.completion.xapi_out import PLATFORM, statement_id
from bot.core.clock import SimulatedClock
from bot.core.context import EventContext
from bot.core.models import OutboxMessage, Person
from bot.core.settings import Settings
from tests.capabilities.completion_fixtures import COHORT, make_cohort
from tests.conftest import Chat, RecordingSender
from tests.standins.lrs import KEY, SECRET, LrsStandIn

ADL = "http://adlnet.gov/expapi/verbs/"


@pytest.fixture
async def lrs() -> AsyncIterator[LrsStandIn]:
    standin = LrsStandIn()
    await standin.start()
    yield standin
    await standin.close()


@pytest.fixture
async def out_app(db_url: str, clock: SimulatedClock, lrs: LrsStandIn) -> AsyncIterator[App]:
    settings = Settings(database_url=db_url, xapi_out_url=lrs.url, xapi_out_key=KEY, xapi_out_secret=SECRET)
    built = await build(settings, {"console": RecordingSender()}, clock, schema="create")
    cleanups = await attach_adapters(built, web_application(built))
    await make_cohort(Chat(built))
    yield built
    for cleanup in cleanups:
        await cleanup()
    await built.close()


async def deliver_all(app: App, clock: SimulatedClock) -> None:
    """Run the delivery worker until nothing is left, letting retry delays pass on the clock."""
    for _ in range(30):
        await app.worker.drain()
        async with app.store.transaction() as session:
            left = (
                await session.exec(
                    select(OutboxMessage).where(
                        OutboxMessage.platform == PLATFORM,
                        OutboxMessage.status.in_(["pending", "sending"]),  # type: ignore[attr-defined]
                    )
                )
            ).all()
        if not left:
            return
        clock.advance(timedelta(minutes=15))
    raise AssertionError("statements still undelivered")


async def learner_activity(app: App) -> None:
    """alice and bob: one present, one absent at a session; alice passes Module 1 and answers a
    named and an anonymous survey; bob wins a challenge."""
    chat = Chat(app)
    await chat.say("tina", f'session {COHORT} "Kick-off" 2027-03-01 09:00 90m')
    assert "Present" in await chat.say("tina", f"correct {COHORT} alice present was in the room")
    assert "Absent" in await chat.say("tina", f"correct {COHORT} bob absent did not come")
    assert "Module 1" in await chat.say("tina", f'record {COHORT} "Module 1" alice score=85 status=passed')
    await answer_surveys(app)
    async with app.store.transaction() as session:
        bob = (await session.exec(select(Person).where(Person.display_name == "bob"))).one()
        ctx = EventContext(session=session, now=app.clock.now(), settings=app.settings)
        # What closing a challenge logs for each winner (challenges/closing.py).
        await ctx.log("challenge.won", cohort_id=1, person_id=bob.id, challenge_id=3, team=None, points=10)


async def answer_surveys(app: App) -> dict[str, str]:
    """A named and an anonymous survey, both answered by alice; returns their numbers."""
    chat = Chat(app)
    surveys = {}
    for anonymity in ("no", "yes"):
        reply = await chat.say(
            "tina", f'survey {COHORT} new "Pulse {anonymity}" "rating:How is it going?" anonymous={anonymity}'
        )
        assert "Sent" in reply, reply
        surveys[anonymity] = reply.split("#", 1)[1].split(" ", 1)[0]
    for sid in surveys.values():
        assert "Thank you" in await chat.press("alice", "surveys.answer", sid, {"q1": "4"})
    return surveys


async def test_statements_reach_the_lrs_once_each_valid_and_batched_through_an_outage(
    out_app: App, lrs: LrsStandIn, clock: SimulatedClock
) -> None:
    lrs.outage(3, retry_after=30)
    await learner_activity(out_app)
    await deliver_all(out_app, clock)

    verbs = sorted(s["verb"]["id"].rsplit("/", 1)[-1] for s in lrs.stored.values())
    assert verbs == ["absent", "answered", "attended", "passed", "win"]
    assert lrs.invalid == []
    assert set(lrs.deliveries.values()) == {1}
    assert [status for _, _, status in lrs.requests[:3]] == [503, 503, 503]
    assert any(n > 1 for method, n, status in lrs.requests if status == 200), "statements were not batched"

    attended = next(s for s in lrs.stored.values() if s["verb"]["id"] == ADL + "attended")
    assert attended["actor"]["mbox"] == "mailto:alice@example.com"
    assert attended["result"]["duration"] == "PT90M"
    assert attended["object"]["definition"]["name"] == {"en-US": "Kick-off"}
    passed = next(s for s in lrs.stored.values() if s["verb"]["id"] == ADL + "passed")
    assert passed["result"]["score"]["scaled"] == 0.85 and passed["result"]["success"] is True
    answered = [s for s in lrs.stored.values() if s["verb"]["id"] == ADL + "answered"]
    assert [s["actor"]["mbox"] for s in answered] == ["mailto:alice@example.com"]  # one was anonymous


async def test_a_resend_after_a_crash_carries_the_same_ids_and_the_lrs_keeps_one_copy(
    out_app: App, lrs: LrsStandIn, clock: SimulatedClock
) -> None:
    await learner_activity(out_app)
    await deliver_all(out_app, clock)
    first = dict(lrs.stored)
    # The process died after the LRS accepted and before the outcome was committed.
    async with out_app.store.transaction() as session:
        await session.exec(
            update(OutboxMessage).where(OutboxMessage.platform == PLATFORM).values(status="sending")
        )  # type: ignore[call-overload]
    await out_app.worker.recover()
    await deliver_all(out_app, clock)
    assert lrs.stored == first
    assert set(lrs.deliveries.values()) == {2}
    # Recording the same result again makes no new statement.
    await Chat(out_app).say("tina", f'record {COHORT} "Module 1" alice score=85 status=passed')
    await deliver_all(out_app, clock)
    assert lrs.stored == first


async def test_a_statement_the_lrs_refuses_fails_alone(
    out_app: App, lrs: LrsStandIn, clock: SimulatedClock
) -> None:
    await learner_activity(out_app)
    async with out_app.store.transaction() as session:
        rows = (await session.exec(select(OutboxMessage).where(OutboxMessage.platform == PLATFORM))).all()
        broken = rows[0]
        payload = dict(broken.payload)
        payload["blocks"] = [
            {**payload["blocks"][0], "body": {**payload["blocks"][0]["body"], "verb": {"id": "no-scheme"}}}
        ]
        broken.payload = payload
        session.add(broken)
    await deliver_all(out_app, clock)
    assert len(lrs.stored) == 4 and len(lrs.invalid) >= 1
    async with out_app.store.transaction() as session:
        failed = (await session.exec(select(OutboxMessage).where(OutboxMessage.status == "failed"))).all()
    assert [row.key for row in failed] == [broken.key]


def test_statement_ids_are_derived_from_the_record() -> None:
    assert statement_id("module:1:2:passed:85.0") == statement_id("module:1:2:passed:85.0")
    assert statement_id("module:1:2:passed:85.0") != statement_id("module:1:2:passed:90.0")


async def test_a_named_survey_answer_is_sent_and_an_anonymous_one_never(
    out_app: App, lrs: LrsStandIn, clock: SimulatedClock
) -> None:
    surveys = await answer_surveys(out_app)
    await deliver_all(out_app, clock)
    answered = [s for s in lrs.stored.values() if s["verb"]["id"] == ADL + "answered"]
    assert [s["object"]["id"].rsplit("/", 1)[-1] for s in answered] == [surveys["no"]]


async def test_a_corrected_attendance_voids_the_statement_sent_before(
    out_app: App, lrs: LrsStandIn, clock: SimulatedClock
) -> None:
    chat = Chat(out_app)
    await chat.say("tina", f'session {COHORT} "Kick-off" 2027-03-01 09:00 90m')
    assert "Absent" in await chat.say("tina", f"correct {COHORT} bob absent did not come")
    await deliver_all(out_app, clock)
    [absent] = lrs.stored.values()
    clock.advance(timedelta(minutes=5))
    assert "Present" in await chat.say("tina", f"correct {COHORT} bob present was in the back row")
    await deliver_all(out_app, clock)
    by_verb = {s["verb"]["id"].rsplit("/", 1)[-1]: s for s in lrs.stored.values()}
    assert sorted(by_verb) == ["absent", "attended", "voided"]
    assert by_verb["voided"]["object"] == {"objectType": "StatementRef", "id": absent["id"]}
    assert lrs.invalid == [] and set(lrs.deliveries.values()) == {1}


@pytest.mark.parametrize(
    ("url", "key", "secret", "why"),
    [
        ("https://lrs.example.com/xapi/statements", "key", "", "XAPI_OUT_SECRET is empty"),
        ("lrs.example.com/xapi", "key", "secret", "must be the LRS's statements URL"),
    ],
)
async def test_xapi_out_refuses_to_start_half_configured(
    db_url: str, clock: SimulatedClock, url: str, key: str, secret: str, why: str
) -> None:
    settings = Settings(database_url=db_url, xapi_out_url=url, xapi_out_key=key, xapi_out_secret=secret)
    built = await build(settings, {}, clock, schema="create")
    try:
        with pytest.raises(ValueError, match=why):
            await attach_adapters(built, web_application(built))
    finally:
        await built.close()
