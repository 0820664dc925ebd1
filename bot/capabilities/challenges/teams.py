"""Teams inside a cohort: show them, balance them into n teams of sizes that differ by at most one,
and move one learner. Points already earned stay with the team they were earned for."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import partial

from bot.capabilities.challenges.ledger import running_totals
from bot.capabilities.challenges.names import display_names
from bot.core import texts
from bot.core.context import Ctx
from bot.core.errors import UserError
from bot.core.grammar import Choice, Number, Slug, Word
from bot.core.i18n import N_, _, _n
from bot.core.messages import Fields, Header, Message, Reply, Text, say
from bot.core.models import Cohort, Enrolment
from bot.core.outbox import Recipient
from bot.core.registry import verb

TEAM_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,30}$")
MAX_TEAMS = 50


@dataclass(frozen=True)
class Member:
    person_id: int
    team: str | None
    seniority: int  # order of arrival in the cohort (enrolment id): later arrivals move first


def balance_teams(members: list[Member], n: int) -> dict[int, str]:
    """New team of each member who has to move, so that n teams differ in size by at most one.

    Keeps the n largest existing teams (fewest moves), fills them to their target size with people who
    have no team or whose team is not kept, and moves the latest arrivals out of teams that are too big.
    """
    sizes = Counter(m.team for m in members if m.team)
    kept = sorted(sizes, key=lambda t: (-sizes[t], t))[:n]
    number = 1
    while len(kept) < n:
        name = f"team-{number}"
        if name not in kept:
            kept.append(name)
        number += 1
    base, extra = divmod(len(members), n)
    # The biggest teams get the spare places: nobody moves just to make room.
    by_size = sorted(kept, key=lambda t: (-sizes.get(t, 0), t))
    target = {team: base + (1 if i < extra else 0) for i, team in enumerate(by_size)}
    stay: dict[str, list[Member]] = {team: [] for team in kept}
    pool: list[Member] = []
    for member in sorted(members, key=lambda m: m.seniority):
        if member.team in stay and len(stay[member.team]) < target[member.team]:
            stay[member.team].append(member)
        else:
            pool.append(member)
    moves: dict[int, str] = {}
    for member in pool:
        team = max(kept, key=lambda t: (target[t] - len(stay[t]), -kept.index(t)))
        stay[team].append(member)
        moves[member.person_id] = team
    return moves


async def assign_team(ctx: Ctx, cohort: Cohort, enrolment: Enrolment, team: str) -> Recipient:
    """Put one learner in `team` (logged, so a replay of the log knows it) and say so to them."""
    previous = enrolment.team
    enrolment.team = team
    ctx.session.add(enrolment)
    await ctx.log(
        "team.assigned",
        cohort_id=cohort.id,
        person_id=enrolment.person_id,
        actor_id=ctx.actor.id,
        team=team,
        previous=previous,
    )
    key = f"challenges.team:{cohort.id}:{enrolment.person_id}:{ctx.now.isoformat()}"
    return Recipient(enrolment.person_id, key, partial(_moved_message, team, cohort.slug))


def _moved_message(team: str, cohort: str) -> Message:
    text = texts.t("challenges.team.moved", team=team, cohort=cohort)
    return Message(text, (Text(text),))


@verb(
    "teams",
    Slug("cohort"),
    Choice("balance", ("show", "balance"), optional=True),
    Number("n", low=1, high=MAX_TEAMS, optional=True),
    summary="show the teams, or balance learners into n teams (points stay where they were earned)",
    example="teams spring-onboarding balance 4",
    staff_only=True,
)
async def teams_verb(ctx: Ctx, cohort: str, balance: str | None, n: int | None) -> Reply:
    row = await ctx.staff_cohort(cohort, N_("manage teams"))
    learners = await ctx.learners(row)
    if balance == "balance":
        if n is None:
            raise UserError(_("Say how many teams, e.g. `teams {cohort} balance 3`.", cohort=row.slug))
        if n > len(learners):
            raise UserError(
                _n(
                    "'{cohort}' has {n} active learner: that's not enough for {teams} teams.",
                    "'{cohort}' has {n} active learners: that's not enough for {teams} teams.",
                    len(learners),
                    cohort=row.slug,
                    teams=n,
                )
            )
        members = [Member(e.person_id, e.team, e.id or 0) for e in learners]
        moves = balance_teams(members, n)
        by_person = {e.person_id: e for e in learners}
        recipients = [await assign_team(ctx, row, by_person[pid], team) for pid, team in moves.items()]
        await ctx.dms(recipients, cohort_id=row.id)
        summary = _n(
            "Balanced *{cohort}* into {teams} teams: {n} learner moved.",
            "Balanced *{cohort}* into {teams} teams: {n} learners moved.",
            len(moves),
            cohort=row.slug,
            teams=n,
        )
        return Reply(await teams_message(ctx, row, summary))
    if n is not None:
        raise UserError(
            _("A number only goes with balance: `teams {cohort} balance {n}`.", cohort=row.slug, n=n)
        )
    return Reply(await teams_message(ctx, row, _("Teams of {cohort}", cohort=row.slug)))


async def teams_message(ctx: Ctx, cohort: Cohort, summary: str) -> Message:
    learners = await ctx.learners(cohort)
    names = await display_names(ctx.session, [e.person_id for e in learners])
    totals = await running_totals(ctx.session, cohort.id or 0)
    rosters: dict[str, list[str]] = {}
    for e in learners:
        rosters.setdefault(e.team or _("(no team)"), []).append(names.get(e.person_id, "?"))
    pairs = tuple(
        (f"{team} ({len(people)}, {totals.teams.get(team, 0)} pts)", ", ".join(sorted(people)))
        for team, people in sorted(rosters.items())
    )
    blocks = [Header(summary), Fields(pairs)] if pairs else [Header(summary), Text(_("No learners yet."))]
    return Message(summary, tuple(blocks))


@verb(
    "team",
    Slug("cohort"),
    Word("learner"),
    Word("team"),
    summary="move a learner to a team (their points so far stay with their old team)",
    example="team spring-onboarding @alice blue",
    staff_only=True,
)
async def move_verb(ctx: Ctx, cohort: str, learner: str, team: str) -> Reply:
    row = await ctx.staff_cohort(cohort, N_("move learners between teams"))
    name = team.lower()
    if not TEAM_RE.match(name):
        raise UserError(
            _("'{team}' is not a valid team name: use letters, digits, - and _ (up to 31).", team=team)
        )
    person = await ctx.person(learner)
    enrolment = await ctx.enrolment(row, person.id or 0)
    if enrolment is None or enrolment.role != "learner" or enrolment.status != "active":
        raise UserError(
            _("{name} is not an active learner of '{cohort}'.", name=person.display_name, cohort=row.slug)
        )
    if enrolment.team == name:
        raise UserError(
            _("{name} is already in team {team}. Nothing was changed.", name=person.display_name, team=name)
        )
    previous = enrolment.team
    await ctx.dms([await assign_team(ctx, row, enrolment, name)], cohort_id=row.id)
    was = (
        " " + _("(from {team}; the points they earned there stay with {team})", team=previous)
        if previous
        else ""
    )
    return say(_("{name} is now in team *{team}*{was}.", name=person.display_name, team=name, was=was))
