"""The demo's part: a session-feedback survey after every session and an anonymous end-of-course
survey, defined by the trainer's commands; at the end, the results as trainers see them."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from bot.capabilities.surveys.models import Survey
from bot.capabilities.surveys.results import collect, summary_line
from bot.core import i18n
from bot.core.i18n import _
from bot.core.models import Cohort
from bot.core.registry import KPIS, demo_section, demo_setup


@demo_setup(60)
async def add_demo_surveys(demo: Any) -> None:
    from bot.core.demo_script import COHORT, TRAINER, WEEKS

    await demo.say(TRAINER, f"survey {COHORT} template=session-feedback after=session")
    last_friday = 7 * (WEEKS - 1) + 4
    await demo.say(TRAINER, f"survey {COHORT} template=end-of-course day={last_friday} anonymous=yes days=3")


@demo_section(60)
async def show_survey_results(demo: Any) -> None:
    from bot.core.demo_script import COHORT, TRAINER

    demo.print(_("-- surveys --"))
    async with demo.app.store.transaction() as session:
        cohort = (await session.exec(select(Cohort).where(Cohort.slug == COHORT))).one()
        surveys = list(
            (
                await session.exec(
                    select(Survey).where(Survey.cohort_id == cohort.id).order_by(col(Survey.id))
                )
            ).all()
        )
        for survey in surveys:
            demo.print(f"  {summary_line(await collect(session, survey))} ({_(survey.status)})")
        figures = await KPIS["satisfaction"](session, cohort)
    avg, nps, rate = figures["satisfaction_avg"], figures["nps"], figures["survey_response_rate"]
    demo.print(
        "  "
        + _(
            "satisfaction for reports: average {average}, NPS {nps}, response rate {rate} over {n} surveys",
            average=_("n/a") if avg is None else f"{i18n.number(avg)}/5",
            nps=_("n/a") if nps is None else f"{nps:+d}",
            rate=_("n/a") if rate is None else i18n.percent(rate),
            n=figures["surveys"],
        )
    )
    # The end-of-course survey in full: anonymous, so its comments carry no names.
    final = [s for s in surveys if s.template == "end-of-course"] or surveys
    if final:
        await demo.say(TRAINER, f"survey {COHORT} results {final[-1].id}")
