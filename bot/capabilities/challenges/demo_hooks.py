"""The demo's challenges: a quiz and a task posted by the trainer (streaks are on by default), and the
final leaderboard and winners."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from bot.capabilities.challenges.cards import label, title_of
from bot.capabilities.challenges.leaderboard import leaderboard_message
from bot.capabilities.challenges.ledger import recomputed_totals, running_totals
from bot.capabilities.challenges.names import display_names
from bot.capabilities.challenges.tables import Challenge
from bot.core.i18n import _, _n
from bot.core.models import Cohort
from bot.core.registry import demo_section, demo_setup
from bot.core.render_text import render_text


@demo_setup(50)
async def post_demo_challenges(demo: Any) -> None:
    from bot.core.demo_script import COHORT, START, TRAINER

    quiz_until = START + timedelta(days=2, hours=10)
    task_until = START + timedelta(days=11)
    await demo.say(
        TRAINER,
        f'challenge {COHORT} quiz "Which port does HTTPS use by default?" *443 80 8080 22 '
        f"until={quiz_until:%Y-%m-%dT%H:%M}",
    )
    await demo.say(
        TRAINER,
        f'challenge {COHORT} task "Share one tip from module 1 in the channel" '
        f"until={task_until:%Y-%m-%d} points=30",
    )


@demo_section(50)
async def print_leaderboard(demo: Any) -> None:
    from bot.core.demo_script import COHORT

    async with demo.app.store.transaction() as session:
        cohort = (await session.exec(select(Cohort).where(Cohort.slug == COHORT))).one()
        demo.print(_("-- challenges and points --"))
        demo.print(render_text(await leaderboard_message(session, cohort, individual_top=5)))
        challenges = (
            await session.exec(
                select(Challenge).where(Challenge.cohort_id == cohort.id).order_by(col(Challenge.id))
            )
        ).all()
        for c in challenges:
            people = c.result.get("people") or []
            names = await display_names(session, people)
            shown = ", ".join(sorted(names.values())[:6]) + (" ..." if len(people) > 6 else "")
            winners = _n(
                "{n} winner x {points} pts: {names}",
                "{n} winners x {points} pts: {names}",
                len(people),
                points=c.points,
                names=shown or _("none"),
            )
            if c.result.get("teams"):
                winners = (
                    _n(
                        "team {teams}",
                        "teams {teams}",
                        len(c.result["teams"]),
                        teams=_(" and ").join(c.result["teams"]),
                    )
                    + ", "
                    + winners
                )
            demo.print(f"  {label(c)} ({title_of(c)}): {winners}")
        running = (await running_totals(session, cohort.id or 0)).nonzero()
        replayed = (await recomputed_totals(session, cohort)).nonzero()
        demo.print(
            "  "
            + (
                _("totals recomputed from the activity log match the running totals")
                if running == replayed
                else _("totals recomputed from the activity log DIFFER from the running totals")
            )
        )
