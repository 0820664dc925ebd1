"""The one recording function: idempotent, keeps the best result, logs `module.completed` per change."""

from __future__ import annotations

from datetime import timedelta

from bot.app.bootstrap import App
from bot.capabilities.completion.recording import record_completion
from bot.core.context import EventContext
from bot.core.models import Module
from tests.capabilities.completion_fixtures import (
    completed_log,
    completions,
    make_cohort,
    module_id,
    person_id,
)
from tests.conftest import Chat


async def _record(app: App, title: str, person_id: int, **kwargs) -> str:  # type: ignore[no-untyped-def]
    mid = await module_id(app, title)
    async with app.store.transaction() as session:
        ctx = EventContext(session=session, now=app.clock.now(), settings=app.settings)
        module = await session.get_one(Module, mid)
        defaults = {"score": None, "at": app.clock.now(), "recorded_by": None, "source": "xapi"}
        result = await record_completion(ctx, module, person_id, **{**defaults, **kwargs})
        return result.outcome


async def test_a_better_result_updates_and_logs_a_worse_one_changes_nothing(chat: Chat, app: App) -> None:
    await make_cohort(chat)
    person = await person_id(app, "alice")
    assert await _record(app, "Module 1", person, status="failed", score=40) == "new"
    assert await _record(app, "Module 1", person, status="failed", score=40) == "unchanged"
    assert await _record(app, "Module 1", person, status="failed", score=55) == "improved"
    assert await _record(app, "Module 1", person, status="passed", score=50) == "improved"
    assert await _record(app, "Module 1", person, status="completed", score=None) == "unchanged"
    assert await _record(app, "Module 1", person, status="passed", score=45) == "unchanged"
    assert [(e["status"], e["score"]) for e in await completed_log(app)] == [
        ("failed", 40),
        ("failed", 55),
        ("passed", 50),
    ]
    [row] = await completions(app)
    assert (row.status, row.score) == ("passed", 50)


async def test_on_time_compares_the_completion_time_with_the_due_date(chat: Chat, app: App) -> None:
    await make_cohort(chat)
    due = await _due(app, "Module 1")
    await _record(app, "Module 1", await person_id(app, "alice"), status="completed", at=due)
    late = due + timedelta(minutes=1)
    await _record(app, "Module 1", await person_id(app, "bob"), status="completed", at=late)
    assert [e["on_time"] for e in await completed_log(app)] == [True, False]


async def _due(app: App, title: str):  # type: ignore[no-untyped-def]
    async with app.store.transaction() as session:
        return (await session.get_one(Module, await module_id(app, title))).due_at
