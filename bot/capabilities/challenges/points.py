"""Points verbs: award points by hand with a reason, see and change a cohort's rules, recompute from the
log; and each learner's points in `status`."""

from __future__ import annotations

import uuid
from functools import partial

from babel.numbers import format_decimal

from bot.capabilities.challenges.leaderboard import team_standings
from bot.capabilities.challenges.ledger import rebuild, running_totals
from bot.capabilities.challenges.rules import DEFAULT_POINTS, MAX_POINTS, points_rules
from bot.core import i18n, texts
from bot.core.context import Ctx
from bot.core.errors import UserError
from bot.core.grammar import Choice, Number, Rest, Slug, Word
from bot.core.i18n import N_, _, _n
from bot.core.messages import Block, Fields, Header, Message, Reply, Text, say
from bot.core.models import Cohort
from bot.core.registry import learner_status, staff_status, verb


@verb(
    "award",
    Slug("cohort"),
    Word("learner or team:<name>"),
    Number("points", low=-MAX_POINTS, high=MAX_POINTS),
    Rest("reason"),
    summary="give (or take back, with a negative number) points by hand, with a reason everyone sees",
    example="award spring-onboarding @alice 10 helped the whole team with the lab",
    staff_only=True,
)
async def award(ctx: Ctx, cohort: str, learner_or_team_name: str, points: int, reason: str) -> Reply:
    row = await ctx.staff_cohort(cohort, N_("award points"))
    if points == 0:
        raise UserError(_("Award a number of points other than 0."))
    if not reason.strip():
        raise UserError(_("Say why: the reason is shown to the learner and kept in the log."))
    target = learner_or_team_name
    if target.lower().startswith("team:"):
        team = target[5:].lower()
        if team not in {e.team for e in await ctx.learners(row)}:
            raise UserError(
                _("'{cohort}' has no team '{team}'. `teams {cohort}` lists them.", cohort=row.slug, team=team)
            )
        await ctx.log(
            "points.awarded",
            cohort_id=row.id,
            actor_id=ctx.actor.id,
            points=points,
            reason=reason,
            team=team,
            award_id=uuid.uuid4().hex,
        )
        return say(
            _(
                "Team *{team}* gets {points} points: {reason}",
                team=team,
                points=format(points, "+d"),
                reason=reason,
            )
        )
    person = await ctx.person(target)
    enrolment = await ctx.enrolment(row, person.id or 0)
    if enrolment is None or enrolment.role != "learner":
        raise UserError(
            _("{name} is not a learner of '{cohort}'.", name=person.display_name, cohort=row.slug)
        )
    await ctx.log(
        "points.awarded",
        cohort_id=row.id,
        person_id=person.id,
        actor_id=ctx.actor.id,
        points=points,
        reason=reason,
        team=enrolment.team,
        award_id=uuid.uuid4().hex,
    )
    await ctx.dm(
        person.id or 0,
        partial(_awarded_message, format(points, "+d"), row.slug, reason),
        key=f"challenges.award:{row.id}:{person.id}:{ctx.now.isoformat()}:{points}:{reason}"[:255],
        cohort_id=row.id,
    )
    team = " " + _("(for team {team})", team=enrolment.team) if enrolment.team else ""
    return say(
        _(
            "{name} gets {points} points{team}: {reason}",
            name=person.display_name,
            points=format(points, "+d"),
            team=team,
            reason=reason,
        )
    )


def _awarded_message(points: str, cohort: str, reason: str) -> Message:
    text = texts.t("challenges.awarded", points=points, cohort=cohort, reason=reason)
    return Message(text, (Text(text),))


