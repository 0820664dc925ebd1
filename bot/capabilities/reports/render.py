"""Turn a computed report into messages: the training-manager report and a manager's digest.

Every word goes through the catalogue: the report in the caller's language, a digest in its
manager's (the outbox builds each row in its reader's language)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from functools import lru_cache

from babel.numbers import format_decimal

from bot.capabilities.reports.kpis import CohortReport, LearnerStats, ModuleStats, SegmentStats, SessionStats
from bot.core import i18n
from bot.core.i18n import N_, _, _n
from bot.core.messages import Block, Button, Buttons, Fields, Header, Link, Message, Text
from bot.core.texts import local_date

MAX_LISTED = 25  # people listed in a message; the exports and the report page hold everyone
NUDGE_ACTION = "reports.nudge"
# KPI figures the report already shows in its own words (the attendance rate is its headline).
SHOWN_BY_HEADLINE = frozenset({"attendance_rate"})


def pct(value: float | None) -> str:
    return _("n/a") if value is None else i18n.percent(value)


def number(value: float | None) -> str:
    """One decimal, the reader's way: '56.7' / '56,7'."""
    if value is None:
        return _("n/a")
    return format_decimal(value, format="#,##0.0", locale=i18n.babel_locale(i18n.current()))


def kpi_pairs(report: CohortReport) -> list[tuple[str, str]]:
    """Figures other capabilities contribute with @kpi, as (label, value) a person can read."""
    pairs = []
    for name, figures in report.kpis.items():
        for key, value in figures.items():
            if key in SHOWN_BY_HEADLINE:
                continue
            words = key.replace("_", " ")
            if words.startswith(f"{name} "):  # "attendance: attendance present" -> "attendance: present"
                words = words[len(name) + 1 :]
            pairs.append(
                (_("{label}: {title}", label=_(name).capitalize(), title=_(words)), kpi_value(key, value))
            )
    return pairs


def kpi_value(key: str, value: object) -> str:
    if value is None:
        return _("n/a")
    if isinstance(value, float):
        return pct(value) if "rate" in key and 0 <= value <= 1 else number(value)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or _("none")
    if isinstance(value, dict):
        return ", ".join(f"{k} {kpi_value(key, v)}" for k, v in value.items()) or _("none")
    return str(value)


def attendance_rate(report: CohortReport) -> float | None:
    """The report's own rate (sessions that count); else what the attendance records say."""
    if report.attendance_rate is not None:
        return report.attendance_rate
    rate = report.kpis.get("attendance", {}).get("attendance_rate")
    return float(rate) if isinstance(rate, int | float) else None


def headline(report: CohortReport) -> list[tuple[str, str]]:
    """The figures both the chat report and the report page lead with."""
    return [
        (_("Learners"), i18n.number(len(report.learners))),
        (_("Launch rate"), pct(report.launch_rate)),
        (_("Completion (modules due so far)"), pct(report.completion_rate)),
        (_("Attendance"), pct(attendance_rate(report))),
        (_("Average score"), number(report.avg_score)),
        (_("At risk"), i18n.number(len(report.at_risk))),
    ]


def completion_warning(report: CohortReport) -> str:
    return _(
        "⚠ Completion is {rate}, under 50%: consider a reminder, a catch-up session or more time.",
        rate=pct(report.completion_rate),
    )


def report_message(report: CohortReport, link: str | None = None, *, scoped: bool = False) -> Message:
    """The report in chat: headline figures and the sections as text; charts live on the page."""
    title = (
        _("{cohort}: your people's report", cohort=report.slug)
        if scoped
        else _("{cohort}: training report", cohort=report.slug)
    )
    pairs = [*headline(report), *kpi_pairs(report)]
    blocks: list[Block] = [Header(title), Fields(tuple(pairs))]
    if report.completion_warning:
        blocks.append(Text(completion_warning(report)))
    blocks.extend(_module_section(report))
    blocks.extend(_session_section(report))
    blocks.extend(_segment_section(report))
    blocks.append(_at_risk_section(report))
    if link:
        blocks.append(page_link(link))
    summary = _(
        "{title}: completion {completion}, attendance {attendance}, {n} at risk",
        title=title,
        completion=pct(report.completion_rate),
        attendance=pct(attendance_rate(report)),
        n=i18n.number(len(report.at_risk)),
    )
    return Message(summary, tuple(blocks))


