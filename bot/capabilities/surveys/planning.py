"""When surveys happen: the `surveys` programme section, the planner and the event handlers.

Programme rules (`after: session`, `after: module`, `on_day: N`, `on_date: YYYY-MM-DD`) become one
`survey.open` event per target; each open survey adds one `survey.remind` (halfway to its
deadline) and one `survey.close` (at its deadline). One event fans out to all learners.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.surveys.lifecycle import (
    close_survey,
    local_morning,
    new_survey,
    open_survey,
    programme_day,
    remind_survey,
)
from bot.capabilities.surveys.models import Survey
from bot.capabilities.surveys.questions import KINDS, TEMPLATES, check_questions, questions_from_rule
from bot.core.context import EventContext
from bot.core.errors import UserError
from bot.core.i18n import _
from bot.core.models import Cohort, LiveSession, Module
from bot.core.registry import on_event, planner, programme_section
from schedules.events import PlannedEvent

RULE_KEYS = {"template", "title", "questions", "after", "on_day", "on_date", "anonymous", "deadline_days"}
TRIGGERS = ("after", "on_day", "on_date")
OPEN_GRACE = timedelta(hours=12)  # after a downtime, a survey still goes out if this late at most
CLOSE_GRACE = timedelta(days=365)  # a close is never skipped: it is what stops answers


@programme_section("surveys")
def validate_section(data: Any) -> list[tuple[str, str]]:
    """Errors of a programme's `surveys` section, as (path, message)."""
    if not isinstance(data, list):
        return [("", _("a list of survey rules, e.g. - {template: session-feedback, after: session}"))]
    errors: list[tuple[str, str]] = []
    for i, rule in enumerate(data):
        errors.extend((f"[{i}]{path}", message) for path, message in _rule_errors(rule))
    return errors


def _rule_errors(rule: Any) -> list[tuple[str, str]]:
    if not isinstance(rule, dict):
        return [("", _("a mapping like {template: session-feedback, after: session}"))]
    errors = [
        (f".{key}", _("unknown key; use {keys}", keys=", ".join(sorted(RULE_KEYS))))
        for key in rule
        if key not in RULE_KEYS
    ]
    triggers = [t for t in TRIGGERS if t in rule]
    if len(triggers) != 1:
        errors.append(
            ("", _("say when, with exactly one of after: session|module, on_day: N, on_date: YYYY-MM-DD"))
        )
    if "after" in rule and rule["after"] not in ("session", "module"):
        errors.append((".after", _("session or module")))
    if "on_day" in rule and not (isinstance(rule["on_day"], int) and 0 <= rule["on_day"] <= 3650):
        errors.append((".on_day", _("a day number counted from the cohort's start, 0 or more")))
    if "on_date" in rule and not _is_date(rule["on_date"]):
        errors.append((".on_date", _("a date written YYYY-MM-DD")))
    if "anonymous" in rule and not isinstance(rule["anonymous"], bool):
        errors.append((".anonymous", _("true or false")))
    days = rule.get("deadline_days", 1)
    if not (isinstance(days, int) and 1 <= days <= 60):
        errors.append((".deadline_days", _("how many days the survey stays open, 1 to 60")))
    if "template" in rule:
        if rule["template"] not in TEMPLATES:
            errors.append((".template", _("one of {templates}", templates=", ".join(TEMPLATES))))
    elif not isinstance(rule.get("questions"), list):
        errors.append(
            ("", _("a template, or questions: [{{kind: {kinds}, prompt: ...}}]", kinds="|".join(KINDS)))
        )
    else:
        try:
            check_questions(questions_from_rule(rule)[1])
        except UserError as e:
            errors.append((".questions", e.message))
    return errors


def _is_date(value: Any) -> bool:
    if isinstance(value, date):
        return True
    try:
        date.fromisoformat(str(value))
    except ValueError:
        return False
    return True


def rule_key(rule: dict[str, Any]) -> str:
    """Stable id of a rule: the same rule always plans the same events."""
    return hashlib.sha256(json.dumps(rule, sort_keys=True, default=str).encode()).hexdigest()[:12]


