"""Survey figures: the `satisfaction` KPI over a large cohort, and answers per second through the engine.

Run: python benchmarks/bench_surveys.py [learners] [surveys]. Prints figures; never pass/fail.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert
from sqlmodel import col, select

from bot.app.bootstrap import App, build
from bot.capabilities.surveys.models import Survey, SurveyBallot, SurveyParticipation, new_ballot_id
from bot.capabilities.surveys.questions import TEMPLATES
from bot.capabilities.surveys.results import survey_figures
from bot.core.clock import SimulatedClock
from bot.core.inbound import Action, Inbound, Profile
from bot.core.models import Cohort, Enrolment, Person
from bot.core.registry import KPIS
from bot.core.settings import Settings

NOW = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)


async def kpi_figures(db: Path, learners: int, surveys: int) -> None:
    app = await build(Settings(database_url=f"sqlite:///{db}"), {}, SimulatedClock(NOW), schema="create")
    rng = random.Random(1)
    questions = [q.to_dict() for q in TEMPLATES["end-of-course"].questions]
    async with app.store.transaction() as session:
        cohort = Cohort(slug="big", created_at=NOW)
        session.add(cohort)
        await session.flush()
        conn = await session.connection()
        await conn.execute(
            insert(Person),
            [{"id": i, "display_name": f"p{i}", "created_at": NOW} for i in range(1, learners + 1)],
        )
        await conn.execute(
            insert(Enrolment),
            [{"cohort_id": cohort.id, "person_id": i, "enrolled_at": NOW} for i in range(1, learners + 1)],
        )
        for s in range(surveys):
            survey = Survey(
                cohort_id=cohort.id or 0,
                title=f"s{s}",
                questions=questions,
                anonymous=s % 2 == 0,
                status="open",
                opens_at=NOW,
                remind_at=NOW,
                closes_at=NOW,
                created_at=NOW,
            )
            session.add(survey)
            await session.flush()
            answered = [rng.random() < 0.8 for _ in range(learners)]
            await conn.execute(
                insert(SurveyParticipation),
                [{"survey_id": survey.id, "person_id": i + 1, "answered": a} for i, a in enumerate(answered)],
            )
            await conn.execute(
                insert(SurveyBallot),
                [
                    {
                        "id": new_ballot_id(),
                        "survey_id": survey.id,
                        "token": None,
                        "answers": {"q1": rng.randint(1, 5), "q2": rng.randint(0, 10), "q3": "yes"},
                        "complete": True,
                    }
                    for a in answered
                    if a
                ],
            )
    await checkpoint(app, db)
    for _ in range(3):
        await timed_kpi(app, cohort, f"satisfaction KPI, {learners} learners x {surveys} surveys, all open")
    async with app.store.transaction() as session:  # what closing does: freeze each survey's figures
        rows = list((await session.exec(select(Survey).order_by(col(Survey.id)))).all())
        frozen = await survey_figures(session, rows[:-1])
        for survey in rows[:-1]:
            survey.figures = frozen[survey.id or 0]
            session.add(survey)
    await checkpoint(app, db)
    for _ in range(3):
        await timed_kpi(app, cohort, f"satisfaction KPI, same, {surveys - 1} closed and 1 open")
    await app.close()


async def checkpoint(app: App, db: Path) -> None:
    """Fold the bulk set-up out of SQLite's write-ahead log, as a running server's checkpoints do."""
    await app.store.engine.dispose()

    def fold() -> None:
        with sqlite3.connect(db) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    await asyncio.to_thread(fold)


async def timed_kpi(app: App, cohort: Cohort, label: str) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    async with app.store.transaction() as session:
        figures = await KPIS["satisfaction"](session, cohort)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    print(f"{label}: {elapsed * 1000:.0f} ms, peak {peak:.1f} MB of Python allocations")
    print(f"  {figures}")


async def answer_rate(db: Path, learners: int) -> None:
    clock = SimulatedClock(NOW)
    app = await build(Settings(database_url=f"sqlite:///{db}", admins="tina"), {}, clock, schema="create")

    async def say(who: str, text: str) -> None:
        await app.engine.handle(Inbound(sender=Profile("console", "", who, who), text=text))

    names = [f"l{i}" for i in range(learners)]
    await say("tina", "create big")
    await say("tina", f"enroll big {' '.join(names)}")
    for anonymous in ("no", "yes"):
        await say("tina", f'survey big new "Pulse" "rating:Score?" "text:Why?" anonymous={anonymous}')
        sid = "1" if anonymous == "no" else "2"
        started = time.perf_counter()
        for name in names:
            await app.engine.handle(
                Inbound(
                    sender=Profile("console", "", name, name),
                    action=Action("surveys.answer", sid, {"q1": "4", "q2": "fine"}),
                )
            )
        elapsed = time.perf_counter() - started
        print(
            f"answers through the engine ({'anonymous' if anonymous == 'yes' else 'named'}): "
            f"{learners / elapsed:.0f}/s ({elapsed / learners * 1000:.1f} ms each, one at a time)"
        )
    await app.close()


async def main() -> None:
    learners = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    surveys = int(sys.argv[2]) if len(sys.argv) > 2 else 12
    with tempfile.TemporaryDirectory() as tmp:
        await kpi_figures(Path(tmp) / "kpi.db", learners, surveys)
        await answer_rate(Path(tmp) / "answers.db", 300)


if __name__ == "__main__":
    asyncio.run(main())
