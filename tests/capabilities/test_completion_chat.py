"""Completion in the chat: the "Mark as done" button, `done`, trainers' `record`, and `status`."""

from __future__ import annotations

from datetime import timedelta

from bot.app.bootstrap import App
from bot.core.clock import SimulatedClock
from bot.core.inbound import Action, Inbound, Profile
from tests.capabilities.completion_fixtures import COHORT, completed_log, completions, make_cohort, module_id
from tests.conftest import Chat


async def test_mark_as_done_button_replaces_the_card_and_logs_once(chat: Chat, app: App) -> None:
    await make_cohort(chat)
    module = await module_id(app, "Module 1")
    press = Inbound(
        sender=Profile("console", "", "alice", "alice"), action=Action("module.done", str(module))
    )
    reply = await app.engine.handle(press)
    assert reply is not None and reply.visibility == "replace"
    assert reply.message.summary == "✓ Module 1 marked done on Mon 1 Mar."
    again = await app.engine.handle(press)
    assert again is not None and "already marked done on Mon 1 Mar" in again.message.summary
    assert await completed_log(app) == [
        {"module_id": module, "status": "completed", "score": None, "on_time": True, "source": "chat"}
    ]
    [row] = await completions(app)
    assert (row.status, row.source, row.recorded_by is not None) == ("completed", "chat", True)


async def test_done_matches_titles_ignoring_case_with_or_without_the_cohort(chat: Chat, app: App) -> None:
    await make_cohort(chat)
    assert "✓ Security Basics marked done" in await chat.say("alice", 'done "security   basics"')
    assert "✓ Module 2 marked done" in await chat.say("bob", f"done {COHORT} module 2")
    assert len(await completions(app)) == 2


async def test_done_with_a_wrong_title_names_the_nearest_one_and_records_nothing(
    chat: Chat, app: App
) -> None:
    await make_cohort(chat)
    answer = await chat.say("alice", 'done "Securty basic"')
    assert 'has no module "Securty basic". Did you mean "Security Basics"?' in answer
    assert 'Usage: `done [<cohort>] "<module>"`' in answer
    assert await completions(app) == []


async def test_done_after_the_due_date_says_late_and_logs_on_time_false(
    chat: Chat, app: App, clock: SimulatedClock
) -> None:
    await make_cohort(chat)
    clock.advance(timedelta(days=6))
    assert "after its due date (Fri 5 Mar)" in await chat.say("alice", 'done "Module 1"')
    [entry] = await completed_log(app)
    assert entry["on_time"] is False


async def test_someone_outside_the_cohort_or_in_several_cohorts_is_told_what_to_do(chat: Chat) -> None:
    await make_cohort(chat)
    assert "not in any cohort" in await chat.say("zed", 'done "Module 1"')
    assert "not a learner of 'spoc'" in await chat.say("zed", f'done {COHORT} "Module 1"')
    await chat.say("tina", "create other")
    await chat.say("tina", "enroll other alice")
    assert "several cohorts (other, spoc)" in await chat.say("alice", 'done "Module 1"')


async def test_trainer_records_scores_and_can_correct_them(chat: Chat, app: App) -> None:
    await make_cohort(chat)
    answer = await chat.say("tina", f'record {COHORT} "Module 2" alice bob score=85 status=passed')
    assert answer == "Recorded *Module 2* for alice, bob: passed, score 85."
    assert "Already recorded as passed, score 85: alice" in await chat.say(
        "tina", f'record {COHORT} "Module 2" alice score=85 status=passed'
    )
    await chat.say("tina", f'record {COHORT} "Module 2" alice score=40 status=failed')
    rows = {r.person_id: r for r in await completions(app)}
    assert sorted((r.status, r.score, r.source) for r in rows.values()) == [
        ("failed", 40.0, "trainer"),
        ("passed", 85.0, "trainer"),
    ]
    assert [e["status"] for e in await completed_log(app)] == ["passed", "passed", "failed"]
    # A learner's own "done" does not overturn a failed result.
    assert "recorded as failed (score 40)" in await chat.say("alice", 'done "Module 2"')


async def test_record_refuses_learners_bad_scores_and_strangers(chat: Chat, app: App) -> None:
    await make_cohort(chat)
    assert "Only admins and trainers" in await chat.say("alice", f'record {COHORT} "Module 1" bob')
    assert "between 0 and 100" in await chat.say("tina", f'record {COHORT} "Module 1" bob score=120')
    assert "zed is not a learner" in await chat.say("tina", f'record {COHORT} "Module 1" bob zed')
    assert await completions(app) == []


async def test_status_shows_progress_and_overdue_modules(chat: Chat, clock: SimulatedClock) -> None:
    await make_cohort(chat)
    await chat.say("alice", 'done "Module 2"')
    await chat.say("tina", f'record {COHORT} "Module 1" bob status=failed score=30')
    clock.advance(timedelta(days=8))  # Module 1 is past due
    learner = await chat.say("alice", "status")
    assert "Modules done ▓▓▓░░░░░░░ 1/3" in learner
    assert "Overdue: Module 1 (due Fri 5 Mar)" in learner
    assert "Overdue: Module 1 (failed, score 30)" in await chat.say("bob", "status")
    staff = await chat.say("tina", f"status {COHORT}")
    assert "• Module 1 (due Fri 5 Mar): 0/2 done (0%), 1 failed, 2 overdue" in staff
    assert "• Module 2 (due Fri 12 Mar): 1/2 done (50%)" in staff


async def test_a_module_cannot_be_marked_done_before_it_opens(chat: Chat, app: App) -> None:
    await make_cohort(chat)
    await chat.say("tina", f'module {COHORT} "Module 4" due 2027-03-26 release=2027-03-22')
    assert "Module 4 opens on Mon 22 Mar" in await chat.say("alice", 'done "module 4"')
    assert await completions(app) == []
