"""Shared set-up for the survey tests: a cohort with a trainer and three learners, and helpers
to read what each learner was sent."""

from __future__ import annotations

from bot.capabilities.surveys.cards import ANSWER_ACTION
from bot.core.messages import Message
from tests.conftest import Chat, RecordingSender

LEARNERS = ("alice", "bob", "carol")


async def cohort_with_learners(chat: Chat) -> None:
    assert "Created cohort" in await chat.say("tina", "create spoc tz=Europe/Paris start=2027-03-01")
    assert "Enrolled 3" in await chat.say("tina", f"enroll spoc {' '.join(LEARNERS)}")


async def send_now(chat: Chat, definition: str) -> int:
    """Define a survey that opens now and deliver it; returns its number."""
    reply = await chat.say("tina", f"survey spoc {definition}")
    assert "Sent" in reply, reply
    await chat.app.worker.drain()
    return int(reply.split("#", 1)[1].split(" ", 1)[0])


def survey_cards(sender: RecordingSender, who: str) -> list[Message]:
    """The survey cards (and survey reminders) sent to `who`: the messages with survey questions,
    not the other capabilities' reminders."""
    return [m for m in sender.to(who) if any(getattr(b, "action", None) == ANSWER_ACTION for b in m.blocks)]