def page_link(link: str) -> Link:
    return Link(link, _("Open the report page: charts, every learner, downloads (a private link)"))


def module_line(report: CohortReport, m: ModuleStats) -> str:
    worst = report.worst_drop
    parts = [_("{rate} ({done}/{learners})", rate=pct(m.rate), done=m.done, learners=m.learners)]
    if m.failed:
        parts.append(_n("{n} failed", "{n} failed", m.failed))
    if m.avg_score is not None:
        parts.append(_("avg score {score}", score=number(m.avg_score)))
    drop = " " + _("← biggest drop-off") if worst is not None and m.module_id == worst.module_id else ""
    due = local_date(m.due_at, report.tz)
    module = _("{title} (due {due})", title=m.title, due=due)
    return _("{label}: {title}", label=module, title=", ".join(parts) + drop)


def _module_section(report: CohortReport) -> list[Block]:
    heading = "*" + _("Completion per module") + "*"
    if not report.modules:
        return [Text(heading + "\n" + _("No modules yet."))]
    return [Text(heading + "\n" + "\n".join("• " + module_line(report, m) for m in report.modules))]


def session_line(report: CohortReport, s: SessionStats) -> str:
    when = local_date(s.starts_at, report.tz)
    if not s.counted:
        return _("{title} ({when}): not taken yet", title=s.title, when=when)
    detail = f"{s.present + s.late}/{s.expected}"
    if s.late:
        detail += " " + _n("incl. {n} late", "incl. {n} late", s.late)
    if s.excused:
        detail += ", " + _n("{n} excused", "{n} excused", s.excused)
    return _("{title} ({when}): {rate} ({detail})", title=s.title, when=when, rate=pct(s.rate), detail=detail)


def _session_section(report: CohortReport) -> list[Block]:
    if not report.sessions:
        return []
    heading = "*" + _("Attendance per session") + "* " + _("(excused learners are not expected)")
    return [Text(heading + "\n" + "\n".join("• " + session_line(report, s) for s in report.sessions))]


def segment_line(s: SegmentStats) -> str:
    return _(
        "{dimension} {value}: {learners} learners, launch {launch}, completion {completion}, "
        "attendance {attendance}, {at_risk} at risk",
        dimension=_(s.dimension),
        value=s.value,
        learners=s.learners,
        launch=pct(s.launch_rate),
        completion=pct(s.completion_rate),
        attendance=pct(s.attendance_rate),
        at_risk=s.at_risk,
    )


def _segment_section(report: CohortReport) -> list[Block]:
    if not report.segments:
        return []
    return [Text("*" + _("Segments") + "*\n" + "\n".join("• " + segment_line(s) for s in report.segments))]


def reasons(stats: LearnerStats) -> str:
    return ", ".join(risk_words(r) for r in stats.risks)


def risk_words(reason: str) -> str:
    """A stored English reason ("missed 2 sessions") in the reader's language."""
    head, _sep, rest = reason.partition(" ")
    if reason == "no activity yet":
        return _("no activity yet")
    if head == "missed":
        n = int(rest.split()[0])
        return _n("missed {n} session", "missed {n} sessions", n)
    if reason.startswith("inactive for"):
        n = int(reason.split()[2])
        return _n("inactive for {n} day", "inactive for {n} days", n)
    if head.isdigit():
        return _n("{n} overdue module", "{n} overdue modules", int(head))
    return _(reason)


def _at_risk_section(report: CohortReport) -> Block:
    risky = report.at_risk
    if not risky:
        return Text("*" + _("At risk") + "*\n" + _("Nobody is at risk."))
    lines = ["• " + _("{label}: {title}", label=s.learner.name, title=reasons(s)) for s in risky[:MAX_LISTED]]
    if len(risky) > MAX_LISTED:
        lines.append(
            _(
                "… and {n} more (the report page and `cohortbot export report` list everyone)",
                n=len(risky) - MAX_LISTED,
            )
        )
    return Text("*" + _("At risk ({n})", n=len(risky)) + "*\n" + "\n".join(lines))


