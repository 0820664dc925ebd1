"""Who reads which language: their choice, else their cohort's; a message sent to many is written
once per language, each copy in its reader's; a channel post in the cohort's."""

from __future__ import annotations

from sqlmodel import select

from bot.app.bootstrap import App
from bot.core import i18n
from bot.core.context import EventContext
from bot.core.i18n import _
from bot.core.messages import Message, Text
from bot.core.models import Cohort, Person
from bot.core.outbox import Recipient
from tests.conftest import Chat, RecordingSender

built: list[str] = []


def greeting() -> Message:
    built.append(i18n.current())
    text = _("Next session")
    return Message(text, (Text(text),))


async def test_each_reader_gets_their_language_and_the_channel_the_cohorts(
    chat: Chat, app: App, sender: RecordingSender
) -> None:
    await chat.say("tina", "create spoc lang=fr")
    await chat.say("tina", "enroll spoc alice bob carol")
    assert "From now on I write to you in English." in await chat.say("bob", "lang en")
    async with app.store.transaction() as session:
        people = {p.display_name: p.id or 0 for p in (await session.exec(select(Person))).all()}
        cohort = (await session.exec(select(Cohort))).one()
        ctx = EventContext(session=session, now=app.clock.now(), settings=app.settings)
        built.clear()
        recipients = [Recipient(people[n], f"greet:{n}", greeting) for n in ("alice", "bob", "carol")]
        assert await ctx.dms(recipients, cohort_id=cohort.id) == 3
        assert sorted(built) == ["en", "fr"]  # built once per language, not once per reader
        assert await ctx.post(cohort, greeting, key="greet:channel")
    await app.worker.drain()
    assert [m.summary for m in sender.to("alice")][-1] == "Prochaine séance"  # the cohort's language
    assert [m.summary for m in sender.to("bob")][-1] == "Next session"  # his own choice
    assert sender.to("#spoc")[-1].summary == "Prochaine séance"
    assert sender.to("#spoc")[-1].lang == "fr"


async def test_a_person_without_a_language_is_answered_in_their_cohorts(chat: Chat) -> None:
    assert "Created cohort *spoc*" in await chat.say("tina", "create spoc lang=fr")  # tina had none yet
    await chat.say("tina", "enroll spoc alice")
    assert "spoc : votre progression" in await chat.say("alice", "status spoc")
    assert await chat.say("tina", "lang") == "Je vous écris en français."  # her cohort's language
    assert await chat.say("zoe", "status") == "You're not in any cohort yet."  # no cohort: the default
    assert await chat.say("alice", "lang en") == "From now on I write to you in English."
    assert "spoc: your progress" in await chat.say("alice", "status spoc")
