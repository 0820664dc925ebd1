"""What a refused or mistaken request says reveals nothing it should not: whether someone is
enrolled (a forged Nudge), which cohorts exist (a typo), which absence requests exist (a probed
id), or where the server keeps its files (an export)."""

from __future__ import annotations

from pathlib import Path

from tests.capabilities.reports_fixture import build_fixture
from tests.capabilities.surveys_fixtures import cohort_with_learners, send_now
from tests.conftest import Chat


async def test_a_forged_nudge_says_the_same_whoever_it_names(chat: Chat) -> None:
    fixture = await build_fixture(chat)
    enrolled = await chat.press("eve", "reports.nudge", f"{fixture.cohort.id}:{fixture.ids['ben']}")
    nobody = await chat.press("eve", "reports.nudge", f"{fixture.cohort.id}:99999")
    no_cohort = await chat.press("eve", "reports.nudge", f"424242:{fixture.ids['ben']}")
    not_a_learner = await chat.press("eve", "reports.nudge", f"{fixture.cohort.id}:{fixture.ids['maya']}")
    assert enrolled == nobody == no_cohort == not_a_learner
    assert "ben" not in enrolled and "spoc" not in enrolled


async def test_a_typo_suggests_only_the_callers_own_cohorts(chat: Chat) -> None:
    assert "Created" in await chat.say("tina", "create secret-merger")
    assert "Created" in await chat.say("tina", "create spoc")
    assert "Enrolled" in await chat.say("tina", "enroll spoc alice")
    outsider = await chat.say("alice", "status secret-mergr")
    assert "secret-merger" not in outsider and "There is no cohort 'secret-mergr'" in outsider
    assert "Did you mean 'spoc'?" in await chat.say("alice", "status spocc")
    assert "Did you mean 'secret-merger'?" in await chat.say("tina", "status secret-mergr")


async def test_absence_request_ids_cannot_be_probed(chat: Chat) -> None:
    await cohort_with_learners(chat)
    assert "added" in await chat.say("tina", 'session spoc "Live" 2027-03-03 10:00 60m')
    assert "sent" in (await chat.say("bob", "absent spoc dentist")).lower()
    existing, missing = (
        await chat.press("alice", "attendance.excuse", "1"),
        await chat.press("alice", "attendance.excuse", "999"),
    )
    assert existing == missing and "not yours to approve" in existing
    typed = await chat.say("alice", "excuse spoc 1"), await chat.say("alice", "excuse spoc 999")
    assert typed[0] == typed[1] and "Only admins and trainers" in typed[0]


async def test_export_replies_name_files_not_server_folders(chat: Chat, tmp_path: Path) -> None:
    chat.app.settings.export_dir = str(tmp_path / "exports")
    await cohort_with_learners(chat)
    sid = await send_now(chat, 'new "Feedback" "rating:How was it?"')
    reply = await chat.say("tina", f"survey spoc export {sid}")
    assert str(tmp_path) not in reply and f"survey-spoc-{sid}.csv" in reply
    assert "added" in await chat.say("tina", 'session spoc "Live" 2027-03-01 10:00 60m')
    sheet = await chat.say("tina", "sheet spoc #1")
    assert str(tmp_path) not in sheet and ".csv" in sheet
