"""The activity-log summaries reports read: kept by the listener, equal to a rebuild from the log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.capabilities.reports.render import day_in
from bot.capabilities.reports.summary import ReportAttendance, ReportLastSeen, rebuild
from bot.core.texts import local_date
from tests.capabilities.reports_fixture import build_fixture
from tests.conftest import Chat


async def snapshot(chat: Chat) -> tuple[set[tuple[int, int, str]], set[tuple[int, datetime]]]:
    async with chat.app.store.transaction() as session:
        attendance = {
            (a.session_id, a.person_id, a.status)
            for a in (await session.exec(select(ReportAttendance))).all()
        }
        seen = {(s.person_id, s.at) for s in (await session.exec(select(ReportLastSeen))).all()}
    return attendance, seen


async def test_listener_keeps_latest_attendance_and_last_seen(chat: Chat) -> None:
    fixture = await build_fixture(chat)
    ids, s1, s2 = fixture.ids, fixture.sessions["S1"], fixture.sessions["S2"]
    attendance, seen = await snapshot(chat)
    assert (s2, ids["cat"], "present") in attendance  # the correction replaced "absent"
    assert (s2, ids["cat"], "absent") not in attendance
    assert (s1, ids["dan"], "absent") not in attendance  # dan has no record for S1
    assert {pid for pid, _ in seen} == {ids["ann"], ids["ben"], ids["cat"]}  # dan never acted himself
    assert (ids["ann"], datetime(2027, 3, 10, 12, 0, tzinfo=UTC)) in seen  # her M2 completion

    async with chat.app.store.transaction() as session:
        await rebuild(session, fixture.cohort.id or 0)
    assert await snapshot(chat) == (attendance, seen)


def test_memoised_local_dates_match_around_midnight() -> None:
    start = datetime(2027, 3, 27, 17, 0, tzinfo=UTC)  # spans Europe's clock change on 28 March
    for minutes in range(0, 36 * 60, 7):
        when = start + timedelta(minutes=minutes, seconds=13)
        for tz in ("Asia/Kolkata", "Europe/Paris", "America/New_York", "Asia/Kathmandu"):
            assert day_in(when, tz) == local_date(when, tz)
