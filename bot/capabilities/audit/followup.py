"""The engagement tables of an audit pack: every reminder, how absent and late learners were followed
up, who dropped out, and the satisfaction surveys with the reminders that chased answers.

Each function returns a plain table (header row first), built from what the database recorded.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.attendance.models import AbsenceRequest
from bot.capabilities.attendance.sheets import SessionSheet
from bot.capabilities.reminders.fanout import ReminderLog
from bot.capabilities.reminders.log import delivery_state, log_entries
from bot.capabilities.surveys.models import Survey
from bot.capabilities.surveys.results import Results, collect, nps_score, results_csv
from bot.core.i18n import _
from bot.core.models import Activity, Cohort, Enrolment, LiveSession, Module, OutboxMessage, Person

Table = list[list[str]]


def utc(at: datetime | None) -> str:
    return "" if at is None else f"{at.astimezone(UTC):%Y-%m-%d %H:%M:%S}"


async def _people(session: AsyncSession, ids: set[int]) -> dict[int, Person]:
    if not ids:
        return {}
    rows = await session.exec(select(Person).where(col(Person.id).in_(sorted(ids))))
    return {p.id or 0: p for p in rows.all()}


async def reminder_log(session: AsyncSession, cohort: Cohort) -> Table:
    """Every reminder of the cohort, per learner: what, when, and whether it was delivered or why not."""
    entries = list(reversed(await log_entries(session, cohort)))
    people = await _people(session, {log.person_id for log, _ in entries})
    titles = {
        ("session", s.id): s.title
        for s in (await session.exec(select(LiveSession).where(LiveSession.cohort_id == cohort.id))).all()
    }
    titles.update(
        {
            ("module", m.id): m.title
            for m in (await session.exec(select(Module).where(Module.cohort_id == cohort.id))).all()
        }
    )
    header = [
        _("Learner"),
        _("Email"),
        _("Item"),
        _("Title"),
        _("Rule"),
        _("Due (UTC)"),
        _("Logged (UTC)"),
        _("Outcome"),
        _("Sent (UTC)"),
    ]
    rows = [
        [
            people[log.person_id].display_name if log.person_id in people else str(log.person_id),
            (people[log.person_id].email or "") if log.person_id in people else "",
            log.item,
            titles.get((log.item, log.item_id), f"#{log.item_id}"),
            log.rule,
            utc(log.nominal_at),
            utc(log.logged_at),
            delivery_state(log, out),
            utc(out.sent_at) if out else "",
        ]
        for log, out in entries
    ]
    return [header, *rows]


async def absent_and_late(session: AsyncSession, cohort: Cohort, sheets: list[SessionSheet]) -> Table:
    """Each absence or late arrival, and what followed: the check-in reminder, a declared absence,
    reminders and nudges the learner received afterwards."""
    header = [
        _("Learner"),
        _("Platform id"),
        _("Session"),
        _("Starts (UTC)"),
        _("Status"),
        _("Check-in reminder"),
        _("Absence request"),
        _("Reminders delivered after"),
        _("First one (UTC)"),
        _("Nudges after"),
        _("Followed up"),
    ]
    reminders: dict[int, list[datetime]] = defaultdict(list)
    sent = await session.exec(
        select(ReminderLog.person_id, OutboxMessage.sent_at)
        .join(OutboxMessage, col(OutboxMessage.key) == ReminderLog.key)
        .where(ReminderLog.cohort_id == cohort.id, OutboxMessage.status == "sent")
    )
    for person_id, at in sent.all():
        if at is not None:
            reminders[person_id].append(at)
    nudges: dict[int, list[datetime]] = defaultdict(list)
    for nudged_id, nudged_at in (
        await session.exec(
            select(Activity.person_id, Activity.at).where(
                Activity.cohort_id == cohort.id, Activity.kind == "reports.nudged"
            )
        )
    ).all():
        nudges[nudged_id or 0].append(nudged_at)
    requests = {
        (r.session_id, r.person_id): r.status
        for r in (
            await session.exec(select(AbsenceRequest).where(AbsenceRequest.cohort_id == cohort.id))
        ).all()
    }
    cards = set(
        (
            await session.exec(
                select(OutboxMessage.key).where(
                    OutboxMessage.cohort_id == cohort.id,
                    col(OutboxMessage.key).startswith("checkin-reminder:"),
                )
            )
        ).all()
    )
    rows = []
    for sheet in sheets:
        start = sheet.live.starts_at
        for row in sheet.rows:
            if row.status not in ("absent", "late"):
                continue
            after = sorted(t for t in reminders[row.person_id] if t >= start)
            nudged = [t for t in nudges[row.person_id] if t >= start]
            card = f"checkin-reminder:{sheet.live.id}:{row.person_id}" in cards
            request = requests.get((sheet.live.id or 0, row.person_id), "none")
            followed = bool(after or nudged or card or request != "none")
            rows.append(
                [
                    row.name,
                    row.platform_id,
                    f"#{sheet.live.id} {sheet.live.title}",
                    utc(start),
                    row.status,
                    "sent" if card else "none",
                    request,
                    str(len(after)),
                    utc(after[0]) if after else "",
                    str(len(nudged)),
                    "yes" if followed else "no",
                ]
            )
    return [header, *rows]


async def dropouts(session: AsyncSession, cohort: Cohort) -> Table:
    """Learners who left the cohort: when they enrolled, their last activity, the reminders they got."""
    dropped = (
        await session.exec(
            select(Enrolment, Person)
            .join(Person, col(Person.id) == Enrolment.person_id)
            .where(
                Enrolment.cohort_id == cohort.id, Enrolment.role == "learner", Enrolment.status == "dropped"
            )
        )
    ).all()
    header = [
        _("Learner"),
        _("Email"),
        _("Enrolled (UTC)"),
        _("Last activity (UTC)"),
        _("Reminders delivered"),
    ]
    rows = []
    for enrolment, person in dropped:
        last = (
            await session.exec(
                select(func.max(Activity.at)).where(
                    Activity.cohort_id == cohort.id, Activity.person_id == person.id
                )
            )
        ).one()
        delivered = (
            await session.exec(
                select(func.count())
                .select_from(ReminderLog)
                .join(OutboxMessage, col(OutboxMessage.key) == ReminderLog.key)
                .where(
                    ReminderLog.cohort_id == cohort.id,
                    ReminderLog.person_id == person.id,
                    OutboxMessage.status == "sent",
                )
            )
        ).one()
        rows.append(
            [person.display_name, person.email or "", utc(enrolment.enrolled_at), utc(last), str(delivered)]
        )
    return [header, *rows]


async def satisfaction(session: AsyncSession, cohort: Cohort) -> tuple[Table, dict[str, str]]:
    """One row per survey sent (answers, rating, NPS, reminders to non-respondents), and the answers
    of each survey as CSV text (none for an anonymous survey with too few answers to show)."""
    surveys = (
        await session.exec(
            select(Survey)
            .where(Survey.cohort_id == cohort.id, col(Survey.status) != "scheduled")
            .order_by(col(Survey.id))
        )
    ).all()
    reminded: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for at, data in (
        await session.exec(
            select(Activity.at, Activity.data).where(
                Activity.cohort_id == cohort.id, Activity.kind == "survey.reminded"
            )
        )
    ).all():
        reminded[int(data.get("survey_id", 0))].append((at, int(data.get("reminded", 0))))
    header = [
        _("Survey"),
        _("Title"),
        _("Anonymous"),
        _("Status"),
        _("Opened (UTC)"),
        _("Closed (UTC)"),
        _("Asked"),
        _("Answered"),
        _("Response rate"),
        _("Average rating"),
        _("NPS"),
        _("Follow-up reminders"),
        _("Learners reminded"),
    ]
    rows: Table = []
    answers: dict[str, str] = {}
    for survey in surveys:
        results = await collect(session, survey)
        ratings, nps = _scores(results)
        chased = reminded.get(survey.id or 0, [])
        rate = results.response_rate
        rows.append(
            [
                str(survey.id),
                survey.title,
                "yes" if survey.anonymous else "no",
                survey.status,
                utc(survey.opens_at),
                utc(survey.closed_at),
                str(results.participants),
                str(results.respondents),
                "" if rate is None else f"{rate:.0%}",
                "" if results.withheld or not ratings else f"{sum(ratings) / len(ratings):.2f}",
                "" if results.withheld or (score := nps_score(nps)) is None else str(score),
                "; ".join(utc(at) for at, _ in chased),
                str(sum(n for _, n in chased)),
            ]
        )
        if not results.withheld:
            answers[f"survey-{survey.id}"] = results_csv(results)
    return [header, *rows], answers


def _scores(results: Results) -> tuple[list[int], list[int]]:
    """The ratings (1-5) and the NPS answers (0-10) given, over every question of those kinds."""
    ratings = [n for t in results.tallies if t.spec.kind == "rating" for n in t.numbers]
    nps = [n for t in results.tallies if t.spec.kind == "nps" for n in t.numbers]
    return ratings, nps
