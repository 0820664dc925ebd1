"""Issue 19 end to end: Teams meeting events posted to `/api/messages` become attendance records
in the session's chain; statuses and minutes follow the programme's rules; clicks and the meeting
give one sheet."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta

import pytest

from bot.capabilities.attendance.exports import session_table
from bot.capabilities.attendance.keys import chain_secret
from bot.capabilities.attendance.meeting_links import MeetingLink
from bot.capabilities.attendance.models import AttendanceRecord
from bot.capabilities.attendance.sheets import hours_attended, learner_summaries, session_sheet
from bot.capabilities.attendance.verification import verify
from bot.core.clock import SimulatedClock
from bot.core.models import Cohort, Identity, LiveSession
from tests.capabilities.attendance_helpers import run_until
from tests.standins import teams_activities as teams
from tests.standins.bf_connector import BotConnectorStandIn
from tests.standins.meeting_cohort import seed_meeting_cohort
from tests.standins.teams_harness import TeamsHarness, running_teams

TINA, ALICE, BOB, CAROL, DAN, ERIN = (
    teams.TeamsUser(n) for n in ("tina", "alice", "bob", "carol", "dan", "erin")
)
MEETING = teams.TeamsMeeting("spoc1")


async def post(h: TeamsHarness, activity: dict[str, object]) -> None:
    response = await h.post(activity)
    assert response.status in (200, 201), await response.text()


async def say(h: TeamsHarness, user: teams.TeamsUser, text: str, at: str | None = None, **kw: object) -> str:
    before = len(h.connector.messages())
    activity = teams.message(h.connector.url, user, text, **kw)  # type: ignore[arg-type]
    if at:
        activity["timestamp"] = at
    await post(h, activity)
    replies = h.connector.messages()[before:]
    return replies[-1].card_text() if replies else ""


async def cohort_with_session(h: TeamsHarness, link: str) -> None:
    """Tina's cohort; Alice, Bob, Dan installed the app; Carol is enrolled by email only."""
    for user in (TINA, ALICE, BOB, DAN):
        await post(h, teams.installation(h.connector.url, user))
    await say(h, TINA, "create spoc tz=Europe/Paris")
    await say(h, TINA, "enroll spoc carol@example.com", kind="channel", mentions=(ALICE, BOB, DAN))
    h.connector.members[CAROL.id] = {**CAROL.account, "email": "carol@example.com"}
    reply = await say(h, TINA, f'session spoc "Kick-off" 2027-03-01 09:00 60m link={link}')
    assert "Session *Kick-off* added" in reply.replace("**", "*")


def at(hhmm: str) -> str:
    """A UTC timestamp on the session's day (09:00 Paris is 08:00 UTC)."""
    return f"2027-03-01T{hhmm}:00.000Z"


async def records(h: TeamsHarness) -> list[AttendanceRecord]:
    return sorted(await h.rows(AttendanceRecord), key=lambda r: r.seq)


async def sheet_and_chain(h: TeamsHarness):  # type: ignore[no-untyped-def]
    async with h.app.store.transaction() as session:
        cohort = (await h.rows(Cohort))[0]
        (live,) = await h.rows(LiveSession)
        sheet = await session_sheet(session, cohort, live)
        checked = await verify(session, chain_secret(h.app.settings))
    return sheet, checked


