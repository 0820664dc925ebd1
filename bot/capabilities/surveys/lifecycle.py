"""A survey's life: made (now, on a date, or by a programme rule), opened to the learners,
one follow-up to those who have not answered, closed at its deadline with results to trainers."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any

from sqlmodel import col, select

from bot.capabilities.cohorts.commands import to_utc
from bot.capabilities.surveys.cards import closed_card, survey_card
from bot.capabilities.surveys.models import Survey, SurveyParticipation
from bot.capabilities.surveys.questions import TEMPLATES, check_questions, questions_from_rule
from bot.capabilities.surveys.results import collect, results_message, survey_figures
from bot.core.context import EventContext
from bot.core.errors import UserError
from bot.core.i18n import _
from bot.core.models import Cohort, Enrolment, OutboxMessage, Person
from bot.core.outbox import Recipient, compose

DEFAULT_DAYS_OPEN = 3
OPENS_AT_LOCAL = time(9, 0)  # surveys "on a date" or "on day N" open at 09:00 cohort time


def local_morning(cohort: Cohort, day: date) -> datetime:
    return to_utc(datetime.combine(day, OPENS_AT_LOCAL), cohort.tz)


def programme_day(cohort: Cohort, offset: int) -> date:
    if not cohort.start_date:
        raise UserError(
            _(
                "'{cohort}' has no start date, so day {offset} means nothing: use on=YYYY-MM-DD.",
                cohort=cohort.slug,
                offset=offset,
            )
        )
    return date.fromisoformat(cohort.start_date) + timedelta(days=offset)


def new_survey(
    cohort: Cohort,
    rule: dict[str, Any],
    *,
    opens_at: datetime,
    trigger: str,
    now: datetime,
    created_by: int | None = None,
    origin: str | None = None,
) -> Survey:
    """A Survey row from a definition (template or inline questions), checked, not yet sent."""
    title, questions, template = questions_from_rule(rule)
    check_questions(questions)
    default_days = TEMPLATES[template].days_open if template else DEFAULT_DAYS_OPEN
    days = int(rule.get("deadline_days") or default_days)
    closes_at = opens_at + timedelta(days=days)
    return Survey(
        cohort_id=cohort.id or 0,
        title=title,
        questions=[q.to_dict() for q in questions],
        anonymous=bool(rule.get("anonymous", False)),
        trigger=trigger,
        template=template,
        origin=origin,
        status="scheduled",
        opens_at=opens_at,
        remind_at=opens_at + (closes_at - opens_at) / 2,
        closes_at=closes_at,
        created_by=created_by,
        created_at=now,
    )


def card_key(survey_id: int, person_id: int) -> str:
    return f"survey:{survey_id}:{person_id}"


def reminder_key(survey_id: int, person_id: int) -> str:
    return f"survey-reminder:{survey_id}:{person_id}"


async def open_survey(ctx: EventContext, survey: Survey, cohort: Cohort) -> int:
    """Send the survey to every active learner; returns how many were asked."""
    survey.status = "open"
    if survey.opens_at > ctx.now:
        survey.opens_at = ctx.now
    ctx.session.add(survey)
    await ctx.session.flush()
    learners = await ctx.learners(cohort)
    known = set(
        (
            await ctx.session.exec(
                select(SurveyParticipation.person_id).where(SurveyParticipation.survey_id == survey.id)
            )
        ).all()
    )
    for enrolment in learners:
        if enrolment.person_id not in known:
            ctx.session.add(SurveyParticipation(survey_id=survey.id or 0, person_id=enrolment.person_id))
    card = partial(survey_card, survey, cohort.tz)
    sid = survey.id or 0
    await ctx.dms(
        [Recipient(e.person_id, card_key(sid, e.person_id), card) for e in learners], cohort_id=cohort.id
    )
    await ctx.log("survey.opened", cohort_id=cohort.id, survey_id=sid, asked=len(learners))
    return len(learners)


async def remind_survey(ctx: EventContext, survey: Survey, cohort: Cohort) -> int:
    """The one follow-up: to active learners who were asked and have not answered yet."""
    if survey.status != "open":
        return 0
    rows = await ctx.session.exec(
        select(SurveyParticipation.person_id)
        .join(Enrolment, col(Enrolment.person_id) == SurveyParticipation.person_id)
        .where(
            SurveyParticipation.survey_id == survey.id,
            col(SurveyParticipation.answered).is_(False),
            Enrolment.cohort_id == cohort.id,
            Enrolment.status == "active",
        )
    )
    pending = list(rows.all())
    card = partial(survey_card, survey, cohort.tz, reminder=True)
    sid = survey.id or 0
    await ctx.dms([Recipient(pid, reminder_key(sid, pid), card) for pid in pending], cohort_id=cohort.id)
    await ctx.log("survey.reminded", cohort_id=cohort.id, survey_id=sid, reminded=len(pending))
    return len(pending)


async def close_survey(ctx: EventContext, survey: Survey, cohort: Cohort) -> None:
    """Close: no more answers, every card replaced by the same closed card, results to the staff."""
    if survey.status == "closed":
        return
    sid = survey.id or 0
    survey.figures = (await survey_figures(ctx.session, [survey]))[sid]
    survey.status = "closed"
    survey.closed_at = ctx.now
    ctx.session.add(survey)
    asked_langs = dict(
        (
            await ctx.session.exec(
                select(SurveyParticipation.person_id, Person.lang)
                .join(Person, col(Person.id) == SurveyParticipation.person_id)
                .where(SurveyParticipation.survey_id == sid)
            )
        ).all()
    )
    # The same closed card for everyone who reads a language: it says nothing of who answered.
    closed = {
        lang: compose(partial(closed_card, survey, cohort.tz), lang)
        for lang in {lang or cohort.lang for lang in asked_langs.values()}
    }
    reader = {
        k: asked_langs[pid] or cohort.lang
        for pid in asked_langs
        for k in (card_key(sid, pid), reminder_key(sid, pid))
    }
    keys = list(reader)
    sent = set(
        (await ctx.session.exec(select(OutboxMessage.key).where(col(OutboxMessage.key).in_(keys)))).all()
    )
    for key in keys:
        if key in sent:  # only cards that were queued (people without a reminder have none to close)
            await ctx.update_message(key, closed[reader[key]], key=f"{key}:closed")
    results = partial(results_message, await collect(ctx.session, survey), cohort.tz)
    staff = await ctx.session.exec(
        select(Enrolment.person_id).where(
            Enrolment.cohort_id == cohort.id,
            col(Enrolment.role).in_(["admin", "trainer"]),
            Enrolment.status == "active",
        )
    )
    await ctx.dms(
        [Recipient(pid, f"survey-results:{sid}:{pid}", results) for pid in staff.all()], cohort_id=cohort.id
    )
    await ctx.log("survey.closed", cohort_id=cohort.id, survey_id=sid)
