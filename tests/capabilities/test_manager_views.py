"""Managers look when they want: `digest`, `status` and the home screen show their own reports only."""

from __future__ import annotations

from datetime import timedelta

from bot.core.clock import SimulatedClock
from bot.core.messages import Buttons, Link
from tests.capabilities.reports_fixture import REPORT_AT, build_fixture
from tests.conftest import Chat


async def test_digest_now_shows_only_the_managers_own_people(chat: Chat, clock: SimulatedClock) -> None:
    await build_fixture(chat)
    clock.set(REPORT_AT)
    text = await chat.say("maya", "digest spoc")
    assert "spoc: your people this week" in text and "*ann*" in text and "*ben*" in text
    assert "cat" not in text and "dan" not in text
    assert "Nudge ben" in text and "Nudge ann" not in text  # ann is not at risk
    reply = await chat.reply("maya", "digest")  # one cohort: no need to name it
    assert reply is not None and [b for b in reply.message.blocks if isinstance(b, Link)]
    assert (await chat.say("ann", "digest spoc")).startswith("Nobody reports to you in 'spoc'")
    assert (await chat.say("ann", "digest")).startswith("Nobody reports to you in any cohort")


async def test_status_from_a_manager_shows_their_people(chat: Chat, clock: SimulatedClock) -> None:
    await build_fixture(chat)
    clock.set(REPORT_AT)
    text = await chat.say("maya", "status spoc")
    assert "You are not in" not in text
    assert "*ann*" in text and "*ben*" in text and "cat" not in text
    assert "spoc" in await chat.say("maya", "status")  # the only cohort they follow
    # Someone with nobody reporting to them is still told they are not in it.
    assert (await chat.say("zoe", "status spoc")).startswith("You are not in 'spoc'")


async def test_home_shows_a_manager_their_people(chat: Chat, clock: SimulatedClock) -> None:
    await build_fixture(chat)
    clock.set(REPORT_AT)
    home = await chat.app.engine.home(_profile("maya"), "console")
    text = "\n".join(str(b) for b in home.blocks)
    assert "spoc: your people this week" in text and "ann" in text and "dan" not in text
    assert "spoc: your people this week" in await chat.say("maya", "home")


async def test_many_at_risk_each_get_a_nudge_button(chat: Chat, clock: SimulatedClock) -> None:
    await chat.say("tina", "create big")
    people = [f"p{i}" for i in range(7)]
    await chat.say("tina", "enroll big " + " ".join(people))
    await chat.say("tina", "manager big boss " + " ".join(people))
    await chat.say("tina", 'module big "Intro" due 2027-03-02')
    clock.advance(timedelta(days=3))
    reply = await chat.reply("boss", "digest big")
    assert reply is not None
    labels = [b.label for block in reply.message.blocks if isinstance(block, Buttons) for b in block.buttons]
    assert labels == [f"Nudge {p}" for p in people]


def _profile(name: str):  # type: ignore[no-untyped-def]
    from bot.core.inbound import Profile

    return Profile("console", "", name, name)