async def test_meeting_events_give_statuses_minutes_and_a_verifying_chain(
    harness: TeamsHarness, clock: SimulatedClock
) -> None:
    h, url = harness, harness.connector.url
    await cohort_with_session(h, MEETING.join_url)
    clock.set(clock.now().replace(hour=7, minute=57))
    await post(h, teams.meeting_start(url, TINA, MEETING, at("07:57")))
    (link,) = await h.rows(MeetingLink)
    assert link.thread_id == MEETING.thread_id and link.meeting_id == MEETING.meeting_id
    assert link.started_at is not None and link.started_at.minute == 57

    timeline = [
        ("07:58", "join", (ALICE, ERIN)),  # Erin is a guest: not enrolled, not recorded
        ("08:00", "join", (CAROL,)),  # enrolled by email: matched through the member lookup
        ("08:12", "join", (BOB,)),  # late
        ("08:20", "leave", (ALICE,)),  # a dropped connection ...
        ("08:21", "join", (ALICE,)),  # ... and the reconnection
        ("08:30", "leave", (CAROL,)),  # leaves early: half the session
        ("08:50", "join", (DAN,)),
        ("08:55", "leave", (DAN,)),  # five minutes only
        ("09:01", "leave", (ALICE,)),
    ]
    for hhmm, kind, users in timeline:
        await post(h, teams.participants(url, kind, MEETING, at(hhmm), *users))
    await post(h, teams.meeting_end(url, TINA, MEETING, at("09:02")))

    rows = await records(h)
    edges = [r for r in rows if r.meeting_event in ("join", "leave")]
    assert len(edges) == 9 and all(r.source == "meeting" for r in rows)
    assert all(r.event_time is not None and r.received_at is not None for r in rows)
    assert {r.person_name for r in rows} == {"Alice", "Bob", "carol", "Dan"}
    assert ERIN.id not in {i.user_id for i in await h.rows(Identity)}  # a guest leaves no trace

    sheet, checked = await sheet_and_chain(h)
    assert checked.ok, checked.problems
    by_name = {r.name.lower(): r for r in sheet.rows}
    assert (by_name["alice"].status, by_name["alice"].minutes) == ("present", 59)
    assert (by_name["bob"].status, by_name["bob"].minutes) == ("late", 48)
    assert (by_name["carol"].status, by_name["carol"].minutes) == ("partial", 30)
    assert (by_name["dan"].status, by_name["dan"].minutes) == ("absent", 5)
    assert all(r.recorded_by == "meeting" for r in sheet.rows)
    assert sheet.totals_line() == (
        "4 learners: 1 present, 1 late, 1 partial, 1 absent, 0 excused; "
        "in the meeting: 142 min in all, 35.5 on average"
    )
    # Certificates' hours and the audit pack's summary come from the minutes.
    assert hours_attended(sheet, by_name["bob"]) == pytest.approx(0.8)
    summary = {s.name.lower(): s for s in learner_summaries([sheet])}
    assert summary["carol"].hours == 0.5
    table = session_table(sheet)  # the CSV / PDF sheet, also in the audit pack
    assert table[0][-1] == "Minutes in meeting"
    assert {row[0]: (row[2], row[5], row[-1]) for row in table[1:]}["Bob"] == ("Late", "meeting", "48")

    # Redelivered events change nothing (Teams retries) and the end is settled once.
    again = teams.meeting_end(url, TINA, MEETING, at("09:02"))
    await post(h, again)
    await post(h, again)
    assert len(await records(h)) == len(rows)


async def test_clicks_and_meeting_give_one_sheet(harness: TeamsHarness, clock: SimulatedClock) -> None:
    h, url = harness, harness.connector.url
    await cohort_with_session(h, MEETING.join_url)
    clock.set(clock.now().replace(hour=7, minute=56))
    # Alice and Dan click Check in; Alice then attends, Dan only looks in for five minutes.
    assert "Checked in" in await say(h, ALICE, "checkin spoc", at=at("07:56"))
    assert "Checked in" in await say(h, DAN, "checkin spoc", at=at("07:56"))
    await post(h, teams.meeting_start(url, TINA, MEETING, at("07:58")))
    await post(h, teams.participants(url, "join", MEETING, at("07:59"), ALICE, DAN))
    await post(h, teams.participants(url, "leave", MEETING, at("08:04"), DAN))
    # Joined, then clicked: already recorded, not a second status.
    clock.set(clock.now().replace(hour=8, minute=5))
    await say(h, BOB, "checkin spoc", at=at("08:05"))
    await post(h, teams.participants(url, "join", MEETING, at("08:06"), BOB))
    # A trainer correction wins over both sources.
    reply = await say(
        h, TINA, "correct spoc @bob present #1 was in the room, no laptop", kind="channel", mentions=(BOB,)
    )
    assert "Bob" in reply
    await post(h, teams.meeting_end(url, TINA, MEETING, at("09:00")))

    sheet, checked = await sheet_and_chain(h)
    assert checked.ok, checked.problems
    by_name = {r.name.lower(): r for r in sheet.rows}
    assert by_name["alice"].status == "present" and by_name["alice"].note == "check-in: Present"
    assert by_name["dan"].status == "absent" and by_name["dan"].note == "check-in: Present"  # meeting wins
    assert by_name["bob"].status == "present" and by_name["bob"].recorded_by == "Tina"  # correction wins
    assert by_name["carol"].status == ""  # neither clicked nor joined
    assert len([r for r in sheet.rows if r.status]) == 3  # one status per learner
    rows = await records(h)
    assert {r.source for r in rows} == {"click", "meeting"}  # both kept