@lru_cache(maxsize=16_384)
def _day(quarter_hour: datetime, tz: str, lang: str) -> str:
    return local_date(quarter_hour, tz)


def day_in(when: datetime, tz: str) -> str:
    """`local_date`, memoised: every zone's offset is a whole number of quarter hours, so the
    quarter hour a time falls in has one local date (thousands of digest lines share few days)."""
    return _day(
        when.replace(minute=when.minute - when.minute % 15, second=0, microsecond=0), tz, i18n.current()
    )


def learner_line(stats: LearnerStats, tz: str, *, nudged: bool = False) -> str:
    """One person in a manager's digest: modules, sessions, last activity, risk."""
    last = day_in(stats.last_activity, tz) if stats.last_activity else _("never")
    risk = " " + _("⚠ *at risk*: {reasons}.", reasons=reasons(stats)) if stats.at_risk else ""
    done = " " + _("Nudged ✓") if nudged else ""
    figures = _(
        "modules {done} done, {due} due, {overdue} overdue · sessions {attended}/{counted} "
        "attended · last active {last}.",
        done=stats.modules_done,
        due=stats.modules_due,
        overdue=stats.modules_overdue,
        attended=stats.sessions_attended,
        counted=stats.sessions_counted,
        last=last,
    )
    name = "*" + stats.learner.name + "*"
    return _("{label}: {title}", label=name, title=figures) + risk + done


def nudge_value(cohort_id: int, person_id: int) -> str:
    return f"{cohort_id}:{person_id}"


def digest_message(
    report: CohortReport,
    people: Iterable[LearnerStats],
    *,
    tz: str,
    nudged: Collection[int] = (),
    link: str | None = None,
) -> Message:
    """A manager's digest: only the people given (their own reports), with a Nudge per person at
    risk (the renderers split the buttons to each platform's limit per row)."""
    mine = sorted(people, key=lambda s: (not s.at_risk, s.learner.name))
    title = _("{cohort}: your people this week", cohort=report.slug)
    risky = [s for s in mine if s.at_risk]
    blocks: list[Block] = [
        Header(title),
        Text(
            _n(
                "{n} person reports to you in *{cohort}*; {risky} at risk.",
                "{n} people report to you in *{cohort}*; {risky} at risk.",
                len(mine),
                cohort=report.slug,
                risky=len(risky),
            )
        ),
    ]
    blocks.extend(Text(learner_line(s, tz, nudged=s.person_id in nudged)) for s in mine[:MAX_LISTED])
    if len(mine) > MAX_LISTED:
        blocks.append(Text(_("… and {n} more: the report page lists everyone.", n=len(mine) - MAX_LISTED)))
    buttons = tuple(
        Button(
            _("Nudge {name}", name=s.learner.name),
            NUDGE_ACTION,
            nudge_value(report.cohort_id, s.person_id),
            "primary",
        )
        for s in risky[:MAX_LISTED]
        if s.person_id not in nudged
    )
    if buttons:
        blocks.append(Buttons(buttons))
    if link:
        blocks.append(page_link(link))
    return Message(
        _("{title}: {risky} of {n} at risk", title=title, risky=len(risky), n=len(mine)), tuple(blocks)
    )


# Words stored in English and shown through the catalogue (KPI names and segment dimensions).
WORDS = (
    N_("attendance"),
    N_("satisfaction"),
    N_("engagement"),
    N_("site"),
    N_("department"),
    N_("seniority"),
    N_("records"),
    N_("avg"),
    N_("nps"),
    N_("survey response rate"),
    N_("surveys"),
    N_("leading teams"),
    N_("points per member"),
    N_("points per learner"),
    N_("present"),
    N_("late"),
    N_("partial"),
    N_("absent"),
    N_("excused"),
)
