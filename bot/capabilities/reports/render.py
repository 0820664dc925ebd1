"""Turn a computed report into messages: the training-manager report and a manager's digest."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from functools import lru_cache

from bot.capabilities.reports.kpis import CohortReport, LearnerStats
from bot.core.messages import Block, Button, Buttons, Fields, Header, Image, Message, Text
from bot.core.texts import local_date

MAX_LISTED = 25  # people listed in a message; the exports hold everyone
NUDGE_ACTION = "reports.nudge"
CHART_ALT = "Completion per module and attendance per session"


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{round(value * 100)}%"


def number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def kpi_pairs(report: CohortReport) -> list[tuple[str, str]]:
    """Figures other capabilities contribute with @kpi, as (label, value) a person can read."""
    pairs = []
    for name, figures in report.kpis.items():
        for key, value in figures.items():
            words = key.replace("_", " ")
            if words.startswith(f"{name} "):  # "attendance: attendance rate" -> "attendance: rate"
                words = words[len(name) + 1 :]
            pairs.append((f"{name.capitalize()}: {words}", kpi_value(key, value)))
    return pairs


def kpi_value(key: str, value: object) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return pct(value) if "rate" in key and 0 <= value <= 1 else f"{value:.1f}"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "none"
    if isinstance(value, dict):
        return ", ".join(f"{k} {kpi_value(key, v)}" for k, v in value.items()) or "none"
    return str(value)


def report_message(report: CohortReport, chart: str | None = None) -> Message:
    title = f"{report.slug}: training report"
    pairs = [
        ("Learners", str(len(report.learners))),
        ("Launch rate", pct(report.launch_rate)),
        ("Completion (modules due so far)", pct(report.completion_rate)),
        ("Attendance", pct(report.attendance_rate)),
        ("Average score", number(report.avg_score)),
        ("At risk", str(len(report.at_risk))),
        *kpi_pairs(report),
    ]
    blocks: list[Block] = [Header(title), Fields(tuple(pairs))]
    if report.completion_warning:
        blocks.append(
            Text(
                f"⚠ Completion is {pct(report.completion_rate)}, under 50%: "
                "consider a reminder, a catch-up session or more time."
            )
        )
    blocks.extend(_module_section(report))
    blocks.extend(_session_section(report))
    blocks.extend(_segment_section(report))
    blocks.append(_at_risk_section(report))
    if chart:
        blocks.append(Image(url=chart, alt=CHART_ALT))
    summary = (
        f"{title}: completion {pct(report.completion_rate)}, attendance {pct(report.attendance_rate)}, "
        f"{len(report.at_risk)} at risk"
    )
    return Message(summary, tuple(blocks))


def _module_section(report: CohortReport) -> list[Block]:
    if not report.modules:
        return [Text("*Completion per module*\nNo modules yet.")]
    worst = report.worst_drop
    lines = []
    for m in report.modules:
        score = f", avg score {number(m.avg_score)}" if m.avg_score is not None else ""
        failed = f", {m.failed} failed" if m.failed else ""
        drop = " ← biggest drop-off" if worst is not None and m.module_id == worst.module_id else ""
        due = local_date(m.due_at, report.tz)
        lines.append(f"• {m.title} (due {due}): {pct(m.rate)} ({m.done}/{m.learners}){failed}{score}{drop}")
    return [Text("*Completion per module*\n" + "\n".join(lines))]


def _session_section(report: CohortReport) -> list[Block]:
    if not report.sessions:
        return []
    lines = []
    for s in report.sessions:
        when = local_date(s.starts_at, report.tz)
        if not s.counted:
            lines.append(f"• {s.title} ({when}): not taken yet")
            continue
        excused = f", {s.excused} excused" if s.excused else ""
        late = f" incl. {s.late} late" if s.late else ""
        lines.append(
            f"• {s.title} ({when}): {pct(s.rate)} ({s.present + s.late}/{s.expected}{late}{excused})"
        )
    return [Text("*Attendance per session* (excused learners are not expected)\n" + "\n".join(lines))]


def _segment_section(report: CohortReport) -> list[Block]:
    if not report.segments:
        return []
    lines = [
        f"• {s.dimension} {s.value}: {s.learners} learners, launch {pct(s.launch_rate)}, "
        f"completion {pct(s.completion_rate)}, attendance {pct(s.attendance_rate)}, {s.at_risk} at risk"
        for s in report.segments
    ]
    return [Text("*Segments*\n" + "\n".join(lines))]


def _at_risk_section(report: CohortReport) -> Block:
    risky = report.at_risk
    if not risky:
        return Text("*At risk*\nNobody is at risk.")
    lines = [f"• {s.learner.name}: {', '.join(s.risks)}" for s in risky[:MAX_LISTED]]
    if len(risky) > MAX_LISTED:
        lines.append(f"… and {len(risky) - MAX_LISTED} more (`cohortbot export report` lists everyone)")
    return Text(f"*At risk ({len(risky)})*\n" + "\n".join(lines))


@lru_cache(maxsize=16_384)
def _day(quarter_hour: datetime, tz: str) -> str:
    return local_date(quarter_hour, tz)


def day_in(when: datetime, tz: str) -> str:
    """`local_date`, memoised: every zone's offset is a whole number of quarter hours, so the
    quarter hour a time falls in has one local date (thousands of digest lines share few days)."""
    return _day(when.replace(minute=when.minute - when.minute % 15, second=0, microsecond=0), tz)


def learner_line(stats: LearnerStats, tz: str, *, nudged: bool = False) -> str:
    """One person in a manager's digest: modules, sessions, last activity, risk."""
    last = day_in(stats.last_activity, tz) if stats.last_activity else "never"
    risk = f" ⚠ *at risk*: {', '.join(stats.risks)}." if stats.at_risk else ""
    done = " Nudged ✓" if nudged else ""
    return (
        f"*{stats.learner.name}*: modules {stats.modules_done} done, {stats.modules_due} due, "
        f"{stats.modules_overdue} overdue · sessions {stats.sessions_attended}/{stats.sessions_counted} "
        f"attended · last active {last}.{risk}{done}"
    )


def nudge_value(cohort_id: int, person_id: int) -> str:
    return f"{cohort_id}:{person_id}"


def digest_message(
    report: CohortReport,
    people: Iterable[LearnerStats],
    *,
    tz: str,
    nudged: Collection[int] = (),
) -> Message:
    """A manager's digest: only the people given (their own reports), with a Nudge per person at risk."""
    mine = sorted(people, key=lambda s: (not s.at_risk, s.learner.name))
    title = f"{report.slug}: your people this week"
    risky = [s for s in mine if s.at_risk]
    blocks: list[Block] = [
        Header(title),
        Text(f"{len(mine)} people report to you in *{report.slug}*; {len(risky)} at risk."),
    ]
    blocks.extend(Text(learner_line(s, tz, nudged=s.person_id in nudged)) for s in mine[:MAX_LISTED])
    if len(mine) > MAX_LISTED:
        blocks.append(Text(f"… and {len(mine) - MAX_LISTED} more: ask a trainer for the full export."))
    buttons = tuple(
        Button(f"Nudge {s.learner.name}", NUDGE_ACTION, nudge_value(report.cohort_id, s.person_id), "primary")
        for s in risky[:MAX_LISTED]
        if s.person_id not in nudged
    )
    if buttons:
        blocks.append(Buttons(buttons))
    return Message(f"{title}: {len(risky)} of {len(mine)} at risk", tuple(blocks))
