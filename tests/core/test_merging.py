"""Two person records that are one person become one, with all their records: the tables that
hold a person are found from the foreign keys (capabilities' tables too), clashes keep the kept
person's row, hashed evidence is left as it was written, and the merge is logged."""

from __future__ import annotations

from sqlmodel import SQLModel, select

from bot.app.bootstrap import App, build
from bot.capabilities.attendance.models import AttendanceRecord
from bot.capabilities.attendance.verification import verify
from bot.capabilities.reminders.fanout import ReminderPreference
from bot.core.clock import SimulatedClock
from bot.core.inbound import Inbound, Profile
from bot.core.merging import merge_people, person_columns
from bot.core.models import Activity, Completion, Enrolment, Identity, OutboxMessage, Person
from bot.core.settings import Settings
from tests.capabilities.attendance_helpers import at, click, cohort_with_session
from tests.conftest import Chat


async def rows(app: App, model: type[SQLModel], *where: object) -> list:
    async with app.store.transaction() as session:
        return list((await session.exec(select(model).where(*where))).all())  # type: ignore[arg-type]


def test_every_table_with_a_person_foreign_key_is_covered_except_hashed_evidence() -> None:
    covered = {(t.name, c.name) for t, c in person_columns()}
    assert {("enrolment", "person_id"), ("completion", "person_id"), ("identity", "person_id")} <= covered
    assert ("survey_participation", "person_id") in covered  # a capability's table, never named in core
    assert ("outbox", "person_id") in covered  # no foreign key, but pending DMs follow their person
    assert ("attendance_record", "person_id") not in covered  # hashed with the id it was written with


async def test_wrote_first_then_imported_by_email_becomes_one_person_with_everything(
    app: App, chat: Chat, clock: SimulatedClock
) -> None:
    await cohort_with_session(chat, learners=("alice", "bob"))
    await chat.say("tina", 'module spoc "Safety" due 2027-03-05')
    await chat.say("tina", "create other")
    assert "✓ Safety marked done" in await chat.say("alice", 'done "Safety"')
    await chat.say("alice", "mute spoc")  # a capability's row (reminder preferences)
    await click(app, clock, "alice", at(7, 55))  # an attendance record, in the session's hash chain
    # HR's import knows her by email: a second person, enrolled in spoc too and in another cohort.
    await chat.say("tina", "enroll spoc alice@acme.test")
    await chat.say("tina", "enroll other alice@acme.test")
    (console,) = await rows(app, Identity, Identity.user_id == "alice")
    (imported,) = await rows(app, Person, Person.email == "alice@acme.test")
    wrote_first = console.person_id
    activities_before = len(await rows(app, Activity, Activity.person_id == wrote_first))

    async with app.store.transaction() as session:
        report = await merge_people(
            session, keep=imported.id, merge=wrote_first, now=clock.now(), reason="test"
        )

    (shell,) = await rows(app, Person, Person.id == wrote_first)  # attendance evidence still names it
    assert shell.email is None
    (identity,) = await rows(app, Identity, Identity.user_id == "alice")
    assert identity.person_id == imported.id
    enrolments = await rows(app, Enrolment, Enrolment.person_id == imported.id)
    assert len(enrolments) == 2  # spoc once (the clash dropped the duplicate), and other
    assert report.dropped == {"enrolment.person_id": 1}
    (done,) = await rows(app, Completion, Completion.person_id == imported.id)
    assert done.status == "completed"
    assert len(await rows(app, ReminderPreference, ReminderPreference.person_id == imported.id)) == 1
    assert len(await rows(app, Activity, Activity.person_id == imported.id)) >= activities_before
    to_alice = await rows(app, OutboxMessage, OutboxMessage.address == "alice")
    assert to_alice and all(r.person_id == imported.id for r in to_alice)  # her DMs followed her
    (merged,) = await rows(app, Activity, Activity.kind == "person.merged")
    assert merged.data["merged"] == wrote_first and merged.data["into"] == imported.id
    assert merged.data["moved"]["completion.person_id"] == 1
    # The evidence chain still verifies: its records keep the id they were hashed with.
    assert len(await rows(app, AttendanceRecord, AttendanceRecord.person_id == wrote_first)) == 1
    async with app.store.transaction() as session:
        assert (await verify(session)).ok

    # She is one person from now on: her next message is hers, with her email and both cohorts.
    answer = await chat.say("alice", "list")
    assert "spoc" in answer and "other" in answer
    assert len(await rows(app, Person, Person.email == "alice@acme.test")) == 1


async def test_an_account_first_seen_without_email_is_merged_when_the_platform_gives_it(
    app: App, chat: Chat
) -> None:
    """Issue 13 point 7 on the engine's path: the profile lookup failed on the first message (no
    email), the next message carries it: the account joins the person enrolled with that email."""
    await chat.say("tina", "create spoc")
    await chat.say("tina", "enroll spoc dan@acme.test")
    first = Profile("slack", "T1", "UDAN")  # users.info answered 429: ids only
    await app.engine.handle(Inbound(sender=first, text="list"))
    (split,) = await rows(app, Identity, Identity.user_id == "UDAN")
    (enrolled,) = await rows(app, Person, Person.email == "dan@acme.test")
    assert split.person_id != enrolled.id

    later = Profile("slack", "T1", "UDAN", "dan", "Dan@acme.test", "Europe/Paris")
    reply = await app.engine.handle(Inbound(sender=later, text="list"))
    assert reply is not None and "spoc" in str(reply.message.to_dict())
    (identity,) = await rows(app, Identity, Identity.user_id == "UDAN")
    assert identity.person_id == enrolled.id
    (person,) = await rows(app, Person, Person.id == enrolled.id)
    assert (person.display_name, person.tz) == ("dan", "Europe/Paris")
    assert len(await rows(app, Activity, Activity.kind == "identity.linked")) == 1


async def test_merge_and_reach_on_postgresql(postgres_url: str, clock: SimulatedClock) -> None:
    app = await build(Settings(database_url=postgres_url), {}, clock)
    try:
        chat = Chat(app)
        await chat.say("tina", "create spoc")
        await chat.say("tina", "enroll spoc alice alice@acme.test")
        (console,) = await rows(app, Identity, Identity.user_id == "alice")
        (imported,) = await rows(app, Person, Person.email == "alice@acme.test")
        async with app.store.transaction() as session:
            report = await merge_people(
                session, keep=imported.id or 0, merge=console.person_id, now=clock.now(), reason="test"
            )
        assert report.dropped == {"enrolment.person_id": 1}
        assert len(await rows(app, Enrolment, Enrolment.person_id == imported.id)) == 1
        assert "Can be reached : 1 of 1 learners" in await chat.say("tina", "reach spoc")
    finally:
        await app.close()
