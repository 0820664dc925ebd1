"""The points ledger: turns scoring activities into points, keeps running totals in the same
transaction, and can rebuild both from the activity log alone.

Points are keyed by (person, source item): a session, a module, a survey, a challenge, or one manual
award. A newer activity about the same item (an attendance correction, a module retaken) re-evaluates
that entry instead of adding to it, so a correction never leaves stale points. An entry keeps the team
it was first earned for, so a learner who changes team leaves those points with the old team while
their individual total follows them.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, insert, update
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.challenges.rules import DEFAULT_POINTS, points_rules, rules_from_programme
from bot.capabilities.challenges.tables import PointsEntry, PointsTotal
from bot.core.context import EventContext
from bot.core.models import Activity, Cohort, Enrolment
from bot.core.registry import on_activity
from bot.core.store import insert_for

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


def award_key(activity: Activity) -> str:
    """What tells one manual award from another, live and in a replay: the `award_id` the `award`
    command gives it, else (awards logged elsewhere) a digest of who gave what to whom and when.
    Not the row id: the activity log may insert rows without handing their id back."""
    if activity.data.get("award_id"):
        return str(activity.data["award_id"])
    facts = [activity.at.isoformat(), activity.actor_id, activity.person_id, activity.data]
    return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def evaluate(activity: Activity, rules: dict[str, int]) -> Earning | None:
    """The points an activity is worth under `rules` (pure: the live path and the replay share it)."""
    kind, person_id, data = activity.kind, activity.person_id, activity.data
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
            f"award:{award_key(activity)}",
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


@dataclass(frozen=True)
class _Context:
    """What the live path reads in one query: the cohort's programme, the learner's team, the entry."""

    programme: dict[str, Any]
    team: str | None
    entry_id: int | None
    held: tuple[int, str | None] | None


# Core tables: the live path runs inside every check-in click, where the ORM costs more than the rows.
ENTRY: Any = PointsEntry.__table__  # type: ignore[attr-defined]
TOTAL: Any = PointsTotal.__table__  # type: ignore[attr-defined]
COHORT: Any = Cohort.__table__  # type: ignore[attr-defined]
ENROLMENT: Any = Enrolment.__table__  # type: ignore[attr-defined]
INSERT_ENTRY = insert(ENTRY)
UPDATE_ENTRY = (
    update(ENTRY)
    .where(ENTRY.c.id == bindparam("entry_id"))
    .values(points=bindparam("new_points"), reason=bindparam("new_reason"), at=bindparam("new_at"))
)


@functools.cache
def _context_query(for_a_person: bool) -> Any:
    """Built once (building a statement costs more than running it): programme, team and held entry."""
    same_person = ENTRY.c.person_id == bindparam("person_id") if for_a_person else ENTRY.c.person_id.is_(None)
    joined = COHORT.outerjoin(
        ENROLMENT, and_(ENROLMENT.c.cohort_id == COHORT.c.id, ENROLMENT.c.person_id == bindparam("person_id"))
    ).outerjoin(
        ENTRY, and_(ENTRY.c.cohort_id == COHORT.c.id, same_person, ENTRY.c.source == bindparam("source"))
    )
    return (
        sa_select(COHORT.c.programme, ENROLMENT.c.team, ENTRY.c.id, ENTRY.c.points, ENTRY.c.team)
        .select_from(joined)
        .where(COHORT.c.id == bindparam("cohort_id"))
    )


async def _read_context(
    conn: AsyncConnection, cohort_id: int, person_id: int | None, source: str
) -> _Context:
    """The cohort's programme, the learner's team and the entry they hold for `source`, in one query."""
    params = {"cohort_id": cohort_id, "person_id": person_id, "source": source}
    row = (await conn.execute(_context_query(person_id is not None), params)).one()
    programme, team, entry_id, points, entry_team = row
    return _Context(programme or {}, team, entry_id, (points, entry_team) if entry_id is not None else None)


async def _on_scoring_activity(ctx: EventContext, activity: Activity) -> None:
    if activity.cohort_id is None:
        return
    # The item an activity is about does not depend on the rules: find it, then read what we need.
    probe = evaluate(activity, DEFAULT_POINTS)
    if probe is None:
        return
    if ctx.session.new or ctx.session.dirty:
        await ctx.session.flush()  # e.g. a team change made earlier in this transaction
    conn = await ctx.session.connection()
    known = await _read_context(conn, activity.cohort_id, probe.person_id, probe.source)
    earning = evaluate(activity, rules_from_programme(known.programme))
    assert earning is not None
    await record(conn, activity.cohort_id, earning, known, activity.at)


for _kind in SCORING_KINDS:
    on_activity(_kind)(_on_scoring_activity)


async def record(
    conn: AsyncConnection, cohort_id: int, earning: Earning, known: _Context, at: datetime
) -> None:
    """Write (or re-evaluate) the ledger entry of `earning` and move the running totals by the difference."""
    points, team = settle(known.held, earning, None if earning.team_given else known.team)
    values = {"points": points, "reason": earning.reason, "at": at}
    if known.entry_id is None:
        row = {"cohort_id": cohort_id, "person_id": earning.person_id, "source": earning.source, "team": team}
        await conn.execute(INSERT_ENTRY, {**row, **values})
    else:
        await conn.execute(
            UPDATE_ENTRY, {"entry_id": known.entry_id, **{f"new_{k}": v for k, v in values.items()}}
        )
    delta = points - (known.held[0] if known.held else 0)
    rows = []
    if earning.person_id is not None:
        rows.append(
            {"cohort_id": cohort_id, "scope": "person", "name": str(earning.person_id), "points": delta}
        )
    if team:
        rows.append({"cohort_id": cohort_id, "scope": "team", "name": team, "points": delta})
    if delta and rows:
        await _add_to_totals(conn, rows)


@functools.cache
def _totals_upsert(dialect: str) -> Any:
    """Add a row's points to its running total, creating it at need (built once per dialect)."""
    upsert = insert_for(dialect)
    stmt = upsert(TOTAL)
    return stmt.on_conflict_do_update(
        index_elements=["cohort_id", "scope", "name"], set_={"points": TOTAL.c.points + stmt.excluded.points}
    )


async def _add_to_totals(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    await conn.execute(_totals_upsert(conn.dialect.name), rows)


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
        earning = evaluate(activity, rules)
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
