"""The digest's Nudge button and the `report` verb, as managers, trainers and learners use them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlmodel import select

from bot.core.clock import SimulatedClock
from bot.core.inbound import Action, Inbound, Profile
from bot.core.messages import Buttons, Image, Link, Reply
from bot.core.models import Person
from bot.core.registry import KPIS
from bot.core.render_text import render_text
from tests.capabilities.reports_fixture import REPORT_AT, Fixture, build_fixture
from tests.conftest import Chat, RecordingSender


async def press_nudge(chat: Chat, who: str, fixture: Fixture, learner: str) -> Reply | None:
    value = f"{fixture.cohort.id}:{fixture.ids[learner]}"
    return await chat.app.engine.handle(
        Inbound(sender=Profile("console", "", who, who), action=Action("reports.nudge", value))
    )


async def test_nudge_sends_one_friendly_dm_per_week_and_marks_the_card(
    chat: Chat, clock: SimulatedClock, sender: RecordingSender
) -> None:
    fixture = await build_fixture(chat)
    clock.set(REPORT_AT)
    reply = await press_nudge(chat, "maya", fixture, "ben")
    assert reply is not None and reply.visibility == "replace"
    card = render_text(reply.message)
    assert "ben*: modules 1 done" in card and card.count("Nudged ✓") == 1
    assert "1 overdue module. Nudged ✓" in card
    assert not [b for b in reply.message.blocks if isinstance(b, Buttons)]  # ben's button is gone
    again = await press_nudge(chat, "maya", fixture, "ben")  # a double click
    assert again is not None and "Nudged ✓" in render_text(again.message)
    await chat.app.worker.drain()
    (dm,) = sender.to("ben")[-1:]
    assert [m for m in sender.to("ben") if "friendly nudge" in m.summary] == [dm]
    assert "from maya about *spoc*: 1 overdue module" in dm.summary
    # Next week, another nudge is allowed.
    clock.set(REPORT_AT.replace(day=22))
    await press_nudge(chat, "maya", fixture, "ben")
    await chat.app.worker.drain()
    assert len([m for m in sender.to("ben") if "friendly nudge" in m.summary]) == 2


async def test_only_the_learners_manager_or_staff_may_nudge(chat: Chat, sender: RecordingSender) -> None:
    fixture = await build_fixture(chat)
    refused = await chat.press("marc", "reports.nudge", f"{fixture.cohort.id}:{fixture.ids['ben']}")
    assert "not yours to press" in refused and "ben" not in refused
    refused = await chat.press("ann", "reports.nudge", f"{fixture.cohort.id}:{fixture.ids['ben']}")
    assert "not yours to press" in refused
    await chat.app.worker.drain()
    assert not [m for m in sender.to("ben") if "nudge" in m.summary]
    staff = await press_nudge(chat, "tina", fixture, "dan")
    assert (
        staff is not None
        and "*dan*" in render_text(staff.message)
        and "Nudged ✓" in render_text(staff.message)
    )
    assert "*ann*" not in render_text(staff.message)  # the redrawn card is marc's digest
    assert "not valid" in await chat.press("maya", "reports.nudge", "nonsense")
    not_a_learner = await chat.press("tina", "reports.nudge", f"{fixture.cohort.id}:{fixture.ids['maya']}")
    assert "maya is not an active learner of 'spoc'" in not_a_learner


async def test_report_verb_is_for_staff_and_links_to_the_page(
    chat: Chat, clock: SimulatedClock, tmp_path: Path
) -> None:
    fixture = await build_fixture(chat)
    fixture.app.settings.export_dir = str(tmp_path)
    clock.set(REPORT_AT)
    refused = await chat.say("ann", "report spoc")
    assert refused.startswith("Only admins and trainers of 'spoc', and managers of its learners, can see")
    assert "Did you mean 'spoc'" in await chat.say("tina", "report spocc")
    reply = await chat.reply("tina", "report spoc")
    assert reply is not None
    text = render_text(reply.message)
    for expected in (
        "Launch rate                     : 75%",
        "Completion (modules due so far) : 38%",
        "Attendance                      : 57%",
        "Average score                   : 56.7",
        "⚠ Completion is 38%, under 50%",
        "• M2 (due Fri 12 Mar): 25% (1/4), 1 failed, avg score 30.0 ← biggest drop-off",
        "• S2 (Tue 9 Mar): 67% (2/3, 1 excused)",
        "• S3 (Tue 16 Mar): not taken yet",
        "• department Ops: 2 learners, launch 50%, completion 25%, attendance 33%, 2 at risk",
        "*At risk (3)*",
        "• dan: missed 2 sessions, 2 overdue modules, no activity yet",
    ):
        # Field labels are padded to the longest one, which other capabilities' KPIs may change.
        assert re.sub(r" +: ", " : ", expected) in re.sub(r" +: ", " : ", text), expected
    # The charts are on the report page: the card links to it and carries no image.
    assert not [b for b in reply.message.blocks if isinstance(b, Image)]
    (link,) = [b for b in reply.message.blocks if isinstance(b, Link)]
    assert link.url.startswith("http://localhost:3000/reports/")
    assert f"Open the report page: charts, every learner, downloads (a private link): {link.url}" in text


async def test_report_shows_figures_other_capabilities_contribute(
    chat: Chat, clock: SimulatedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixture = await build_fixture(chat)
    fixture.app.settings.export_dir = str(tmp_path)

    async def satisfaction(session: object, cohort: object) -> dict[str, object]:
        return {"average": 4.2, "answers": 3}

    monkeypatch.setitem(KPIS, "satisfaction", satisfaction)
    text = await chat.say("tina", "report spoc")
    figures = {k.strip(): v.strip() for k, _, v in (line.partition(" : ") for line in text.splitlines())}
    assert figures["Satisfaction: average"] == "4.2" and figures["Satisfaction: answers"] == "3"


async def test_nudging_someone_without_a_chat_identity_says_so(chat: Chat, sender: RecordingSender) -> None:
    fixture = await build_fixture(chat)
    await chat.say("tina", "enroll spoc zed@example.com")
    await chat.say("tina", "manager spoc maya zed@example.com")
    async with fixture.app.store.transaction() as session:
        zed = (await session.exec(select(Person).where(Person.email == "zed@example.com"))).one()
    answer = await chat.press("maya", "reports.nudge", f"{fixture.cohort.id}:{zed.id}")
    assert answer == "zed cannot be reached in chat yet: nobody was nudged."
