"""The points ledger: turns scoring activities into points, keeps running totals in the same
transaction, and can rebuild both from the activity log alone.

Points are keyed by (person, source item): a session, a module, a survey, a challenge, or one manual
award. A newer activity about the same item (an attendance correction, a module retaken) re-evaluates
that entry instead of adding to it, so a correction never leaves stale points. An entry keeps the team
it was first earned for, so a learner who changes team leaves those points with the old team while
their individual total follows them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.challenges.rules import points_rules
from bot.challenges.tables import PointsEntry, PointsTotal
from bot.context import EventContext
from bot.models import Activity, Cohort, Enrolment
from bot.registry import on_activity

SCORING_KINDS = (
    "attendance.recorded",
    "module.completed",
    "survey.answered",
    "challenge.won",
    "points.awarded",
)
# Activities that say which team a learner plays for from then on.
TEAM_KINDS = ("enrolment.created", "team.assigned")


@dataclass(frozen=True)
class Earning:
    """What one activity is worth: to whom, for which item, and for which team when it says so."""

    person_id: int | None
    source: str
    points: int
    reason: str
    team: str | None = None
    team_given: bool = False  # awards and wins name their team; other points go to the learner's team


def evaluate(
    kind: str, person_id: int | None, data: dict[str, Any], rules: dict[str, int], activity_id: int | None
) -> Earning | None:
    """The points an activity is worth under `rules` (pure: the live path and the replay share it)."""
    if kind == "attendance.recorded":
        status = data.get("status")
        points = {"present": rules["attendance_present"], "late": rules["attendance_late"]}.get(status, 0)
        return Earning(person_id, f"attendance:{data.get('session_id')}", points, f"attendance ({status})")
    if kind == "module.completed":
        if data.get("status") == "failed":
            points = 0
        else:
            points = rules["module_on_time"] if data.get("on_time") else rules["module_late"]
        timing = "on time" if data.get("on_time") else "late"
        return Earning(
            person_id, f"module:{data.get('module_id')}", points, f"module {data.get('status')} {timing}"
        )
    if kind == "survey.answered":
        return Earning(
            person_id, f"survey:{data.get('survey_id')}", rules["survey_answered"], "survey answered"
        )
    if kind == "challenge.won":
        points = int(data.get("points", rules["challenge_win"]))
        return Earning(
            person_id,
            f"challenge:{data.get('challenge_id')}",
            points,
            "challenge won",
            data.get("team"),
            True,
        )
    if kind == "points.awarded":
        return Earning(
            person_id,
            f"award:{activity_id}",
            int(data["points"]),
            str(data.get("reason", "")),
            data.get("team"),
            True,
        )
    return None


def settle(
    held: tuple[int, str | None] | None, earning: Earning, current_team: str | None
) -> tuple[int, str | None]:
    """The (points, team) an entry holds after `earning`: new points, and the team it was first earned for."""
    if held is not None:
        return earning.points, held[1]
    return earning.points, earning.team if earning.team_given else current_team


@dataclass
class Totals:
    people: dict[int, int] = field(default_factory=dict)
    teams: dict[str, int] = field(default_factory=dict)

    def nonzero(self) -> Totals:
        return Totals({k: v for k, v in self.people.items() if v}, {k: v for k, v in self.teams.items() if v})


# -- the live path: one activity, in the transaction that logs it ------------------------------------


async def _team_of(session: AsyncSession, cohort_id: int, person_id: int | None) -> str | None:
    if person_id is None:
        return None
    row = await session.exec(
        select(Enrolment.team).where(Enrolment.cohort_id == cohort_id, Enrolment.person_id == person_id)
    )
    return row.first()


async def _on_scoring_activity(ctx: EventContext, activity: Activity) -> None:
    if activity.cohort_id is None:
        return
    cohort = await ctx.session.get_one(Cohort, activity.cohort_id)
    if activity.kind == "points.awarded":
        await ctx.session.flush()  # the award's own id keys its entry, live and in a replay
    earning = evaluate(activity.kind, activity.person_id, activity.data, points_rules(cohort), activity.id)
    if earning is None:
        return
    team = None if earning.team_given else await _team_of(ctx.session, activity.cohort_id, earning.person_id)
    await record(ctx.session, activity.cohort_id, earning, team, activity.at)


for _kind in SCORING_KINDS:
    on_activity(_kind)(_on_scoring_activity)


async def record(
    session: AsyncSession, cohort_id: int, earning: Earning, current_team: str | None, at: datetime
) -> None:
    """Write (or re-evaluate) the ledger entry of `earning` and move the running totals by the difference."""
    entry = (
        await session.exec(
            select(PointsEntry).where(
                PointsEntry.cohort_id == cohort_id,
                PointsEntry.person_id == earning.person_id,
                PointsEntry.source == earning.source,
            )
        )
    ).first()
    held = (entry.points, entry.team) if entry else None
    points, team = settle(held, earning, current_team)
    before = entry.points if entry else 0
    if entry is None:
        entry = PointsEntry(
            cohort_id=cohort_id, person_id=earning.person_id, source=earning.source, team=team
        )
    entry.points, entry.reason, entry.at = points, earning.reason, at
    session.add(entry)
    delta = points - before
    if earning.person_id is not None:
        await _add_to_total(session, cohort_id, "person", str(earning.person_id), delta)
    if team:
        await _add_to_total(session, cohort_id, "team", team, delta)


async def _add_to_total(session: AsyncSession, cohort_id: int, scope: str, name: str, delta: int) -> None:
    if not delta:
        return
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    table: Any = PointsTotal.__table__  # type: ignore[attr-defined]
    stmt = (
        insert(table)
        .values(cohort_id=cohort_id, scope=scope, name=name, points=delta)
        .on_conflict_do_update(
            index_elements=["cohort_id", "scope", "name"], set_={"points": table.c.points + delta}
        )
    )
    await session.exec(stmt)  # type: ignore[call-overload]


async def running_totals(session: AsyncSession, cohort_id: int) -> Totals:
    rows = await session.exec(
        select(PointsTotal.scope, PointsTotal.name, PointsTotal.points).where(
            PointsTotal.cohort_id == cohort_id
        )
    )
    totals = Totals()
    for scope, name, points in rows.all():
        if scope == "person":
            totals.people[int(name)] = points
        else:
            totals.teams[name] = points
    return totals


# -- the replay: everything again from the activity log ----------------------------------------------


@dataclass(frozen=True)
class Held:
    points: int
    team: str | None
    reason: str
    at: datetime


async def replay(session: AsyncSession, cohort: Cohort) -> dict[tuple[int | None, str], Held]:
    """The ledger as the activity log alone implies it, under the cohort's current rules."""
    rules = points_rules(cohort)
    enrolled_team = dict(
        (
            await session.exec(
                select(Enrolment.person_id, Enrolment.team).where(Enrolment.cohort_id == cohort.id)
            )
        ).all()
    )
    teams: dict[int, str | None] = {}
    ledger: dict[tuple[int | None, str], Held] = {}
    activities = await session.exec(
        select(Activity)
        .where(Activity.cohort_id == cohort.id, col(Activity.kind).in_(SCORING_KINDS + TEAM_KINDS))
        .order_by(col(Activity.id))
    )
    for activity in activities.all():
        if activity.kind in TEAM_KINDS:
            if activity.person_id is not None:
                teams[activity.person_id] = activity.data.get("team")
            continue
        earning = evaluate(activity.kind, activity.person_id, activity.data, rules, activity.id)
        if earning is None:
            continue
        key = (earning.person_id, earning.source)
        held = ledger.get(key)
        # People enrolled by a path that logged no team: their enrolment says it.
        current = (
            teams.get(earning.person_id, enrolled_team.get(earning.person_id)) if earning.person_id else None
        )
        points, team = settle((held.points, held.team) if held else None, earning, current)
        ledger[key] = Held(points, team, earning.reason, activity.at)
    return ledger


