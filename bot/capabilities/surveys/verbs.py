"""The `survey` command trainers use, the answer action learners press, and status lines."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import col, select

from bot.capabilities.surveys.ballots import ballot_secret, record
from bot.capabilities.surveys.cards import ANSWER_ACTION, questions_of, survey_card, survey_title
from bot.capabilities.surveys.lifecycle import (
    close_survey,
    local_morning,
    new_survey,
    open_survey,
    programme_day,
)
from bot.capabilities.surveys.models import Survey, SurveyParticipation
from bot.capabilities.surveys.planning import rule_key, validate_section
from bot.capabilities.surveys.questions import TEMPLATES, normalise_answer, parse_specs
from bot.capabilities.surveys.results import collect, export_csv, results_message, summary_line
from bot.core import texts
from bot.core.context import Ctx
from bot.core.errors import UserError
from bot.core.exports import cohort_folder
from bot.core.grammar import Choice, Many, Number, Slug, Word
from bot.core.i18n import N_, Np_, _, _n
from bot.core.messages import Block, Header, Message, Progress, Reply, Text, say
from bot.core.models import Cohort
from bot.core.registry import action, learner_status, staff_status, verb

STATUS_WORDS = (N_("scheduled"), N_("open"), N_("closed"))  # stored in English, shown with _()
WHAT = ("new", "list", "send", "results", "close", "export")


@verb(
    "survey",
    Slug("cohort"),
    Choice("what", WHAT, optional=True),
    Many("details", minimum=0),
    summary="micro-surveys: define (new or template=), list, send, results, close, export",
    options={
        "template": Choice("name", tuple(TEMPLATES)),
        "after": Choice("session|module", ("session", "module")),
        "on": Word("YYYY-MM-DD|now"),
        "day": Number("day", low=0, high=3650),
        "days": Number("days open", low=1, high=60),
        "anonymous": Choice("yes|no", ("yes", "no")),
    },
    example="survey spring-onboarding template=session-feedback after=session anonymous=yes",
    staff_only=True,
)
async def survey_command(
    ctx: Ctx,
    cohort: str,
    what: str | None,
    details: list[str],
    template: str | None,
    after: str | None,
    on: str | None,
    day: int | None,
    days: int | None,
    anonymous: str | None,
) -> Reply:
    row = await ctx.staff_cohort(cohort, N_("manage surveys"))
    if what in (None, "new"):
        rule = _definition(what, details, template, anonymous, days)
        return await _schedule(ctx, row, rule, after=after, on=on, day=day)
    if after or on or day is not None or template or anonymous or days:
        raise UserError(
            _("Options like after=, on=, template= go with a new survey, not with `{what}`.", what=what)
        )
    if what == "list":
        return Reply(await _list(ctx, row))
    survey = await _survey_arg(ctx, row, details)
    if what == "send":
        if survey.status != "scheduled":
            raise UserError(_("Survey #{id} is already {status}.", id=survey.id, status=_(survey.status)))
        window = survey.closes_at - survey.opens_at
        survey.opens_at, survey.closes_at = ctx.now, ctx.now + window
        survey.remind_at = ctx.now + window / 2
        asked = await open_survey(ctx, survey, row)
        return say(
            _n(
                "Sent survey #{id} *{title}* to {n} learner.",
                "Sent survey #{id} *{title}* to {n} learners.",
                asked,
                id=survey.id,
                title=survey_title(survey),
            )
        )
    if what == "close":
        if survey.status != "open":
            raise UserError(
                _(
                    "Survey #{id} is {status}: only an open survey can be closed.",
                    id=survey.id,
                    status=_(survey.status),
                )
            )
        await close_survey(ctx, survey, row)
        return Reply(results_message(await collect(ctx.session, survey), row.tz))
    if what == "export":
        path = await export_csv(
            ctx.session, survey, row, cohort_folder(ctx.settings.export_dir, row.slug, "surveys")
        )
        # The file name only: a chat reply does not show the server's folders.
        return say(
            _(
                "Exported survey #{id} as `{file}` to the export folder's `{cohort}/surveys/`.",
                id=survey.id,
                file=path.name,
                cohort=row.slug,
            )
        )
    return Reply(results_message(await collect(ctx.session, survey), row.tz))


def _definition(
    what: str | None, details: list[str], template: str | None, anonymous: str | None, days: int | None
) -> dict[str, Any]:
    """The rule a trainer defined: a template, or `new "<title>" "<kind>:<prompt>" ...`."""
    if what == "new":
        if template:
            raise UserError(_('Use either template=<name> or `new "<title>" <questions...>`, not both.'))
        if len(details) < 2:
            raise UserError(
                _('Give a title and 1 to 5 questions, e.g. new "Pace check" "rating:How is the pace?"')
            )
        questions = parse_specs(details[1:])
        rule: dict[str, Any] = {
            "title": details[0],
            "questions": [
                {"kind": q.kind, "prompt": q.prompt, "options": list(q.options)} for q in questions
            ],
        }
    elif template:
        if details:
            raise UserError(_("Unexpected '{words}' after a template survey.", words=" ".join(details)))
        rule = {"template": template}
    else:
        names = ", ".join(TEMPLATES)
        raise UserError(
            _('Say which survey: template=<{names}>, or new "<title>" <questions...>.', names=names)
        )
    if anonymous:
        rule["anonymous"] = anonymous == "yes"
    if days:
        rule["deadline_days"] = days
    return rule


async def _schedule(
    ctx: Ctx, cohort: Cohort, rule: dict[str, Any], *, after: str | None, on: str | None, day: int | None
) -> Reply:
    if sum(x is not None for x in (after, on, day)) > 1:
        raise UserError(_("Say when with one of after=, on= or day=, not several."))
    if rule.get("anonymous"):
        ballot_secret(ctx.settings)  # refuse now, not at the first answer, if no secret can be had
    anonymous = bool(rule.get("anonymous"))
    if after:
        rules = list((cohort.programme or {}).get("surveys") or [])
        rule["after"] = after
        if rule_key(rule) in {rule_key(r) for r in rules if isinstance(r, dict)}:
            raise UserError(
                _("'{cohort}' already has this survey after every {after}.", cohort=cohort.slug, after=after)
            )
        problems = validate_section([rule])
        if problems:
            raise UserError(_("This survey cannot be added: {problem}.", problem=problems[0][1]))
        cohort.programme = {**(cohort.programme or {}), "surveys": [*rules, rule]}
        ctx.session.add(cohort)
        await ctx.log("survey.rule_added", cohort_id=cohort.id, actor_id=ctx.actor.id, rule=rule)
        title = rule.get("title") or _(TEMPLATES[rule["template"]].title)
        added = (
            N_("Added to *{cohort}*: an anonymous *{title}* survey after every {after}.")
            if rule.get("anonymous")
            else N_("Added to *{cohort}*: a named *{title}* survey after every {after}.")
        )
        return say(_(added, cohort=cohort.slug, title=title, after=after))
    if day is not None:
        opens_at, trigger = local_morning(cohort, programme_day(cohort, day)), "date"
    elif on and on.lower() != "now":
        try:
            opens_at, trigger = local_morning(cohort, date.fromisoformat(on)), "date"
        except ValueError:
            raise UserError(_("'{on}' is not a date: use on=YYYY-MM-DD or on=now.", on=on)) from None
    else:
        opens_at, trigger = ctx.now, "now"
    if opens_at < ctx.now and trigger == "date":
        raise UserError(
            _(
                "{when} is in the past: pick a later date, or on=now.",
                when=texts.local_time(opens_at, cohort.tz),
            )
        )
    survey = new_survey(
        cohort, rule, opens_at=opens_at, trigger=trigger, now=ctx.now, created_by=ctx.actor.id
    )
    ctx.session.add(survey)
    await ctx.session.flush()
    await ctx.log("survey.created", cohort_id=cohort.id, actor_id=ctx.actor.id, survey_id=survey.id)
    closes = texts.local_time(survey.closes_at, cohort.tz)
    if trigger == "now":
        asked = await open_survey(ctx, survey, cohort)
        sent = (
            Np_(
                "Sent anonymous survey #{id} *{title}* to {n} learner; closes {closes}.",
                "Sent anonymous survey #{id} *{title}* to {n} learners; closes {closes}.",
            )
            if anonymous
            else Np_(
                "Sent named survey #{id} *{title}* to {n} learner; closes {closes}.",
                "Sent named survey #{id} *{title}* to {n} learners; closes {closes}.",
            )
        )
        return say(_n(sent[0], sent[1], asked, id=survey.id, title=survey_title(survey), closes=closes))
    when = texts.local_time(opens_at, cohort.tz)
    scheduled = (
        N_("Scheduled anonymous survey #{id} *{title}* for {when}; closes {closes}.")
        if anonymous
        else N_("Scheduled named survey #{id} *{title}* for {when}; closes {closes}.")
    )
    return say(_(scheduled, id=survey.id, title=survey_title(survey), when=when, closes=closes))


async def _survey_arg(ctx: Ctx, cohort: Cohort, details: list[str]) -> Survey:
    if len(details) != 1 or not details[0].lstrip("#").isdigit():
        raise UserError(
            _(
                "Say which survey by its number, e.g. `survey {cohort} results 3` (see `list`).",
                cohort=cohort.slug,
            )
        )
    survey = await ctx.session.get(Survey, int(details[0].lstrip("#")))
    if survey is None or survey.cohort_id != cohort.id:
        raise UserError(
            _(
                "There is no survey #{id} in '{cohort}'. `survey {cohort} list`",
                id=details[0].lstrip("#"),
                cohort=cohort.slug,
            )
        )
    return survey


async def _list(ctx: Ctx, cohort: Cohort) -> Message:
    surveys = (
        await ctx.session.exec(select(Survey).where(Survey.cohort_id == cohort.id).order_by(col(Survey.id)))
    ).all()
    lines = [f"• {summary_line(await collect(ctx.session, s))} ({_(s.status)})" for s in surveys]
    rules = (cohort.programme or {}).get("surveys") or []
    rule_lines = [f"• {_describe_rule(r)}" for r in rules if isinstance(r, dict)]
    blocks: list[Block] = [
        Header(_("{cohort}: surveys", cohort=cohort.slug)),
        Text("\n".join(lines) or _("No surveys yet.")),
        Text(_("*Programme rules*") + "\n" + ("\n".join(rule_lines) or _("none"))),
        Text(
            _("*Templates*: ")
            + ", ".join(
                f"{t.name} ({_n('{n} question', '{n} questions', len(t.questions))})"
                for t in TEMPLATES.values()
            )
        ),
    ]
    return Message(_("{cohort}: surveys", cohort=cohort.slug), tuple(blocks))


def _describe_rule(rule: dict[str, Any]) -> str:
    what = rule.get("template") or rule.get("title") or _("survey")
    if "after" in rule:
        when = _("after every {after}", after=rule["after"])
    elif "on_day" in rule:
        when = _("on day {day}", day=rule["on_day"])
    else:
        when = _("on {date}", date=rule.get("on_date"))
    return f"{what} {when}" + (" " + _("(anonymous)") if rule.get("anonymous") else "")


@action(ANSWER_ACTION)
async def answer(ctx: Ctx, value: str, inputs: dict[str, str]) -> Reply:
    """A learner's answer: one question (a Slack or console click) or a whole card (Teams submit)."""
    survey = await ctx.session.get(Survey, int(value)) if value.isdigit() else None
    if survey is None:
        raise UserError(_("This survey no longer exists: nothing was recorded."))
    cohort = await ctx.session.get_one(Cohort, survey.cohort_id)
    if survey.status != "open" or ctx.now >= survey.closes_at:
        when = texts.local_time(survey.closed_at or survey.closes_at, ctx.actor.tz or cohort.tz)
        if survey.status == "scheduled":
            refusal = _(
                "*{title}* is not open yet: your answer was not recorded.", title=survey_title(survey)
            )
        else:
            refusal = _(
                "*{title}* closed {when}: your answer was not recorded.",
                title=survey_title(survey),
                when=when,
            )
        raise UserError(refusal)
    enrolment = await ctx.enrolment(cohort, ctx.actor.id or 0)
    if enrolment is None or enrolment.role != "learner" or enrolment.status != "active":
        raise UserError(
            _(
                "Only learners of '{cohort}' answer its surveys: your answer was not recorded.",
                cohort=cohort.slug,
            )
        )
    specs = {q.id: q for q in questions_of(survey)}
    # Empty inputs are questions left blank on a card submit; keys we do not know are card data.
    answers = {
        key: normalise_answer(specs[key], str(raw))
        for key, raw in inputs.items()
        if key in specs and str(raw).strip()
    }
    if not answers:
        raise UserError(_("Pick an answer first: nothing was recorded."))
    participation = (
        await ctx.session.exec(
            select(SurveyParticipation).where(
                SurveyParticipation.survey_id == survey.id, SurveyParticipation.person_id == ctx.actor.id
            )
        )
    ).first() or SurveyParticipation(survey_id=survey.id or 0, person_id=ctx.actor.id or 0)
    recorded = await record(ctx, survey, participation, answers)
    if recorded.first_completion:
        await ctx.log("survey.answered", cohort_id=cohort.id, person_id=ctx.actor.id, survey_id=survey.id)
    tz = ctx.actor.tz or cohort.tz
    if recorded.complete:
        line = texts.t("surveys.thanks", deadline=texts.local_time(survey.closes_at, tz))
    else:
        left = sum(1 for q in specs.values() if q.required and q.id not in recorded.answers)
        line = texts.t("surveys.partial", n=left)
    # An anonymous card never echoes answers: the chat platform keeps (and can export) it.
    shown = None if survey.anonymous else recorded.answers
    return Reply(survey_card(survey, tz, answers=shown, status_line=line), "replace")


