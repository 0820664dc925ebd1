"""The rough edges trainers met in the trial, each pinned by what a person would see."""

from __future__ import annotations

import pytest

from bot.core.clock import SimulatedClock
from bot.core.registry import KPIS
from tests.conftest import Chat


async def test_a_long_pasted_token_is_echoed_only_as_a_short_prefix(chat: Chat) -> None:
    token = "x" * 5000
    for text in (token, f"status {token}", f"enroll {token}", f"help {token}", f"session spoc x {token}"):
        answer = await chat.say("tina", text)
        assert len(answer) < 1500, text[:20]
        assert "x" * 41 not in answer
    await chat.say("tina", "create spoc")
    answer = await chat.say("tina", f"enroll spoc {token}")
    assert "x" * 41 not in answer and "xxx…" in answer


async def test_help_shows_learners_only_what_they_may_use(chat: Chat) -> None:
    await chat.say("tina", "create spoc")
    await chat.say("tina", "enroll spoc ann")
    learner = await chat.say("ann", "help")
    assert "`status" in learner and "`enroll" not in learner and "For trainers and admins" not in learner
    assert "`digest" not in learner and "`report" not in learner
    staff = await chat.say("tina", "help")
    assert "For trainers and admins" in staff and "`enroll" in staff and "`digest" in staff
    await chat.say("tina", "manager spoc maya ann")
    manager = await chat.say("maya", "help")
    assert "`digest" in manager and "`report" in manager and "`enroll" not in manager
    assert "enroll" in await chat.say("ann", "help enroll")  # any verb can still be explained


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [
        ("hello there", None),
        ("as : status", None),
        ("statsu spoc", "status spoc"),
        ("reprot spoc", "report spoc"),
    ],
)
async def test_suggestions_only_when_the_word_is_close(chat: Chat, typed: str, suggested: str | None) -> None:
    answer = await chat.say("tina", typed)
    if suggested is None:
        assert "Did you mean" not in answer and "Commands:" in answer
    else:
        assert f"Did you mean: `{suggested}`" in answer


async def test_one_attendance_figure_not_two_that_disagree(
    chat: Chat, clock: SimulatedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def attendance(session: object, cohort: object) -> dict[str, object]:
        return {"attendance_records": 2, "attendance_present": 2, "attendance_rate": 1.0}

    monkeypatch.setitem(KPIS, "attendance", attendance)
    await chat.say("tina", "create spoc")
    await chat.say("tina", "enroll spoc ann")
    text = await chat.say("tina", "report spoc")
    figures = [line for line in text.splitlines() if line.startswith("Attendance")]
    assert [f.split(":")[0].strip() for f in figures if "rate" in f] == []
    headline = next(f for f in figures if f.split(":")[0].strip() == "Attendance")
    assert headline.split(":")[1].strip() == "100%"


async def test_a_past_date_is_added_with_a_warning_and_other_years_are_shown(chat: Chat) -> None:
    # The clock starts on Mon 1 Mar 2027.
    await chat.say("tina", "create spoc tz=Europe/Paris")
    past = await chat.say("tina", 'module spoc "Intro" due 2026-03-05')
    assert "due Thu 5 Mar 2026" in past and "⚠ That is in the past" in past
    past = await chat.say("tina", 'session spoc "Kick-off" 2026-03-09 09:30 90m')
    assert "Mon 9 Mar 2026, 09:30 (Europe/Paris)" in past and "⚠ That is in the past" in past
    ahead = await chat.say("tina", 'session spoc "Next year" 2028-01-10 09:30 90m')
    assert "2028" in ahead and "past" not in ahead
    this_year = await chat.say("tina", 'module spoc "Soon" due 2027-03-05')
    assert "due Fri 5 Mar." in this_year and "2027" not in this_year and "past" not in this_year
