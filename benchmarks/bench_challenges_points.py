"""How much the points ledger adds to logging a scoring activity, and how fast the log replays.

Prints figures, never pass/fail: check-ins per second logged one transaction each (as a click is),
with the challenges listener and without it, then the replay time of the whole log.
Run: python -m benchmarks.bench_challenges_points [--n 2000] [--learners 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.capabilities.challenges.ledger import recomputed_totals, running_totals
from bot.core.context import EventContext
from bot.core.models import Cohort, Enrolment, Person
from bot.core.registry import ACTIVITY_LISTENERS, load_capabilities
from bot.core.settings import Settings
from bot.core.store import Store

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
LEARNERS = 200


async def seed(store: Store, slug: str) -> tuple[int, list[int]]:
    async with store.transaction() as session:
        cohort = Cohort(slug=slug, created_at=NOW)
        session.add(cohort)
        await session.flush()
        people = [Person(display_name=f"p{i}", created_at=NOW) for i in range(LEARNERS)]
        session.add_all(people)
        await session.flush()
        for i, p in enumerate(people):
            session.add(
                Enrolment(cohort_id=cohort.id or 0, person_id=p.id or 0, team=f"t{i % 4}", enrolled_at=NOW)
            )
        return cohort.id or 0, [p.id or 0 for p in people]


async def check_ins(
    store: Store, settings: Settings, cohort_id: int, people: list[int], n: int, base: int
) -> float:
    started = time.perf_counter()
    for i in range(n):
        async with store.transaction() as session:
            ctx = EventContext(session=session, now=NOW, settings=settings)
            await ctx.log(
                "attendance.recorded",
                cohort_id=cohort_id,
                person_id=people[i % len(people)],
                session_id=base + i // len(people),
                status="present",
                correction=False,
            )
    return n / (time.perf_counter() - started)


async def main(n: int) -> None:
    load_capabilities()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{Path(tmp) / 'bench.db'}")
        store = await Store.open(settings.database_url, schema="create")
        cohort_id, people = await seed(store, "points")
        bare_id, bare_people = await seed(store, "bare")
        # Alternate short rounds, so a noisy neighbour slows both sides alike.
        saved = list(ACTIVITY_LISTENERS)
        times = {"without": 0.0, "with": 0.0}
        rounds = 10
        for r in range(rounds):
            ACTIVITY_LISTENERS.clear()
            times["without"] += (n // rounds) / await check_ins(
                store, settings, bare_id, bare_people, n // rounds, r * 100
            )
            ACTIVITY_LISTENERS.extend(saved)
            times["with"] += (n // rounds) / await check_ins(
                store, settings, cohort_id, people, n // rounds, r * 100
            )
        without, with_listener = n / times["without"], n / times["with"]
        async with store.transaction() as session:
            cohort = await session.get_one(Cohort, cohort_id)
            started = time.perf_counter()
            replayed = await recomputed_totals(session, cohort)
            replay_s = time.perf_counter() - started
            running = await running_totals(session, cohort_id)
        await store.close()
    print(f"check-ins logged, one transaction each ({n}):")
    print(f"  without the points listener  {without:8.0f}/s")
    print(f"  with the points listener     {with_listener:8.0f}/s  ({with_listener / without:.2f}x)")
    same = replayed.nonzero() == running.nonzero()
    print(f"replay of the {n} activities: {replay_s * 1000:.0f} ms; matches the running totals: {same}")


async def challenge_at_scale(learners: int) -> None:
    """Post a quiz to `learners` learners, let half answer, close it: the times of each step."""
    from bot.app.bootstrap import build
    from bot.core.clock import SimulatedClock
    from bot.core.delivery import SendResult, Target
    from bot.core.inbound import Action, Inbound, Profile
    from bot.core.messages import Message
    from bot.core.models import Identity

    class NoSender:
        async def send(self, target: Target, message: Message) -> SendResult:
            return SendResult(message_id=target.key)

        async def update(
            self, target: Target, message_id: str, channel_id: str | None, message: Message
        ) -> SendResult:
            return SendResult(message_id=message_id)

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{Path(tmp) / 'scale.db'}", admins="tina")
        app = await build(settings, {"console": NoSender()}, SimulatedClock(NOW), schema="create")
        await app.engine.handle(Inbound(sender=Profile("console", "", "tina", "tina"), text="create big"))
        async with app.store.transaction() as session:
            cohort_id = 1
            people = [Person(display_name=f"l{i}", created_at=NOW) for i in range(learners)]
            session.add_all(people)
            await session.flush()
            for i, p in enumerate(people):
                session.add(Identity(person_id=p.id or 0, platform="console", user_id=f"l{i}"))
                session.add(
                    Enrolment(cohort_id=cohort_id, person_id=p.id or 0, team=f"t{i % 7}", enrolled_at=NOW)
                )
        tina = Profile("console", "", "tina", "tina")
        started = time.perf_counter()
        await app.engine.handle(Inbound(sender=tina, text='challenge big quiz "2+2?" *4 5 6'))
        posted = time.perf_counter() - started
        started = time.perf_counter()
        for i in range(0, learners, 2):
            who = Profile("console", "", f"l{i}", f"l{i}")
            await app.engine.handle(
                Inbound(sender=who, action=Action("challenges.answer", "1", {"challenge-1": "4"}))
            )
        answered = (time.perf_counter() - started) / (learners // 2)
        started = time.perf_counter()
        await app.engine.handle(Inbound(sender=tina, text="challenge big close 1"))
        closed = time.perf_counter() - started
        await app.close()
    print(f"a quiz for {learners} learners:")
    print(f"  post (channel + {learners} DMs queued)   {posted * 1000:8.0f} ms")
    print(f"  one answer (click to commit)        {answered * 1000:8.1f} ms")
    print(
        f"  close (judge, {learners // 2} wins, {learners + 1} card updates, outcome DMs) "
        f"{closed * 1000:.0f} ms"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000, help="check-ins to log")
    parser.add_argument("--learners", type=int, default=2000, help="learners of the quiz at scale")
    args = parser.parse_args()
    asyncio.run(main(args.n))
    asyncio.run(challenge_at_scale(args.learners))
