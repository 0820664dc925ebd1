"""Survey results: tallies, the results card trainers see, the CSV export, and the cohort KPI."""

from __future__ import annotations

import asyncio
import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean
from typing import Any

import sqlalchemy as sa
from babel.numbers import format_decimal
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.surveys.cards import prompt_of, questions_of, survey_title
from bot.capabilities.surveys.models import Survey, SurveyBallot, SurveyParticipation
from bot.capabilities.surveys.questions import QuestionSpec
from bot.core import i18n, texts
from bot.core.cells import safe_row
from bot.core.errors import UserError
from bot.core.i18n import _, _n
from bot.core.messages import Block, Fields, Header, Message, Progress, Text
from bot.core.models import Cohort, Person
from bot.core.registry import kpi
from bot.core.store import Store

# Below this many answers an anonymous survey shows no results (nor CSV, nor KPI figures):
# with one or two answers, who answered (known, for reminders) would give away what they said.
MIN_ANONYMOUS_BALLOTS = 3


@dataclass
class QuestionTally:
    spec: QuestionSpec
    counts: Counter[str] = field(default_factory=Counter)
    numbers: list[int] = field(default_factory=list)
    comments: list[tuple[str, str | None]] = field(default_factory=list)  # (text, name if named)
    answered: int = 0

    def choices(self) -> tuple[str, ...]:
        if self.spec.kind == "rating":
            return ("1", "2", "3", "4", "5")
        if self.spec.kind == "nps":
            return tuple(str(i) for i in range(11))
        if self.spec.kind == "yesno":
            return ("yes", "no")
        return self.spec.options


@dataclass
class Results:
    survey: Survey
    participants: int
    respondents: int
    ballots: list[tuple[SurveyBallot, str | None]]  # with the respondent's name on named surveys
    tallies: list[QuestionTally]
    withheld: bool = False  # an anonymous survey with too few answers to show them

    @property
    def response_rate(self) -> float | None:
        return self.respondents / self.participants if self.participants else None


def nps_score(values: list[int]) -> int | None:
    """Net promoter score: % of 9-10 minus % of 0-6, from -100 to 100."""
    if not values:
        return None
    promoters = sum(1 for v in values if v >= 9)
    detractors = sum(1 for v in values if v <= 6)
    return round(100 * (promoters - detractors) / len(values))


async def collect(session: AsyncSession, survey: Survey) -> Results:
    participations = list(
        (
            await session.exec(select(SurveyParticipation).where(SurveyParticipation.survey_id == survey.id))
        ).all()
    )
    names: dict[str, str] = {}
    if not survey.anonymous:
        linked = {p.ballot_id: p.person_id for p in participations if p.ballot_id}
        people = await session.exec(select(Person).where(col(Person.id).in_(list(linked.values()))))
        by_id = {p.id: p.display_name for p in people.all()}
        names = {ballot: by_id.get(pid, "?") for ballot, pid in linked.items()}
    # Only complete ballots count; the random ids make this order meaningless, on purpose.
    rows = await session.exec(
        select(SurveyBallot)
        .where(SurveyBallot.survey_id == survey.id, col(SurveyBallot.complete).is_(True))
        .order_by(col(SurveyBallot.id))
    )
    ballots = [(b, names.get(b.id)) for b in rows.all()]
    withheld = survey.anonymous and 0 < len(ballots) < MIN_ANONYMOUS_BALLOTS
    if withheld:
        ballots = []
    tallies = [QuestionTally(q) for q in questions_of(survey)]
    for ballot, name in ballots:
        for tally in tallies:
            value = ballot.answers.get(tally.spec.id)
            if value in (None, "", []):
                continue
            tally.answered += 1
            if tally.spec.kind == "text":
                tally.comments.append((str(value), name))
            elif isinstance(value, list):
                tally.counts.update(value)
            else:
                tally.counts[str(value)] += 1
                if isinstance(value, int):
                    tally.numbers.append(value)
    for tally in tallies:
        tally.comments.sort(key=lambda c: (c[1] or "", c[0]))  # anonymous: alphabetical, no order leaks
    answered = sum(1 for p in participations if p.answered)
    return Results(survey, len(participations), answered, ballots, tallies, withheld)


