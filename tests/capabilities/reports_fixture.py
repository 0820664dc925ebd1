"""A small cohort whose KPIs are worked out by hand (see test_reports_kpis.py for the arithmetic).

Four learners, two managers in two zones, three sessions (two held), three modules (two due),
people with and without site, department and seniority. Built through the chat commands, then
completions and attendance records are written as the completion and attendance capabilities do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlmodel import select

from bot.app.bootstrap import App
from bot.core.context import EventContext
from bot.core.models import Cohort, Completion, LiveSession, Module, Person
from tests.conftest import Chat

REPORT_AT = datetime(2027, 3, 15, 9, 0, tzinfo=UTC)  # a Monday: M1, M2 due; S1, S2 held; S3 ahead

PEOPLE = {
    # name: (site, department, seniority, tz)
    "ann": ("Paris", "Sales", "junior", None),
    "ben": ("Paris", "Ops", "senior", None),
    "cat": ("Lyon", "Sales", None, None),
    "dan": (None, "Ops", None, None),
    "maya": (None, None, None, "America/New_York"),
    "marc": (None, None, None, None),
}


@dataclass
class Fixture:
    app: App
    cohort: Cohort
    ids: dict[str, int]  # person name -> id
    modules: dict[str, int]  # M1.. -> id
    sessions: dict[str, int]  # S1.. -> id


async def build_fixture(chat: Chat) -> Fixture:
    for text in (
        "create spoc tz=Europe/Paris start=2027-03-01",
        "enroll spoc ann ben cat dan",
        "manager spoc maya ann ben",
        "manager spoc marc cat dan",
        'session spoc "S1" 2027-03-02 14:00 90m',
        'session spoc "S2" 2027-03-09 14:00 90m',
        'session spoc "S3" 2027-03-16 14:00 90m',
        'module spoc "M1" due 2027-03-05',
        'module spoc "M2" due 2027-03-12',
        'module spoc "M3" due 2027-03-26',
    ):
        answer = await chat.say("tina", text)
        assert "Usage" not in answer, answer
    app = chat.app
    async with app.store.transaction() as session:
        cohort = (await session.exec(select(Cohort).where(Cohort.slug == "spoc"))).one()
        people = {p.display_name: p for p in (await session.exec(select(Person))).all()}
        for name, (site, department, seniority, tz) in PEOPLE.items():
            person = people[name]
            person.site, person.department, person.seniority, person.tz = site, department, seniority, tz
            session.add(person)
        ids = {name: p.id or 0 for name, p in people.items()}
        modules = {m.title: m.id or 0 for m in (await session.exec(select(Module))).all()}
        sessions = {s.title: s.id or 0 for s in (await session.exec(select(LiveSession))).all()}
        cid = cohort.id or 0
        # Attendance records are written by hand below, as the attendance capability logs them:
        # its own check-in windows would add their Absent marks on top.
        cohort.programme = {**cohort.programme, "attendance": {"enabled": False}}
        session.add(cohort)

        async def log(at: datetime, kind: str, who: str, actor: str, data: dict[str, Any]) -> None:
            # As the capabilities do: through the activity log and its listeners.
            ctx = EventContext(session=session, now=at, settings=app.settings)
            await ctx.log(kind, cohort_id=cid, person_id=ids[who], actor_id=ids[actor], **data)

        async def completion(who: str, module: str, status: str, score: float | None, day: int) -> None:
            at = datetime(2027, 3, day, 12, 0, tzinfo=UTC)
            session.add(
                Completion(
                    cohort_id=cid,
                    module_id=modules[module],
                    person_id=ids[who],
                    status=status,
                    score=score,
                    at=at,
                )
            )
            await log(
                at,
                "module.completed",
                who,
                who,
                {"module_id": modules[module], "status": status, "score": score, "source": "chat"},
            )

        async def attendance(
            who: str, sess: str, status: str, day: int, minute: int = 0, correction: bool = False
        ) -> None:
            data: dict[str, Any] = {"session_id": sessions[sess], "status": status, "correction": correction}
            by_trainer = status in ("absent", "excused") or correction
            at = datetime(2027, 3, day, 13, minute, tzinfo=UTC)
            await log(at, "attendance.recorded", who, "tina" if by_trainer else who, data)

        await completion("ann", "M1", "passed", 80, 3)
        await completion("ann", "M2", "completed", None, 10)
        await completion("ben", "M1", "completed", 60, 4)
        await completion("ben", "M2", "failed", 30, 11)
        await completion("cat", "M1", "failed", None, 6)
        await attendance("ann", "S1", "present", 2)
        await attendance("ben", "S1", "late", 2, 20)
        await attendance("cat", "S1", "absent", 2, 50)
        await attendance("ann", "S2", "present", 9)
        await attendance("ben", "S2", "excused", 8)
        await attendance("cat", "S2", "absent", 9, 50)
        await attendance("cat", "S2", "present", 9, 55, correction=True)  # a correction: latest wins
        await attendance("dan", "S2", "absent", 9, 50)
        await session.flush()
    return Fixture(app, cohort, ids, modules, sessions)


def is_png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