@verb(
    "points",
    Slug("cohort"),
    Choice("what", ("rules", "set", "recompute"), optional=True),
    Word("kind", optional=True),
    Number("n", low=0, high=MAX_POINTS, optional=True),
    summary="your points, the cohort's points rules, or (trainers) change a rule or recompute from the log",
    example="points spring-onboarding set module_on_time 15",
)
async def points_verb(ctx: Ctx, cohort: str, what: str | None, kind: str | None, n: int | None) -> Reply:
    row = await ctx.cohort(cohort)
    if what in ("set", "recompute"):
        await ctx.require_staff(row, N_("change points"))
    elif not await ctx.is_staff(row) and await ctx.role_in(row) is None:
        raise UserError(_("You are not in '{cohort}'. `list` shows your cohorts.", cohort=row.slug))
    if what == "set":
        return await _set_rule(ctx, row, kind, n)
    if kind is not None or n is not None:
        raise UserError(
            _("Only `points {cohort} set <kind> <n>` takes a kind and a number.", cohort=row.slug)
        )
    if what == "recompute":
        before = (await running_totals(ctx.session, row.id or 0)).nonzero()
        after = (await rebuild(ctx.session, row)).nonzero()
        await ctx.log("points.recomputed", cohort_id=row.id, actor_id=ctx.actor.id, matched=before == after)
        verdict = (
            _("They matched the running totals.")
            if before == after
            else _("They differed: the totals are now repaired.")
        )
        recomputed = _("Recomputed the points of *{cohort}* from the activity log.", cohort=row.slug)
        return say(f"{recomputed} {verdict}")
    if what == "rules" or await ctx.is_staff(row):
        return Reply(rules_message(row))
    return Reply(
        Message(
            _("{cohort}: your points", cohort=row.slug),
            tuple(await my_points_blocks(ctx, row, ctx.actor.id or 0)),
        )
    )


async def _set_rule(ctx: Ctx, cohort: Cohort, kind: str | None, n: int | None) -> Reply:
    if kind not in DEFAULT_POINTS or n is None:
        raise UserError(
            _("Say a kind and a number. Kinds: {kinds}.", kinds=", ".join(DEFAULT_POINTS)),
            usage=_("points <cohort> set <kind> <n>"),
        )
    programme = dict(cohort.programme or {})
    programme["points"] = {**(programme.get("points") or {}), kind: n}
    cohort.programme = programme  # a new dict, so the JSON column is saved
    ctx.session.add(cohort)
    await ctx.log("points.rule_set", cohort_id=cohort.id, actor_id=ctx.actor.id, rule=kind, points=n)
    await rebuild(ctx.session, cohort)  # the same rules for everyone: past points follow the new rule
    return say(
        _(
            "*{kind}* is now worth {n} points in *{cohort}*; everyone's points were recomputed.",
            kind=kind,
            n=n,
            cohort=cohort.slug,
        )
    )


def rules_message(cohort: Cohort) -> Message:
    rules = points_rules(cohort)
    pairs = tuple(
        (
            kind,
            f"{points}"
            + ("" if points == DEFAULT_POINTS[kind] else " " + _("(default {n})", n=DEFAULT_POINTS[kind])),
        )
        for kind, points in rules.items()
    )
    title = _("{cohort}: points rules", cohort=cohort.slug)
    return Message(title, (Header(title), Fields(pairs)))


async def my_points_blocks(ctx: Ctx, cohort: Cohort, person_id: int) -> list[Block]:
    totals = await running_totals(ctx.session, cohort.id or 0)
    enrolment = await ctx.enrolment(cohort, person_id)
    pairs = [(_("Your points"), i18n.number(totals.people.get(person_id, 0)))]
    if enrolment is not None and enrolment.team:
        standing = next(
            (t for t in await team_standings(ctx.session, cohort.id or 0) if t.team == enrolment.team), None
        )
        if standing is not None:
            pairs.append(
                (
                    _("Team {team}", team=standing.team),
                    _(
                        "rank {rank}, {per_member} pts/member",
                        rank=standing.rank,
                        per_member=format_decimal(
                            float(standing.per_member), format="0.0", locale=i18n.babel_locale(i18n.current())
                        ),
                    ),
                )
            )
    return [Fields(tuple(pairs))]


@learner_status
async def learner_points(ctx: Ctx, cohort: Cohort, person_id: int) -> list[Block]:
    return await my_points_blocks(ctx, cohort, person_id)


@staff_status
async def staff_points(ctx: Ctx, cohort: Cohort) -> list[Block]:
    teams = await team_standings(ctx.session, cohort.id or 0)
    if not teams:
        return []
    leaders = [t.team for t in teams if t.rank == 1]
    leading = _n("{teams} leads", "{teams} lead", len(leaders), teams=_(" and ").join(leaders))
    return [Text(_("Leaderboard: {leading} (`leaderboard {cohort}`).", leading=leading, cohort=cohort.slug))]