def results_message(results: Results, tz: str) -> Message:
    survey = results.survey
    rate = results.response_rate
    rate_text = f"{results.respondents}/{results.participants}" + (
        f" ({i18n.percent(rate)})" if rate is not None else ""
    )
    when = texts.local_time(survey.closed_at or survey.closes_at, tz)
    if survey.status == "closed":
        state = _("closed {when}", when=when)
    else:
        state = _("{status}, closes {when}", status=_(survey.status), when=when)
    title = survey_title(survey)
    blocks: list[Block] = [
        Header(_("Results: {title} (#{id})", title=title, id=survey.id)),
        Fields(
            (
                (_("Responses"), rate_text),
                (_("Status"), state),
                (_("Anonymous"), _("yes") if survey.anonymous else _("no")),
            )
        ),
        Progress(_("Response rate"), results.respondents, results.participants),
    ]
    if results.withheld:
        blocks.append(
            Text(
                _(
                    "An anonymous survey shows its results from {n} answers on, "
                    "so that no one's answers can be singled out.",
                    n=MIN_ANONYMOUS_BALLOTS,
                )
            )
        )
        return Message(_("Results: {title}", title=title), tuple(blocks))
    if not results.ballots:
        blocks.append(Text(_("No complete answers yet.")))
    for i, tally in enumerate(results.tallies, 1):
        blocks.append(Text(f"*{i}. {prompt_of(tally.spec)}*{_headline(tally)}"))
        if tally.spec.kind == "text":
            lines = [f"• {text}" + (f" ({name})" if name else "") for text, name in tally.comments]
            blocks.append(Text("\n".join(lines) or _("(no comments)")))
            continue
        for choice in tally.choices():
            shown = _(choice) if tally.spec.kind == "yesno" else choice
            blocks.append(Progress(shown, tally.counts.get(choice, 0), tally.answered))
    return Message(_("Results: {title}", title=title), tuple(blocks))


def _headline(tally: QuestionTally) -> str:
    answers = _n("{n} answer", "{n} answers", tally.answered)
    if tally.spec.kind == "rating" and tally.numbers:
        average = format_decimal(mean(tally.numbers), format="0.0", locale=i18n.babel_locale(i18n.current()))
        return "  " + _("average {average} / 5 ({answers})", average=average, answers=answers)
    if tally.spec.kind == "nps" and tally.numbers:
        promoters = sum(1 for v in tally.numbers if v >= 9)
        detractors = sum(1 for v in tally.numbers if v <= 6)
        return "  " + _(
            "NPS {score} ({answers}: {promoters} promoters at 9-10, {detractors} detractors at 0-6)",
            score=format(nps_score(tally.numbers), "+d"),
            answers=answers,
            promoters=promoters,
            detractors=detractors,
        )
    if tally.spec.kind == "text":
        return "  (" + _n("{n} comment", "{n} comments", tally.answered) + ")"
    return f"  ({answers})"


def summary_line(results: Results) -> str:
    """One line per survey, for lists, the demo and status."""
    parts = [
        _(
            "#{id} {title}: {respondents}/{participants} answered",
            id=results.survey.id,
            title=survey_title(results.survey),
            respondents=results.respondents,
            participants=results.participants,
        )
    ]
    for tally in results.tallies:
        if tally.spec.kind == "rating" and tally.numbers:
            average = format_decimal(
                mean(tally.numbers), format="0.0", locale=i18n.babel_locale(i18n.current())
            )
            parts.append(_("avg {average}/5", average=average))
        if tally.spec.kind == "nps" and tally.numbers:
            parts.append(f"NPS {nps_score(tally.numbers):+d}")
    return ", ".join(parts)


def results_csv(results: Results) -> str:
    """One row per complete ballot: the respondent (named surveys) or a running number."""
    out = io.StringIO()
    writer = csv.writer(out)
    specs = [t.spec for t in results.tallies]
    writer.writerow(safe_row([_("respondent"), *(f"{q.id} ({q.kind}) {prompt_of(q)}" for q in specs)]))
    rows = []
    for n, (ballot, name) in enumerate(results.ballots, 1):
        cells = [
            "; ".join(v) if isinstance(v := ballot.answers.get(q.id, ""), list) else str(v) for q in specs
        ]
        rows.append(safe_row([name or _("anonymous {n}", n=n), *cells]))
    writer.writerows(sorted(rows) if not results.survey.anonymous else rows)
    return out.getvalue()


async def export_csv(session: AsyncSession, survey: Survey, cohort: Cohort, directory: Path) -> Path:
    """Write the survey's CSV into `directory` (off the event loop); returns the file's path."""
    path = directory / f"survey-{cohort.slug}-{survey.id}.csv"
    results = await collect(session, survey)
    with i18n.use(cohort.lang):  # a document for the training's records: the cohort's language
        text = results_csv(results)
    await asyncio.to_thread(_write, path, text)
    return path


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


