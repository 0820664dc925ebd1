"""Helpers for the challenges tests: a cohort with teams, activities logged through the engine's
EventContext (the real contract of the attendance, completion and surveys capabilities)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import select

from bot.app.bootstrap import App
from bot.capabilities.challenges.ledger import Totals, recomputed_totals, running_totals
from bot.core.context import EventContext
from bot.core.models import Cohort, Person
from tests.conftest import Chat


async def setup_cohort(chat: Chat, teams: dict[str, list[str]], slug: str = "spoc") -> None:
    assert "Created cohort" in await chat.say("tina", f"create {slug} tz=Europe/Paris")
    for team, people in teams.items():
        assert "Enrolled" in await chat.say("tina", f"enroll {slug} {' '.join(people)} team={team}")


async def person_id(app: App, name: str) -> int:
    async with app.store.transaction() as session:
        person = (await session.exec(select(Person).where(Person.display_name == name))).one()
        return person.id or 0


async def cohort_row(app: App, slug: str = "spoc") -> Cohort:
    async with app.store.transaction() as session:
        return (await session.exec(select(Cohort).where(Cohort.slug == slug))).one()


async def log(
    app: App, kind: str, who: str | None, slug: str = "spoc", at: datetime | None = None, **data: Any
) -> None:
    """Log one activity as another capability would: ctx.log inside a transaction."""
    cohort = await cohort_row(app, slug)
    pid = await person_id(app, who) if who else None
    async with app.store.transaction() as session:
        ctx = EventContext(session=session, now=at or app.clock.now(), settings=app.settings)
        await ctx.log(kind, cohort_id=cohort.id, person_id=pid, **data)


async def both_totals(app: App, slug: str = "spoc") -> tuple[Totals, Totals]:
    cohort = await cohort_row(app, slug)
    async with app.store.transaction() as session:
        running = (await running_totals(session, cohort.id or 0)).nonzero()
        replayed = (await recomputed_totals(session, cohort)).nonzero()
    return running, replayed


async def team_points(app: App, slug: str = "spoc") -> dict[str, int]:
    running, _ = await both_totals(app, slug)
    return running.teams


async def person_points(app: App, name: str, slug: str = "spoc") -> int:
    running, _ = await both_totals(app, slug)
    return running.people.get(await person_id(app, name), 0)
