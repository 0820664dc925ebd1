"""KPIs on the hand-computed fixture (tests/reports_fixture.py): every figure below is worked out by hand.

Due at REPORT_AT: M1, M2 (M3 later). Held: S1, S2 (S3 later). Learners ann, ben, cat, dan.
Completions: ann M1 passed 80, M2 completed; ben M1 completed 60, M2 failed 30; cat M1 failed; dan none.
Attendance (latest record wins): S1 ann present, ben late, cat absent, dan no record;
S2 ann present, ben excused, cat absent then corrected to present, dan absent.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.capabilities.reports.config import DigestConfig, validate_digests
from bot.capabilities.reports.kpis import compute_report
from bot.capabilities.reports.load import load_rows
from bot.capabilities.reports.service import build_report
from bot.core.context import EventContext
from bot.core.models import Completion
from tests.capabilities.reports_fixture import REPORT_AT, build_fixture
from tests.conftest import Chat


@pytest.fixture
async def report(chat: Chat):  # type: ignore[no-untyped-def]
    fixture = await build_fixture(chat)
    async with fixture.app.store.transaction() as session:
        return await build_report(session, fixture.cohort, REPORT_AT)


async def test_cohort_figures_match_hand_computation(report) -> None:  # type: ignore[no-untyped-def]
    assert len(report.learners) == 4
    assert report.launch_rate == pytest.approx(3 / 4)  # dan did nothing himself
    assert report.completion_rate == pytest.approx(3 / 8)  # ann 2 + ben 1 of 4 learners x 2 due modules
    assert report.completion_warning  # 38% < 50%
    assert report.attendance_rate == pytest.approx(4 / 7)  # (2 + 2) / (4 + 3 not excused)
    assert report.avg_score == pytest.approx((80 + 60 + 30) / 3)


async def test_completion_per_module_shows_the_drop_off(report) -> None:  # type: ignore[no-untyped-def]
    m1, m2, m3 = report.modules
    assert (m1.done, m1.failed, m1.rate, m1.avg_score) == (2, 1, 0.5, 70)
    assert (m2.done, m2.failed, m2.rate, m2.avg_score) == (1, 1, 0.25, 30)
    assert (m3.done, m3.rate, m3.avg_score) == (0, 0.0, None)
    assert (m1.drop, m2.drop, m3.drop) == (None, 0.25, 0.25)
    assert report.worst_drop.title == "M2"


async def test_attendance_per_session_excludes_excused_and_uses_corrections(report) -> None:  # type: ignore[no-untyped-def]
    s1, s2, s3 = report.sessions
    assert (s1.present, s1.late, s1.absent, s1.excused, s1.expected) == (1, 1, 2, 0, 4)
    assert s1.rate == pytest.approx(2 / 4)
    assert (s2.present, s2.late, s2.absent, s2.excused, s2.expected) == (2, 0, 1, 1, 3)
    assert s2.rate == pytest.approx(2 / 3)
    assert not s3.counted and s3.rate is None


async def test_learners_and_who_is_at_risk(report) -> None:  # type: ignore[no-untyped-def]
    by_name = {s.learner.name: s for s in report.learners}
    ann, ben, cat, dan = (by_name[n] for n in ("ann", "ben", "cat", "dan"))
    assert (ann.modules_done, ann.modules_due, ann.modules_overdue, ann.sessions_attended) == (2, 1, 0, 2)
    assert ann.risks == []
    assert (ben.modules_done, ben.modules_overdue, ben.sessions_attended, ben.sessions_excused) == (
        1,
        1,
        1,
        1,
    )
    assert ben.risks == ["1 overdue module"]
    assert (cat.modules_done, cat.modules_overdue, cat.sessions_attended, cat.sessions_missed) == (0, 2, 1, 1)
    assert cat.risks == ["2 overdue modules"]
    assert (dan.sessions_missed, dan.launched) == (2, False)
    assert dan.risks == ["missed 2 sessions", "2 overdue modules", "no activity yet"]
    assert [s.learner.name for s in report.at_risk] == ["ben", "cat", "dan"]


async def test_segments_by_site_department_and_seniority(report) -> None:  # type: ignore[no-untyped-def]
    got = {
        (g.dimension, g.value): (g.learners, g.launch_rate, g.completion_rate, g.attendance_rate, g.at_risk)
        for g in report.segments
    }
    assert got == {
        ("site", "Paris"): (2, 1.0, 3 / 4, 3 / 3, 1),
        ("site", "Lyon"): (1, 1.0, 0.0, 1 / 2, 1),
        ("site", "(unknown)"): (1, 0.0, 0.0, 0.0, 1),
        ("department", "Ops"): (2, 0.5, 1 / 4, 1 / 3, 2),
        ("department", "Sales"): (2, 1.0, 2 / 4, 3 / 4, 1),
        ("seniority", "junior"): (1, 1.0, 1.0, 1.0, 0),
        ("seniority", "senior"): (1, 1.0, 0.5, 1.0, 1),
        ("seniority", "(unknown)"): (2, 0.5, 0.0, 1 / 4, 2),
    }
    assert [(g.dimension, g.value) for g in report.segments][:3] == [
        ("site", "Lyon"),
        ("site", "Paris"),
        ("site", "(unknown)"),
    ]


async def test_thresholds_come_from_the_programme_section(chat: Chat) -> None:
    fixture = await build_fixture(chat)
    cohort = fixture.cohort
    cohort.programme = {"digests": {"missed_sessions": 3, "overdue_modules": 2, "inactive_days": None}}
    async with fixture.app.store.transaction() as session:
        rows = await load_rows(session, cohort, REPORT_AT)
    report = compute_report(rows, DigestConfig.of(cohort))
    assert {s.learner.name: s.risks for s in report.at_risk} == {
        "cat": ["2 overdue modules"],
        "dan": ["2 overdue modules"],
    }
    # Inactivity alone: a week later with a 7-day threshold, ann (last seen 10 March 12:00) is at risk.
    rows.now = REPORT_AT + timedelta(days=7)
    later = compute_report(rows, DigestConfig(inactive_days=7, overdue_modules=99, missed_sessions=99))
    assert later.learner(fixture.ids["ann"]).risks == ["inactive for 11 days"]


def test_digests_section_is_validated() -> None:
    assert (
        validate_digests({"weekday": "friday", "hour": 9, "missed_sessions": 3, "inactive_days": None}) == []
    )
    errors = dict(validate_digests({"weekday": "someday", "hour": 25, "overdue": 1, "enabled": "yes"}))
    assert set(errors) == {"weekday", "hour", "overdue", "enabled"}
    assert "monday" in errors["weekday"] and "0 to 23" in errors["hour"]
    assert validate_digests([1]) == [("", "must be a mapping, e.g. {weekday: monday, hour: 8}")]


async def test_staff_records_do_not_count(chat: Chat) -> None:
    fixture = await build_fixture(chat)
    cid, tina = fixture.cohort.id or 0, fixture.ids["tina"]
    async with fixture.app.store.transaction() as session:
        session.add(
            Completion(
                cohort_id=cid,
                module_id=fixture.modules["M1"],
                person_id=tina,
                status="passed",
                score=100,
                at=REPORT_AT,
            )
        )
        ctx = EventContext(session=session, now=REPORT_AT, settings=fixture.app.settings)
        for sess in ("S1", "S3"):  # S3 has no learner record: it must not count as held
            await ctx.log(
                "attendance.recorded",
                cohort_id=cid,
                person_id=tina,
                actor_id=tina,
                session_id=fixture.sessions[sess],
                status="present",
                correction=False,
            )
        report = await build_report(session, fixture.cohort, REPORT_AT + timedelta(days=2))
    m1 = report.modules[0]
    assert (m1.done, m1.avg_score) == (2, 70)
    s1, _, s3 = report.sessions
    assert (s1.present, s1.expected) == (1, 4)
    assert not s3.counted
    assert tina not in {s.person_id for s in report.learners}