FIGURES = ("ballots", "rating_sum", "rating_n", "promoters", "detractors", "nps_n", "asked", "answered")


async def survey_figures(session: AsyncSession, surveys: list[Survey]) -> dict[int, dict[str, int]]:
    """Sums behind the KPI, per survey, computed in SQL (JSON_EXTRACT / ->>) in one pass over the
    ballots and one over the participations: a cohort of 10,000 has ~100,000 ballots."""
    if not surveys:
        return {}
    by_id = {s.id or 0: s for s in surveys}
    figures = {sid: dict.fromkeys(FIGURES, 0) for sid in by_id}
    qids = sorted({q["id"] for s in surveys for q in s.questions if q["kind"] in ("rating", "nps")})
    columns: list[Any] = [col(SurveyBallot.survey_id), func.count()]
    for qid in qids:
        value = col(SurveyBallot.answers)[qid].as_integer()
        columns += [
            func.sum(value),
            func.count(value),
            func.sum(sa.case((value >= 9, 1), else_=0)),
            func.sum(sa.case((value <= 6, 1), else_=0)),
        ]
    rows = await session.exec(
        select(*columns)
        .where(col(SurveyBallot.survey_id).in_(list(by_id)), col(SurveyBallot.complete).is_(True))
        .group_by(col(SurveyBallot.survey_id))
    )
    for sid, ballots, *sums in rows.all():
        f = figures[sid]
        f["ballots"] = ballots
        kinds = {q["id"]: q["kind"] for q in by_id[sid].questions}
        for i, qid in enumerate(qids):
            total, n, high, low = (int(x or 0) for x in sums[4 * i : 4 * i + 4])
            if kinds.get(qid) == "rating":
                f["rating_sum"] += total
                f["rating_n"] += n
            elif kinds.get(qid) == "nps":
                f["nps_n"] += n
                f["promoters"] += high
                f["detractors"] += low
    asked = await session.exec(
        select(
            col(SurveyParticipation.survey_id),
            func.count(),
            func.sum(sa.cast(SurveyParticipation.answered, sa.Integer)),
        )
        .where(col(SurveyParticipation.survey_id).in_(list(by_id)))
        .group_by(col(SurveyParticipation.survey_id))
    )
    for sid, n, answered in asked.all():
        figures[sid]["asked"], figures[sid]["answered"] = n, int(answered or 0)
    return figures


@kpi("satisfaction")
async def satisfaction(session: AsyncSession, cohort: Cohort) -> dict[str, Any]:
    """Satisfaction figures for reports and digests, over every survey the cohort has sent."""
    sent = list(
        (
            await session.exec(
                select(Survey).where(Survey.cohort_id == cohort.id, col(Survey.status) != "scheduled")
            )
        ).all()
    )
    figures = {s.id or 0: s.figures for s in sent if s.status == "closed" and s.figures}
    figures.update(await survey_figures(session, [s for s in sent if (s.id or 0) not in figures]))
    total = dict.fromkeys(FIGURES, 0)
    for survey in sent:
        f = figures[survey.id or 0]
        if survey.anonymous and f["ballots"] < MIN_ANONYMOUS_BALLOTS:
            f = {**f, **dict.fromkeys(FIGURES[:6], 0)}  # too few to show: counted as asked only
        for key in FIGURES:
            total[key] += f[key]
    return {
        "satisfaction_avg": round(total["rating_sum"] / total["rating_n"], 2) if total["rating_n"] else None,
        "nps": round(100 * (total["promoters"] - total["detractors"]) / total["nps_n"])
        if total["nps_n"]
        else None,
        "survey_response_rate": round(total["answered"] / total["asked"], 3) if total["asked"] else None,
        "surveys": len(sent),
    }


async def export_cohort(store: Store, slug: str, survey_id: int | None, directory: Path) -> list[Path]:
    """CSV files of a cohort's surveys (or of one of them), for `cohortbot export surveys`."""
    async with store.transaction() as session:
        cohort = (await session.exec(select(Cohort).where(Cohort.slug == slug.lower()))).first()
        if cohort is None:
            raise UserError(_("There is no cohort '{cohort}'.", cohort=slug))
        query = select(Survey).where(Survey.cohort_id == cohort.id, col(Survey.status) != "scheduled")
        if survey_id is not None:
            query = query.where(Survey.id == survey_id)
        surveys = list((await session.exec(query.order_by(col(Survey.id)))).all())
        if survey_id is not None and not surveys:
            raise UserError(_("'{cohort}' has no sent survey #{id}.", cohort=cohort.slug, id=survey_id))
        return [await export_csv(session, survey, cohort, directory) for survey in surveys]
