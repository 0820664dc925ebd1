"""Cohort KPIs as pure functions over loaded rows: per learner, per module, per session, segments.

Definitions (also in the README):
- launch rate: share of learners with any activity of their own since enrolment;
- completion rate of a module: completed-or-passed / learners enrolled;
- completion rate (overall, segments): completed-or-passed among modules already due /
  (learners x modules already due); none before a module is due;
- attendance rate of a session: present+late / (learners - excused); a session counts once it
  has started and has at least one attendance record; a learner without a record then missed it;
- at risk: missed >= N sessions, or >= M overdue modules, or inactive for D days (programme `digests`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.capabilities.reports.config import DigestConfig
from bot.capabilities.reports.load import CohortRows, Learner

SEGMENT_DIMENSIONS = ("site", "department", "seniority")
UNKNOWN = "(unknown)"
WARN_BELOW = 0.5


def ratio(part: float, whole: float) -> float | None:
    return None if whole <= 0 else part / whole


@dataclass
class LearnerStats:
    learner: Learner
    modules_done: int
    modules_due: int  # not done yet, due date still ahead
    modules_overdue: int
    modules_failed: int
    sessions_attended: int
    sessions_missed: int
    sessions_excused: int
    sessions_counted: int
    last_activity: datetime | None
    risks: list[str] = field(default_factory=list)

    @property
    def person_id(self) -> int:
        return self.learner.person_id

    @property
    def launched(self) -> bool:
        return self.last_activity is not None

    @property
    def at_risk(self) -> bool:
        return bool(self.risks)


@dataclass(frozen=True)
class ModuleStats:
    module_id: int
    title: str
    due_at: datetime
    done: int
    failed: int
    learners: int
    avg_score: float | None
    drop: float | None  # fall in completion rate from the previous module (where people drop out)

    @property
    def rate(self) -> float | None:
        return ratio(self.done, self.learners)


@dataclass(frozen=True)
class SessionStats:
    session_id: int
    title: str
    starts_at: datetime
    counted: bool  # started and attendance was taken
    present: int
    late: int
    absent: int  # recorded absent, or no record once the session counts
    excused: int

    @property
    def expected(self) -> int:
        return self.present + self.late + self.absent

    @property
    def rate(self) -> float | None:
        return ratio(self.present + self.late, self.expected) if self.counted else None


@dataclass(frozen=True)
class SegmentStats:
    dimension: str
    value: str
    learners: int
    launch_rate: float | None
    completion_rate: float | None
    attendance_rate: float | None
    at_risk: int


@dataclass
class CohortReport:
    cohort_id: int
    slug: str
    tz: str
    now: datetime
    config: DigestConfig
    learners: list[LearnerStats]
    modules: list[ModuleStats]
    sessions: list[SessionStats]
    segments: list[SegmentStats]
    launch_rate: float | None
    completion_rate: float | None
    attendance_rate: float | None
    avg_score: float | None
    kpis: dict[str, dict[str, Any]]

    @property
    def at_risk(self) -> list[LearnerStats]:
        return [s for s in self.learners if s.at_risk]

    @property
    def completion_warning(self) -> bool:
        return self.completion_rate is not None and self.completion_rate < WARN_BELOW

    @property
    def worst_drop(self) -> ModuleStats | None:
        drops = [m for m in self.modules if m.drop is not None and m.drop > 0]
        return max(drops, key=lambda m: m.drop or 0.0) if drops else None

    def learner(self, person_id: int) -> LearnerStats | None:
        return next((s for s in self.learners if s.person_id == person_id), None)


def compute_report(rows: CohortRows, config: DigestConfig) -> CohortReport:
    """Every KPI of the cohort from its rows: no database access."""
    counted = {
        s.id
        for s in rows.sessions
        if s.starts_at <= rows.now and sum(rows.attendance_by_session.get(s.id, {}).values()) > 0
    }
    past_due = sum(1 for m in rows.modules if m.due_at <= rows.now)
    learners = [_learner_stats(rows, learner, len(counted), past_due, config) for learner in rows.learners]
    n = len(learners)
    modules = _module_stats(rows, n)
    sessions = _session_stats(rows, counted, n)
    attended = sum(s.present + s.late for s in sessions if s.counted)
    expected = sum(s.expected for s in sessions if s.counted)
    scored = sum(rows.by_module[m.id].scored for m in rows.modules if m.id in rows.by_module)
    score_sum = sum(rows.by_module[m.id].score_sum for m in rows.modules if m.id in rows.by_module)
    return CohortReport(
        cohort_id=rows.cohort_id,
        slug=rows.slug,
        tz=rows.tz,
        now=rows.now,
        config=config,
        learners=learners,
        modules=modules,
        sessions=sessions,
        segments=segments(learners, past_due),
        launch_rate=ratio(sum(1 for s in learners if s.launched), n),
        completion_rate=_completion_rate(learners, rows, past_due),
        attendance_rate=ratio(attended, expected),
        avg_score=ratio(score_sum, scored),
        kpis=rows.kpis,
    )


def _learner_stats(
    rows: CohortRows, learner: Learner, counted: int, past_due: int, config: DigestConfig
) -> LearnerStats:
    pid = learner.person_id
    done = rows.by_person.get(pid)
    n_done = done.done if done else 0
    n_done_past = done.done_past_due if done else 0
    upcoming = len(rows.modules) - past_due
    attended, excused = rows.attendance_by_person.get(pid, (0, 0))
    last = rows.last_activity.get(pid)
    stats = LearnerStats(
        learner=learner,
        modules_done=n_done,
        modules_due=max(0, upcoming - (n_done - n_done_past)),
        modules_overdue=past_due - n_done_past,
        modules_failed=done.failed if done else 0,
        sessions_attended=attended,
        sessions_missed=max(0, counted - attended - excused),
        sessions_excused=excused,
        sessions_counted=counted,
        last_activity=last if last is not None and last >= learner.enrolled_at else None,
    )
    stats.risks = risk_reasons(stats, rows.now, config)
    return stats


def risk_reasons(stats: LearnerStats, now: datetime, config: DigestConfig) -> list[str]:
    """Why a learner is at risk (empty: not at risk)."""
    reasons = []
    if stats.sessions_missed >= config.missed_sessions:
        reasons.append(f"missed {stats.sessions_missed} sessions")
    if stats.modules_overdue >= config.overdue_modules:
        plural = "s" if stats.modules_overdue > 1 else ""
        reasons.append(f"{stats.modules_overdue} overdue module{plural}")
    if config.inactive_days is not None:
        since = stats.last_activity or stats.learner.enrolled_at
        if now - since >= timedelta(days=config.inactive_days):
            reasons.append(
                f"inactive for {(now - since).days} days" if stats.last_activity else "no activity yet"
            )
    return reasons


def _module_stats(rows: CohortRows, learners: int) -> list[ModuleStats]:
    result: list[ModuleStats] = []
    previous: float | None = None
    for module in rows.modules:
        agg = rows.by_module.get(module.id)
        rate = ratio(agg.done if agg else 0, learners)
        result.append(
            ModuleStats(
                module_id=module.id,
                title=module.title,
                due_at=module.due_at,
                done=agg.done if agg else 0,
                failed=agg.failed if agg else 0,
                learners=learners,
                avg_score=ratio(agg.score_sum, agg.scored) if agg else None,
                drop=None if previous is None or rate is None else previous - rate,
            )
        )
        previous = rate
    return result


def _session_stats(rows: CohortRows, counted: set[int], learners: int) -> list[SessionStats]:
    result = []
    for session in rows.sessions:
        seen: Mapping[str, int] = rows.attendance_by_session.get(session.id, {})
        present, late, excused = seen.get("present", 0), seen.get("late", 0), seen.get("excused", 0)
        is_counted = session.id in counted
        # Learners with no record missed a session that counts.
        absent = max(0, learners - present - late - excused) if is_counted else seen.get("absent", 0)
        result.append(
            SessionStats(
                session.id, session.title, session.starts_at, is_counted, present, late, absent, excused
            )
        )
    return result


def _completion_rate(learners: list[LearnerStats], rows: CohortRows, past_due: int) -> float | None:
    done = sum(rows.by_person[s.person_id].done_past_due for s in learners if s.person_id in rows.by_person)
    return ratio(done, len(learners) * past_due)


def segments(learners: Iterable[LearnerStats], past_due: int) -> list[SegmentStats]:
    """Launch, completion, attendance and at-risk per site, department and seniority, when known."""
    people = list(learners)
    result = []
    for dimension in SEGMENT_DIMENSIONS:
        if not any(getattr(s.learner, dimension) for s in people):
            continue
        groups: dict[str, list[LearnerStats]] = defaultdict(list)
        for s in people:
            groups[getattr(s.learner, dimension) or UNKNOWN].append(s)
        for value in sorted(groups, key=lambda v: (v == UNKNOWN, v)):
            group = groups[value]
            n = len(group)
            done_due = n * past_due - sum(s.modules_overdue for s in group)
            result.append(
                SegmentStats(
                    dimension=dimension,
                    value=value,
                    learners=n,
                    launch_rate=ratio(sum(1 for s in group if s.launched), n),
                    completion_rate=ratio(done_due, n * past_due),
                    attendance_rate=ratio(
                        sum(s.sessions_attended for s in group),
                        sum(s.sessions_counted - s.sessions_excused for s in group),
                    ),
                    at_risk=sum(1 for s in group if s.at_risk),
                )
            )
    return result