def totals_of(ledger: dict[tuple[int | None, str], Held]) -> Totals:
    people: dict[int, int] = defaultdict(int)
    teams: dict[str, int] = defaultdict(int)
    for (person_id, _source), held in ledger.items():
        if person_id is not None:
            people[person_id] += held.points
        if held.team:
            teams[held.team] += held.points
    return Totals(dict(people), dict(teams))


async def recomputed_totals(session: AsyncSession, cohort: Cohort) -> Totals:
    return totals_of(await replay(session, cohort))


async def rebuild(session: AsyncSession, cohort: Cohort) -> Totals:
    """Replace the cohort's ledger and running totals by the replay (after a rules change, or a repair)."""
    ledger = await replay(session, cohort)
    await session.exec(delete(PointsEntry).where(col(PointsEntry.cohort_id) == cohort.id))  # type: ignore[call-overload]
    await session.exec(delete(PointsTotal).where(col(PointsTotal.cohort_id) == cohort.id))  # type: ignore[call-overload]
    for (person_id, source), held in ledger.items():
        session.add(
            PointsEntry(
                cohort_id=cohort.id or 0,
                person_id=person_id,
                team=held.team,
                source=source,
                points=held.points,
                reason=held.reason,
                at=held.at,
            )
        )
    totals = totals_of(ledger)
    for person_id, points in totals.people.items():
        session.add(PointsTotal(cohort_id=cohort.id or 0, scope="person", name=str(person_id), points=points))
    for team, points in totals.teams.items():
        session.add(PointsTotal(cohort_id=cohort.id or 0, scope="team", name=team, points=points))
    await session.flush()
    return totals