@planner
async def plan_surveys(session: AsyncSession, cohort: Cohort, now: datetime) -> list[PlannedEvent]:
    events = await _rule_events(session, cohort)
    # Columns, not rows: the planner runs on every scheduler tick.
    surveys = await session.exec(
        select(Survey.id, Survey.status, Survey.opens_at, Survey.remind_at, Survey.closes_at).where(
            Survey.cohort_id == cohort.id, col(Survey.status) != "closed"
        )
    )
    for sid, status, opens_at, remind_at, closes_at in surveys.all():
        if status == "scheduled":
            events.append(
                PlannedEvent(
                    f"survey:open:s{sid}",
                    "survey.open",
                    opens_at,
                    cohort.id,
                    {"survey_id": sid},
                    OPEN_GRACE,
                )
            )
            continue
        remind_grace = max(timedelta(minutes=1), closes_at - remind_at)
        events.append(
            PlannedEvent(
                f"survey:remind:{sid}",
                "survey.remind",
                remind_at,
                cohort.id,
                {"survey_id": sid},
                remind_grace,
            )
        )
        events.append(
            PlannedEvent(
                f"survey:close:{sid}",
                "survey.close",
                closes_at,
                cohort.id,
                {"survey_id": sid},
                CLOSE_GRACE,
            )
        )
    return events


async def _rule_events(session: AsyncSession, cohort: Cohort) -> list[PlannedEvent]:
    rules = (cohort.programme or {}).get("surveys") or []
    if not rules or validate_section(rules):
        return []  # an invalid section plans nothing; `programme check` reports why
    afters = {rule.get("after") for rule in rules}
    sessions = (
        (
            await session.exec(
                select(
                    LiveSession.id, LiveSession.title, LiveSession.starts_at, LiveSession.duration_min
                ).where(LiveSession.cohort_id == cohort.id)
            )
        ).all()
        if "session" in afters
        else []
    )
    modules = (
        (
            await session.exec(
                select(Module.id, Module.title, Module.due_at).where(Module.cohort_id == cohort.id)
            )
        ).all()
        if "module" in afters
        else []
    )
    events: list[PlannedEvent] = []
    for rule in rules:
        key = rule_key(rule)
        targets: list[tuple[str, datetime, str, str | None]] = []  # (target id, due, trigger, subject)
        try:
            if rule.get("after") == "session":
                targets = [
                    (f"session:{sid}", starts + timedelta(minutes=minutes), "session", title)
                    for sid, title, starts, minutes in sessions
                ]
            elif rule.get("after") == "module":
                targets = [(f"module:{mid}", due, "module", title) for mid, title, due in modules]
            elif "on_day" in rule:
                targets = [
                    (
                        f"day:{rule['on_day']}",
                        local_morning(cohort, programme_day(cohort, rule["on_day"])),
                        "date",
                        None,
                    )
                ]
            else:
                day = date.fromisoformat(str(rule["on_date"]))
                targets = [(f"date:{day}", local_morning(cohort, day), "date", None)]
        except UserError:
            continue  # e.g. on_day without a cohort start date: nothing to plan yet
        for target, due, trigger, subject in targets:
            origin = f"{cohort.id}:{key}:{target}"
            payload = {"rule": rule, "origin": origin, "trigger": trigger, "subject": subject}
            events.append(
                PlannedEvent(f"survey:open:{origin}", "survey.open", due, cohort.id, payload, OPEN_GRACE)
            )
    return events


async def _survey_and_cohort(ctx: EventContext, event: PlannedEvent) -> tuple[Survey, Cohort] | None:
    survey = await ctx.session.get(Survey, event.payload.get("survey_id"))
    if survey is None:
        return None
    return survey, await ctx.session.get_one(Cohort, survey.cohort_id)


@on_event("survey.open")
async def fire_open(ctx: EventContext, event: PlannedEvent) -> None:
    if "survey_id" in event.payload:
        found = await _survey_and_cohort(ctx, event)
        if found and found[0].status == "scheduled":
            await open_survey(ctx, *found)
        return
    cohort = await ctx.session.get_one(Cohort, event.cohort_id)
    origin = event.payload["origin"]
    if (await ctx.session.exec(select(Survey.id).where(Survey.origin == origin))).first() is not None:
        return
    rule = dict(event.payload["rule"])
    subject = event.payload.get("subject")
    if subject:  # one survey per session or module: say which
        rule["title"] = f"{questions_from_rule(rule)[0]}: {subject}"
    survey = new_survey(
        cohort, rule, opens_at=ctx.now, trigger=event.payload["trigger"], now=ctx.now, origin=origin
    )
    ctx.session.add(survey)
    await ctx.session.flush()
    await open_survey(ctx, survey, cohort)


@on_event("survey.remind")
async def fire_remind(ctx: EventContext, event: PlannedEvent) -> None:
    found = await _survey_and_cohort(ctx, event)
    if found:
        await remind_survey(ctx, *found)


@on_event("survey.close")
async def fire_close(ctx: EventContext, event: PlannedEvent) -> None:
    found = await _survey_and_cohort(ctx, event)
    if found:
        await close_survey(ctx, *found)