@learner_status
async def learner_surveys(ctx: Ctx, cohort: Cohort, person_id: int) -> list[Block]:
    rows = await ctx.session.exec(
        select(Survey)
        .join(SurveyParticipation, col(SurveyParticipation.survey_id) == Survey.id)
        .where(
            Survey.cohort_id == cohort.id,
            Survey.status == "open",
            SurveyParticipation.person_id == person_id,
            col(SurveyParticipation.answered).is_(False),
        )
    )
    waiting = [
        _("*{title}* (closes {when})", title=survey_title(s), when=texts.local_time(s.closes_at, cohort.tz))
        for s in rows.all()
    ]
    return (
        [Text(_("Surveys waiting for your answer: {surveys}", surveys="; ".join(waiting)))] if waiting else []
    )


@staff_status
async def staff_surveys(ctx: Ctx, cohort: Cohort) -> list[Block]:
    rows = await ctx.session.exec(
        select(Survey).where(Survey.cohort_id == cohort.id, Survey.status == "open")
    )
    blocks: list[Block] = []
    for survey in rows.all():
        results = await collect(ctx.session, survey)
        blocks.append(
            Progress(
                _("Survey #{id} {title}", id=survey.id, title=survey_title(survey)),
                results.respondents,
                results.participants,
            )
        )
    return blocks