async def test_unlinked_meeting_posts_a_card_to_choose_the_session(
    harness: TeamsHarness, clock: SimulatedClock
) -> None:
    h, url = harness, harness.connector.url
    await cohort_with_session(h, "Room-4")
    clock.set(clock.now().replace(hour=7, minute=58))
    before = len(h.connector.messages(MEETING.thread_id))
    await post(h, teams.meeting_start(url, TINA, MEETING, at("07:58")))
    posted = h.connector.messages(MEETING.thread_id)[before:]
    assert len(posted) == 1 and "Which session" in posted[0].card_text()
    assert posted[0].card is not None
    (button,) = teams.actions_of(posted[0].card)
    # Until a trainer picks, nothing is recorded; a learner cannot pick.
    await post(h, teams.participants(url, "join", MEETING, at("07:59"), ALICE))
    assert await records(h) == []
    refused = await h.post(teams.execute(url, ALICE, button, reply_to="x", kind="group"))
    assert "Only admins and trainers" in str((await refused.json())["value"])
    picked = await h.post(teams.execute(url, TINA, button, reply_to="x", kind="group"))
    assert "now *Kick-off*" in str(await picked.json()).replace("**", "*")
    await post(h, teams.participants(url, "join", MEETING, at("08:01"), ALICE))
    await post(h, teams.meeting_end(url, TINA, MEETING, at("09:00")))
    sheet, checked = await sheet_and_chain(h)
    assert checked.ok
    alice = next(r for r in sheet.rows if r.name.lower() == "alice")
    assert (alice.status, alice.minutes) == ("present", 59)


async def test_adding_the_app_to_a_meeting_asks_which_session_it_is(
    harness: TeamsHarness, clock: SimulatedClock
) -> None:
    h, url = harness, harness.connector.url
    await cohort_with_session(h, "Room-4")
    clock.set(clock.now().replace(hour=7, minute=40))
    added = teams.installation(url, TINA, kind="group")
    added["conversation"]["id"] = MEETING.thread_id
    added["channelData"]["meeting"] = {"id": MEETING.meeting_id}
    del added["conversation"]["conversationType"]  # meeting chats may come without it
    added["timestamp"] = at("07:40")
    await post(h, added)
    (card,) = h.connector.messages(MEETING.thread_id)
    assert "Which session" in card.card_text() and "spoc: Kick-off" in card.card_text()
    assert not h.connector.messages(TINA.personal_conversation)[-1].card_text().startswith("Hi Tina")
    # The same card for a learner who adds the app? No: only a trainer's sessions are offered.
    learner_added = {**added, "id": "learner-add", "from": ALICE.account}
    await post(h, learner_added)
    assert len(h.connector.messages(MEETING.thread_id)) == 1


async def test_three_hundred_joining_within_a_minute_are_all_recorded(
    harness: TeamsHarness, clock: SimulatedClock
) -> None:
    h, url = harness, harness.connector.url
    big = teams.TeamsMeeting("big300")
    users = await seed_meeting_cohort(h.app, 300, big)
    clock.set(clock.now().replace(hour=7, minute=59))
    await post(h, teams.meeting_start(url, users[0], big, at("07:59")))
    # Everyone joins between 08:00:00 and 08:00:59, all at once as Teams delivers them.
    joins = [
        teams.participants(url, "join", big, f"2027-03-01T08:00:{i % 60:02d}.{i:03d}Z", user)
        for i, user in enumerate(users)
    ]
    responses = await asyncio.gather(*(h.post(activity) for activity in joins))
    assert [r.status for r in responses] == [201] * 300
    await post(h, teams.meeting_end(url, users[0], big, at("09:00")))
    rows = await records(h)
    assert len([r for r in rows if r.meeting_event == "join"]) == 300
    assert len({r.person_id for r in rows if r.meeting_event == "end"}) == 300
    async with h.app.store.transaction() as session:
        cohort = (await h.rows(Cohort))[0]
        (live,) = await h.rows(LiveSession)
        sheet = await session_sheet(session, cohort, live)
        assert (await verify(session, chain_secret(h.app.settings))).ok
    assert {r.status for r in sheet.rows} == {"present"} and len(sheet.rows) == 300
    assert min(r.minutes or 0 for r in sheet.rows) == 59


