"""A small cohort for the completion tests: a trainer, two learners with emails, three modules."""

from __future__ import annotations

from sqlmodel import select

from bot.app.bootstrap import App
from bot.core.models import Activity, Completion, Module, Person
from tests.conftest import Chat

COHORT = "spoc"


async def make_cohort(chat: Chat) -> None:
    """tina runs `spoc` (Europe/Paris); alice and bob are learners; Module 1 due Fri 5 Mar 2027,
    Module 2 due 12 Mar, "Security Basics" due 19 Mar. The clock starts Mon 1 Mar 2027 07:00 UTC."""
    for line in (
        f"create {COHORT} tz=Europe/Paris",
        f"enroll {COHORT} alice bob",
        f'module {COHORT} "Module 1" due 2027-03-05',
        f'module {COHORT} "Module 2" due 2027-03-12',
        f'module {COHORT} "Security Basics" due 2027-03-19',
    ):
        await chat.say("tina", line)
    # Their LMS emails, as an import or the platform would have told us.
    for name in ("alice", "bob"):
        await chat.say(name, "list")
    async with chat.app.store.transaction() as session:
        for person in (await session.exec(select(Person))).all():
            if person.display_name in ("alice", "bob"):
                person.email = f"{person.display_name}@example.com"
                session.add(person)


async def module_id(app: App, title: str) -> int:
    async with app.store.transaction() as session:
        module = (await session.exec(select(Module).where(Module.title == title))).one()
        return module.id or 0


async def completions(app: App) -> list[Completion]:
    async with app.store.transaction() as session:
        return list((await session.exec(select(Completion).order_by(Completion.id))).all())


async def completed_log(app: App) -> list[dict]:
    async with app.store.transaction() as session:
        rows = await session.exec(
            select(Activity).where(Activity.kind == "module.completed").order_by(Activity.id)
        )
        return [a.data for a in rows.all()]


async def person_id(app: App, name: str) -> int:
    async with app.store.transaction() as session:
        person = (await session.exec(select(Person).where(Person.display_name == name))).one()
        return person.id or 0
