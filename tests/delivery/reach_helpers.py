"""Shared setup of the delivery-at-scale tests and benchmark: a cohort of N learners reached on
Slack, a live session whose check-in window opens now, and what the Slack stand-in received.

`enrol_slack_learners` is the only place that says how learners arrive: with Slack identities
already known (crash, deadline and two-instance tests), or, with `by_email=True`, the main case:
people known only by their email (an HR or LMS import), who never wrote to the bot, found through
the Slack directory (paged `users.list` at its tier limit) before the window opens.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert

from bot.app.bootstrap import App
from bot.core.models import Cohort, Enrolment, Identity, LiveSession, Person

TEAM = "T0001"
OPENS_BEFORE = timedelta(minutes=10)  # the attendance default: check-in opens 10 min before start


def user_id(n: int) -> str:
    return f"U{n:07d}"


async def enrol_slack_learners(
    app: App, cohort_id: int, count: int, now: datetime, *, by_email: bool = False
) -> None:
    """`count` learners enrolled in the cohort, each with a Slack identity in workspace TEAM: known
    from the start, or (`by_email`) enrolled by email only and resolved through the directory."""
    if by_email:
        await _enrol_by_email(app, cohort_id, count, now)
        return
    async with app.store.transaction() as session:
        conn = await session.connection()
        first = 1_000_000
        await conn.execute(
            insert(Person),
            [
                {
                    "id": first + n,
                    "display_name": f"learner {n}",
                    "email": f"l{n}@acme.test",
                    "created_at": now,
                }
                for n in range(count)
            ],
        )
        await conn.execute(
            insert(Identity),
            [
                {
                    "person_id": first + n,
                    "platform": "slack",
                    "workspace": TEAM,
                    "user_id": user_id(n),
                    "conversation_ref": {},
                }
                for n in range(count)
            ],
        )
        await conn.execute(
            insert(Enrolment),
            [
                {
                    "cohort_id": cohort_id,
                    "person_id": first + n,
                    "role": "learner",
                    "status": "active",
                    "enrolled_at": now - timedelta(days=1),
                }
                for n in range(count)
            ],
        )


async def _enrol_by_email(app: App, cohort_id: int, count: int, now: datetime) -> None:
    from bot.capabilities.reach.resolver import IdentityResolver

    async with app.store.transaction() as session:
        conn = await session.connection()
        first = 1_000_000
        people = [
            {"id": first + n, "display_name": f"learner {n}", "email": f"l{n}@acme.test", "created_at": now}
            for n in range(count)
        ]
        await conn.execute(insert(Person), people)
        await conn.execute(
            insert(Enrolment),
            [
                {
                    "cohort_id": cohort_id,
                    "person_id": first + n,
                    "role": "learner",
                    "status": "active",
                    "enrolled_at": now - timedelta(days=1),
                }
                for n in range(count)
            ],
        )
    report = await IdentityResolver(app.store, app.clock, app.settings, app.directories).run_once()
    assert report.found == count, report


async def cohort_with_session_opening_now(app: App, now: datetime, slug: str = "reach") -> tuple[int, int]:
    """A cohort and a live session whose check-in window opens at `now`; returns their ids."""
    async with app.store.transaction() as session:
        # Only the day-before reminder, long past: the check-in cards are the only messages due.
        programme = {"reminders": [{"of": "session", "before": "1d"}]}
        cohort = Cohort(slug=slug, tz="UTC", programme=programme, created_at=now - timedelta(days=2))
        session.add(cohort)
        await session.flush()
        live = LiveSession(
            cohort_id=cohort.id or 0, title="Kick-off", starts_at=now + OPENS_BEFORE, duration_min=60
        )
        session.add(live)
        await session.flush()
        return cohort.id or 0, live.id or 0


async def open_check_in(app: App, session_id: int) -> str:
    """Fire the session's check-in opening the way the scheduler does; returns the outcome."""
    (event,) = [e for e in await app.runner.pending() if e.key == f"attendance:open:{session_id}"]
    return await app.runner.fire(event)


@dataclass
class Deliveries:
    """What the platform accepted, by outbox key (from each post's metadata), with times."""

    keys: list[str]
    times: list[float]

    def duplicates(self) -> int:
        return sum(n - 1 for n in Counter(self.keys).values())
