"""The leaderboard: teams ranked by points per active member (fair to teams of different sizes), with
raw totals, an optional individual top N; on request, and posted to the cohort channel every Monday."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_decimal
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.challenges.ledger import running_totals
from bot.capabilities.challenges.names import display_names
from bot.capabilities.challenges.rules import challenge_settings
from bot.capabilities.cohorts.commands import to_utc
from bot.core import i18n
from bot.core.context import Ctx, EventContext
from bot.core.errors import UserError
from bot.core.grammar import Choice, Slug
from bot.core.i18n import _, _n
from bot.core.messages import Block, Fields, Header, Message, Progress, Reply, Text
from bot.core.models import Cohort, Enrolment, LiveSession, Module
from bot.core.outbox import BULK
from bot.core.registry import kpi, on_event, planner, verb
from schedules.events import PlannedEvent

INDIVIDUAL_TOP = 5
WEEKLY_AT = time(9, 0)  # Monday, cohort time


@dataclass(frozen=True)
class TeamStanding:
    rank: int
    team: str
    members: int
    points: int

    @property
    def per_member(self) -> Fraction:
        return Fraction(self.points, self.members)


@dataclass(frozen=True)
class PersonStanding:
    rank: int
    person_id: int
    name: str
    team: str | None
    points: int


def ranked(scores: list[tuple[Any, Any]]) -> list[tuple[int, Any]]:
    """Competition ranking (1, 2, 2, 4): equal scores share a rank. `scores`: [(item, score)], best first."""
    out: list[tuple[int, Any]] = []
    for i, (item, score) in enumerate(scores):
        rank = out[-1][0] if i and scores[i - 1][1] == score else i + 1
        out.append((rank, item))
    return out


async def _active_learners(session: AsyncSession, cohort_id: int) -> list[Enrolment]:
    rows = await session.exec(
        select(Enrolment).where(
            Enrolment.cohort_id == cohort_id, Enrolment.role == "learner", Enrolment.status == "active"
        )
    )
    return list(rows.all())


async def team_standings(session: AsyncSession, cohort_id: int) -> list[TeamStanding]:
    """Teams with at least one active learner, best points per member first (exact fractions: no
    rounding decides a rank)."""
    sizes = Counter(e.team for e in await _active_learners(session, cohort_id) if e.team)
    totals = (await running_totals(session, cohort_id)).teams
    scores = sorted(
        ((team, Fraction(totals.get(team, 0), n)) for team, n in sizes.items()), key=lambda s: (-s[1], s[0])
    )
    return [TeamStanding(rank, team, sizes[team], totals.get(team, 0)) for rank, team in ranked(scores)]


async def person_standings(session: AsyncSession, cohort_id: int, top: int) -> list[PersonStanding]:
    """The best `top` active learners by their own total (ties at the cut are all shown)."""
    learners = {e.person_id: e.team for e in await _active_learners(session, cohort_id)}
    totals = (await running_totals(session, cohort_id)).people
    names = await display_names(session, list(learners))
    scores = sorted(
        ((pid, totals.get(pid, 0)) for pid in learners), key=lambda s: (-s[1], names.get(s[0], ""))
    )
    out = []
    for rank, pid in ranked(scores):
        if rank > top:
            break
        out.append(PersonStanding(rank, pid, names.get(pid, "?"), learners[pid], totals.get(pid, 0)))
    return out


def _rank_label(rank: int, ranks: list[int]) -> str:
    return f"={rank}" if ranks.count(rank) > 1 else f"{rank}."


async def leaderboard_message(
    session: AsyncSession, cohort: Cohort, *, individual_top: int = 0, title: str | None = None
) -> Message:
    teams = await team_standings(session, cohort.id or 0)
    title = title or _("{cohort}: leaderboard", cohort=cohort.slug)
    blocks: list[Block] = [Header(title)]
    if teams:
        best = max(t.per_member for t in teams)
        ranks = [t.rank for t in teams]
        blocks.append(Text(_("Teams, by points per member (fair to teams of different sizes):")))
        for t in teams:
            per_member = format_decimal(
                float(t.per_member), format="0.0", locale=i18n.babel_locale(i18n.current())
            )
            standing = _n(
                "{rank} {team}: {per_member} pts/member ({points} pts, {n} member)",
                "{rank} {team}: {per_member} pts/member ({points} pts, {n} members)",
                t.members,
                rank=_rank_label(t.rank, ranks),
                team=t.team,
                per_member=per_member,
                points=t.points,
            )
            blocks.append(Progress(standing, round(t.per_member), max(1, round(best))))
    else:
        blocks.append(Text(_("No teams yet: `teams <cohort> balance <n>` makes them.")))
    if individual_top:
        people = await person_standings(session, cohort.id or 0, individual_top)
        ranks = [p.rank for p in people]
        pairs = tuple(
            (f"{_rank_label(p.rank, ranks)} {p.name}", f"{p.points} pts" + (f" ({p.team})" if p.team else ""))
            for p in people
        )
        top = _n("Top {n} learner:", "Top {n} learners:", individual_top)
        blocks += [Text(top), Fields(pairs)] if pairs else []
    if teams:
        lead = [t.team for t in teams if t.rank == 1]
        leading = _n("{teams} leads", "{teams} lead", len(lead), teams=_(" and ").join(lead))
        summary = _("{label}: {title}", label=title, title=leading)
    else:
        summary = title
    return Message(summary, tuple(blocks))


@verb(
    "leaderboard",
    Slug("cohort"),
    Choice("individual", ("individual",), optional=True),
    summary="the team ranking (points per member), and the best learners with `individual`",
    example="leaderboard spring-onboarding individual",
)
async def leaderboard_verb(ctx: Ctx, cohort: str, individual: str | None) -> Reply:
    row = await ctx.cohort(cohort)
    if not await ctx.is_staff(row) and await ctx.role_in(row) is None:
        raise UserError(_("You are not in '{cohort}'. `list` shows your cohorts.", cohort=row.slug))
    top = INDIVIDUAL_TOP if individual else 0
    return Reply(await leaderboard_message(ctx.session, row, individual_top=top))


# -- the weekly post ---------------------------------------------------------------------------------


def mondays(first: datetime, last: datetime, tz: str) -> list[date]:
    """Every Monday (cohort time) after `first` up to `last`."""
    zone = ZoneInfo(tz)
    day = first.astimezone(zone).date()
    day += timedelta(days=(7 - day.weekday()) % 7 or 7)
    out = []
    while datetime.combine(day, time(0), tzinfo=zone) <= last:
        out.append(day)
        day += timedelta(weeks=1)
    return out


async def programme_end(session: AsyncSession, cohort_id: int) -> datetime | None:
    """When the last module is due or the last session starts: the weekly posts stop the week after."""
    due = (await session.exec(select(func.max(Module.due_at)).where(Module.cohort_id == cohort_id))).one()
    starts = (
        await session.exec(select(func.max(LiveSession.starts_at)).where(LiveSession.cohort_id == cohort_id))
    ).one()
    ends = [d.replace(tzinfo=d.tzinfo or ZoneInfo("UTC")) for d in (due, starts) if d is not None]
    return max(ends) if ends else None


@planner
async def plan_weekly_leaderboard(session: AsyncSession, cohort: Cohort, now: datetime) -> list[PlannedEvent]:
    if not challenge_settings(cohort).weekly_leaderboard:
        return []
    end = await programme_end(session, cohort.id or 0)
    if end is None:
        return []
    return [
        PlannedEvent(
            key=f"challenges.leaderboard:{cohort.id}:{monday.isoformat()}",
            kind="challenges.leaderboard",
            due_at=to_utc(datetime.combine(monday, WEEKLY_AT), cohort.tz),
            cohort_id=cohort.id,
            payload={"week": monday.isoformat()},
            grace=timedelta(hours=12),
        )
        for monday in mondays(cohort.created_at, end + timedelta(days=7), cohort.tz)
    ]


@on_event("challenges.leaderboard")
async def post_weekly_leaderboard(ctx: EventContext, event: PlannedEvent) -> None:
    cohort = await ctx.session.get_one(Cohort, event.cohort_id)
    totals = await running_totals(ctx.session, cohort.id or 0)
    if not any(totals.people.values()) and not any(totals.teams.values()):
        return  # nothing earned yet: an empty board helps nobody
    week = date.fromisoformat(event.payload["week"])
    with i18n.use(cohort.lang):  # a channel post: the cohort's language
        week_of = format_date(week, _("d MMM"), locale=i18n.babel_locale(i18n.current()))
        message = await leaderboard_message(
            ctx.session,
            cohort,
            individual_top=challenge_settings(cohort).individual_top,
            title=_("{cohort}: leaderboard, week of {week}", cohort=cohort.slug, week=week_of),
        )
    await ctx.post(cohort, message, key=event.key, priority=BULK)


@kpi("engagement")
async def engagement_kpi(session: AsyncSession, cohort: Cohort) -> dict[str, Any]:
    teams = await team_standings(session, cohort.id or 0)
    people = (await running_totals(session, cohort.id or 0)).people
    learners = len(await _active_learners(session, cohort.id or 0))
    return {
        "leading_teams": [t.team for t in teams if t.rank == 1],
        "points_per_member": {t.team: round(float(t.per_member), 1) for t in teams},
        "points_per_learner": round(sum(people.values()) / learners, 1) if learners else 0.0,
    }