async def test_malformed_meeting_events_are_answered_without_a_5xx(
    harness: TeamsHarness, clock: SimulatedClock
) -> None:
    h, url = harness, harness.connector.url
    await cohort_with_session(h, MEETING.join_url)
    clock.set(clock.now().replace(hour=7, minute=59))
    odd = teams.participants(url, "join", MEETING, at("08:00"), ALICE)
    for value in ("not an object", {"members": "nope"}, {"members": [{"user": 3}]}, None):
        odd = {**odd, "id": f"odd-{value!r}", "value": value}
        response = await h.post(odd)
        assert response.status < 500, await response.text()
    no_chat = {**odd, "id": "odd-no-conversation", "conversation": None}
    assert (await h.post(no_chat)).status < 500
    assert await records(h) == []


async def test_forged_meeting_events_are_refused_and_leave_no_record(
    db_url: str, clock: SimulatedClock, connector: BotConnectorStandIn
) -> None:
    async with running_teams(db_url, clock, connector, credentials=True) as h:
        users = await seed_meeting_cohort(h.app, 2, MEETING)
        clock.set(clock.now().replace(hour=8, minute=1))
        join = teams.participants(h.connector.url, "join", MEETING, at("08:01"), *users)
        forged = "Bearer " + h.connector.issuer.mint("11111111-2222-3333-4444-555555555555", h.connector.url)
        assert (await h.post(join, authorization=forged)).status == 401
        assert (await h.post(join, authorization="")).status == 401
        assert await records(h) == []
        assert (await h.post(join)).status == 201  # the same event, signed by the Bot Framework
        (first, second) = await records(h)
        assert (first.auth, second.auth) == ("bf-jwt", "bf-jwt")
        # A leave that names no sender: Teams vouches for the participant in `value.members`.
        leave = teams.participants(h.connector.url, "leave", MEETING, at("08:30"), users[0])
        del leave["from"]
        assert (await h.post(leave)).status == 201
        assert [r.meeting_event for r in await records(h)] == ["join", "join", "leave"]


async def test_a_meeting_whose_end_never_comes_is_settled_after_the_planned_end(
    harness: TeamsHarness, clock: SimulatedClock
) -> None:
    h, url = harness, harness.connector.url
    users = await seed_meeting_cohort(h.app, 2, MEETING)
    clock.set(clock.now().replace(hour=7, minute=59))
    await post(h, teams.participants(url, "join", MEETING, at("08:00"), *users))
    await post(h, teams.participants(url, "leave", MEETING, at("08:30"), users[1]))
    # No meetingEnd: the bot was removed from the meeting. The settle fires 30 min after 09:00 UTC.
    await run_until(h.app, clock, clock.now().replace(hour=9, minute=31))
    ends = [r for r in await records(h) if r.meeting_event == "end"]
    assert sorted((r.person_name, r.status, r.auth) for r in ends) == [
        ("L00000", "present", "system:meeting-settle"),
        ("L00001", "partial", "system:meeting-settle"),
    ]
    await run_until(h.app, clock, clock.now() + timedelta(days=1))  # fires once
    assert len([r for r in await records(h) if r.meeting_event == "end"]) == 2
    _, checked = await sheet_and_chain(h)
    assert checked.ok


async def test_a_record_passed_off_as_a_click_breaks_the_chain(
    harness: TeamsHarness, clock: SimulatedClock, db_url: str
) -> None:
    h, url = harness, harness.connector.url
    users = await seed_meeting_cohort(h.app, 1, MEETING)
    clock.set(clock.now().replace(hour=8, minute=1))
    await post(h, teams.participants(url, "join", MEETING, at("08:01"), *users))
    _, checked = await sheet_and_chain(h)
    assert checked.ok
    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as conn:
        conn.execute("UPDATE attendance_record SET source = 'click', meeting_event = NULL WHERE seq = 1")
    _, checked = await sheet_and_chain(h)
    assert not checked.ok and "does not match its hash" in str(checked.problems[0])
