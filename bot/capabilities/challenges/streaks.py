"""Weekly streaks: every module due in a week completed on time earns points, judged the Monday after
from the `module.completed` activities (the latest one per module counts, so a correction is honoured)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.challenges.closing import close_challenge
from bot.capabilities.challenges.rules import challenge_settings, points_rules
from bot.capabilities.challenges.tables import Challenge, ChallengeEntry
from bot.capabilities.cohorts.commands import to_utc
from bot.core.context import EventContext
from bot.core.models import Activity, Cohort, Module
from bot.core.registry import on_event, planner
from schedules.events import PlannedEvent

JUDGED_AT = time(8, 30)  # Monday, cohort time: before the weekly leaderboard at 09:00


def week_of(when: datetime, tz: str) -> date:
    """The Monday (cohort time) of the week `when` falls in."""
    day = when.astimezone(ZoneInfo(tz)).date()
    return day - timedelta(days=day.weekday())


def week_bounds(monday: date, tz: str) -> tuple[datetime, datetime]:
    return to_utc(datetime.combine(monday, time(0)), tz), to_utc(
        datetime.combine(monday + timedelta(weeks=1), time(0)), tz
    )


@planner
async def plan_streaks(session: AsyncSession, cohort: Cohort, now: datetime) -> list[PlannedEvent]:
    if not challenge_settings(cohort).streaks:
        return []
    dues = (await session.exec(select(Module.due_at).where(Module.cohort_id == cohort.id))).all()
    weeks = sorted({week_of(due, cohort.tz) for due in dues})
    return [
        PlannedEvent(
            key=f"challenges.streak:{cohort.id}:{monday.isoformat()}",
            kind="challenges.streak",
            due_at=to_utc(datetime.combine(monday + timedelta(weeks=1), JUDGED_AT), cohort.tz),
            cohort_id=cohort.id,
            payload={"week": monday.isoformat()},
            grace=timedelta(days=3),
        )
        for monday in weeks
    ]


async def on_time_learners(session: AsyncSession, cohort: Cohort, module_ids: set[int]) -> set[int]:
    """Learners whose latest `module.completed` for every one of `module_ids` is on time and not failed."""
    rows = await session.exec(
        select(Activity.person_id, Activity.data)
        .where(Activity.cohort_id == cohort.id, Activity.kind == "module.completed")
        .order_by(col(Activity.id))
    )
    latest: dict[tuple[int, int], bool] = {}
    for person_id, data in rows.all():
        if person_id is not None and data.get("module_id") in module_ids:
            latest[(person_id, data["module_id"])] = (
                bool(data.get("on_time")) and data.get("status") != "failed"
            )
    people = {person_id for person_id, _ in latest}
    return {p for p in people if all(latest.get((p, m), False) for m in module_ids)}


@on_event("challenges.streak")
async def judge_streak(ctx: EventContext, event: PlannedEvent) -> None:
    cohort = await ctx.session.get_one(Cohort, event.cohort_id)
    monday = date.fromisoformat(event.payload["week"])
    start, end = week_bounds(monday, cohort.tz)
    module_ids = set(
        (
            await ctx.session.exec(
                select(Module.id).where(
                    Module.cohort_id == cohort.id, Module.due_at >= start, Module.due_at < end
                )
            )
        ).all()
    )
    if not module_ids:
        return
    winners = await on_time_learners(ctx.session, cohort, {m for m in module_ids if m is not None})
    learners = await ctx.learners(cohort)
    if not any(e.person_id in winners for e in learners):
        return  # nobody made it: a weekly "no winner" post would only be noise
    # Streaks are numbered among the cohort's streaks (the first is #1), not with quizzes and tasks.
    earlier = await ctx.session.exec(
        select(sa.func.count()).where(Challenge.cohort_id == cohort.id, Challenge.kind == "streak")
    )
    streak = Challenge(
        cohort_id=cohort.id or 0,
        kind="streak",
        options=[str(earlier.one() + 1)],
        title=f"Every module on time, week of {monday.day} {monday:%b}",
        points=points_rules(cohort)["streak_week"],
        scoring="person",
        opens_at=start,
        closes_at=end,
    )
    ctx.session.add(streak)
    await ctx.session.flush()
    for enrolment in learners:
        if enrolment.person_id in winners:
            ctx.session.add(
                ChallengeEntry(
                    challenge_id=streak.id or 0,
                    person_id=enrolment.person_id,
                    team=enrolment.team,
                    answer="on time",
                    correct=True,
                    clicked_at=ctx.now,
                    received_at=ctx.now,
                )
            )
    await ctx.session.flush()
    await close_challenge(ctx, cohort, streak, closed_by=None)
