"""Rotating codes, declared absences and trainer corrections: what learners and trainers see."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from bot.app.bootstrap import App
from bot.capabilities.attendance import codes
from bot.capabilities.attendance.models import AttendanceSessionState
from bot.core.clock import SimulatedClock
from bot.core.inbound import Action, Inbound, Profile
from bot.core.messages import TextInput
from bot.core.models import Activity
from tests.capabilities.attendance_helpers import (
    at,
    click,
    cohort_with_session,
    records,
    run_until,
    statuses,
    text,
)
from tests.conftest import Chat, RecordingSender

CODE_RE = re.compile(r"\*(\d{3}) (\d{3})\*")


async def announced_code(chat: Chat) -> str:
    match = CODE_RE.search(await chat.say("tina", "code spoc show #1"))
    assert match, "the trainer sees the current code"
    return match.group(1) + match.group(2)


async def test_a_session_code_is_required_and_rotates(
    app: App, chat: Chat, clock: SimulatedClock, sender: RecordingSender
) -> None:
    await cohort_with_session(chat)
    clock.set(at(7, 45))
    assert "Only admins and trainers" in await chat.say("alice", "code spoc on #1")
    assert "Code for #1 Kick-off" in await chat.say("tina", "code spoc on #1 every=3")
    await run_until(app, clock, at(7, 51))
    card = next(m for m in sender.to("alice") if m.buttons())
    assert [b.input_id for b in card.blocks if isinstance(b, TextInput)] == ["code"]

    assert "needs the code your trainer announces" in text(await click(app, clock, "alice", at(7, 52)))
    code = await announced_code(chat)
    wrong = str((int(code) + 1) % 10**6).zfill(6)
    assert "wrong or has expired" in text(await click(app, clock, "alice", at(7, 52), code=wrong))
    assert await records(app) == []

    # A code read out 6 minutes ago (two steps back) has expired; the previous step's still works.
    async with app.store.transaction() as session:
        state = await session.get_one(AttendanceSessionState, 1)
        secret = state.code_secret or ""
    step = timedelta(minutes=3)
    expired = codes.current_code(secret, at(7, 52) - 2 * step, step)
    previous = codes.current_code(secret, at(7, 52) - step, step)
    assert expired != codes.current_code(secret, at(7, 52), step)
    assert "wrong or has expired" in text(await click(app, clock, "bob", at(7, 52), code=expired))
    assert "(Present)" in text(await click(app, clock, "bob", at(7, 52, 1), code=previous))
    assert "(Present)" in text(await click(app, clock, "alice", at(7, 52, 2), code=code))
    # Typed as a command, with the space the trainer reads out.
    clock.set(at(7, 53))
    spaced = f"{code[:3]} {code[3:]}"
    assert "✓ Checked in" in await chat.say("carol", f'checkin spoc "{spaced}"')
    [_, alice, carol] = await records(app)
    assert alice.auth == "slack-signature+code" and carol.auth == "console+code"


async def test_guessing_the_code_locks_after_five_tries(app: App, chat: Chat, clock: SimulatedClock) -> None:
    await cohort_with_session(chat)
    await chat.say("tina", "code spoc on #1")
    code = await announced_code(chat)
    wrong = str((int(code) + 7) % 10**6).zfill(6)
    answers = [text(await click(app, clock, "alice", at(7, 55, i), code=wrong)) for i in range(5)]
    assert "4 tries left" in answers[0] and "Too many wrong codes" in answers[4]
    assert "Too many wrong codes" in text(await click(app, clock, "alice", at(7, 56), code=code))
    assert await records(app) == []


async def test_code_off_lets_a_plain_click_through(app: App, chat: Chat, clock: SimulatedClock) -> None:
    await cohort_with_session(chat)
    await chat.say("tina", "code spoc on #1")
    assert "no longer needs a code" in await chat.say("tina", "code spoc off #1")
    assert "(Present)" in text(await click(app, clock, "alice", at(7, 55)))


async def test_a_correction_is_a_new_record_and_the_original_stays(
    app: App, chat: Chat, clock: SimulatedClock, sender: RecordingSender, tmp_path: Path
) -> None:
    await cohort_with_session(chat)
    await click(app, clock, "alice", at(7, 55))
    assert "Say why" in await chat.say("tina", "correct spoc alice absent #1")
    assert "Only admins and trainers" in await chat.say("bob", "correct spoc alice absent #1 left early")
    assert "not one of present, late, absent, excused" in await chat.say(
        "tina", "correct spoc alice gone #1 left early"
    )
    assert len(await records(app)) == 1
    answer = await chat.say("tina", "correct spoc alice absent #1 left after ten minutes")
    assert "alice: Absent for #1 Kick-off" in answer and "was Present; that record is kept" in answer
    original, correction = await records(app)
    assert (original.status, original.correction, original.actor_id) == ("present", False, original.person_id)
    assert (correction.status, correction.correction, correction.reason) == (
        "absent",
        True,
        "left after ten minutes",
    )
    assert correction.prev_hash == original.hash
    async with app.store.transaction() as session:
        logged = (await session.exec(select(Activity).where(Activity.kind == "attendance.recorded"))).all()
    assert [(a.data["status"], a.data["correction"]) for a in logged] == [
        ("present", False),
        ("absent", True),
    ]
    app.settings.export_dir = str(tmp_path)
    sheet = await chat.say("tina", "sheet spoc #1")
    assert re.search(r"alice\s+Absent", sheet)
    assert (tmp_path / "spoc" / "attendance" / "spoc-session-1-kick-off-2027-03-01.pdf").exists()
    # The trainer can also set a status before anyone clicked: that is not a correction.
    await chat.say("tina", "correct spoc bob present #1 signed the paper sheet")
    assert (await records(app))[-1].correction is False


async def test_absence_declared_before_and_approved_becomes_excused(
    app: App, chat: Chat, clock: SimulatedClock, sender: RecordingSender
) -> None:
    await cohort_with_session(chat, ("alice", "bob"))
    clock.set(at(7, 0))
    assert "Give a reason" in await chat.say("bob", "absent spoc #1")
    noted = await chat.say("bob", "absent spoc #1 can't come: my kid's school play")
    assert "(can't come: my kid's school play). It counts as excused once a trainer approves it" in noted
    await app.worker.drain()
    request = next(m for m in sender.to("tina") if m.summary.startswith("bob can't attend"))
    assert [b.action for b in request.buttons()] == ["attendance.excuse"]
    assert "1. bob, #1 Kick-off" in await chat.say("tina", "absences spoc")
    assert "Only admins and trainers" in await chat.say("alice", "excuse spoc 1")
    assert "when the check-in closes" in await chat.say("tina", "excuse spoc 1")
    await run_until(app, clock, at(8, 30))
    assert await statuses(app) == {"alice": "absent", "bob": "excused"}
    assert any("approved" in m.summary for m in sender.to("bob"))


async def test_absence_declared_after_the_session_corrects_absent_to_excused(
    app: App, chat: Chat, clock: SimulatedClock, sender: RecordingSender
) -> None:
    await cohort_with_session(chat, ("alice",))
    await run_until(app, clock, at(8, 30))
    clock.set(at(12, 0))
    reply = await app.engine.handle(  # "I can't attend" on the card, then the reason typed in
        Inbound(
            sender=Profile("console", "", "alice", "alice"),
            action=Action("attendance.absent", "1", {"reason": "train strike"}),
        )
    )
    assert reply is not None and reply.visibility == "replace"
    assert "recorded Excused (the Absent record is kept)" in await chat.say("tina", "excuse spoc 1")
    absent, excused = await records(app)
    assert (absent.status, excused.status, excused.correction) == ("absent", "excused", True)
    assert excused.reason == "absence approved: train strike"
