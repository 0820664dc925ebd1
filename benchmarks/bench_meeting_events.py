"""Teams meeting events recorded as attendance: events/s and p99 handling time, beside the
check-in click, on SQLite.

Three rows in one run, same machine, same store:
- the check-in click through the engine (as `bench_checkin_clicks`), the figure to compare with;
- a meeting join through the engine (the recording cost alone);
- a meeting join POSTed to `/api/messages` ("HTTP" rows) through botbuilder and the Teams adapter (local mode,
  the Bot Framework connector stand-in answering the member lookups): what a burst costs end to end.
Then a leave and a rejoin for everyone (reconnections) and the meeting's end, checking that every
event is in the chain and the chain verifies. Figures, never pass/fail. Usage:

    python -m benchmarks.bench_meeting_events [--participants 300] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from datetime import timedelta
from pathlib import Path

from benchmarks.bench_checkin_clicks import report, timed
from bot.capabilities.attendance.keys import chain_secret
from bot.capabilities.attendance.models import AttendanceRecord
from bot.capabilities.attendance.verification import verify
from bot.core.clock import SimulatedClock
from bot.core.inbound import Action, Inbound, Profile
from bot.core.meetings import MEETING_ACTION, MeetingEvent, Participant, encode
from tests.standins import teams_activities as teams
from tests.standins.bf_connector import BotConnectorStandIn
from tests.standins.meeting_cohort import STARTS, seed_meeting_cohort
from tests.standins.teams_harness import running_teams


async def main(participants: int, concurrency: int) -> None:
    connector = BotConnectorStandIn().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            clock = SimulatedClock(STARTS - timedelta(minutes=2))
            async with running_teams(f"sqlite:///{Path(tmp) / 'bench.db'}", clock, connector) as h:
                await run(h, clock, participants, concurrency)
    finally:
        connector.stop()


async def run(h: object, clock: SimulatedClock, n: int, concurrency: int) -> None:
    from tests.standins.teams_harness import TeamsHarness

    assert isinstance(h, TeamsHarness)
    url = h.connector.url
    engine_meeting, http_meeting = teams.TeamsMeeting("engine"), teams.TeamsMeeting("http")
    # Two cohorts' worth of learners would clash on slugs: one cohort, two sessions of its own each.
    users = await seed_meeting_cohort(h.app, n, engine_meeting)
    await add_session(h, http_meeting)
    for user in users:  # the member lookup answers as Teams does (cached by the adapter afterwards)
        h.connector.members[user.id] = {**user.account, "email": f"{user.name}@example.com"}
    print(f"{n} participants, {concurrency} concurrent, SQLite (WAL); load average {os.getloadavg()[0]:.1f}")

    async def click(i: int) -> None:
        who = users[i]
        reply = await h.app.engine.handle(
            Inbound(
                sender=Profile("teams", teams.TENANT, who.id, who.name),
                action=Action("attendance.checkin", "1"),
                dedupe_key=f"click-{i}",
                event_time=clock.now(),
                auth="teams-local",
            )
        )
        assert reply is not None and "Checked in" in reply.message.summary, reply

    base = report("check-in click (engine)", *await timed(n, concurrency, click))

    clock.set(STARTS + timedelta(minutes=1))

    async def engine_join(i: int) -> None:
        who = users[i]
        event = MeetingEvent(
            "join",
            teams.TENANT,
            engine_meeting.thread_id,
            engine_meeting.meeting_id,
            STARTS + timedelta(seconds=i % 60),
            participants=(Participant(who.id, who.name, who.aad),),
        )
        await h.app.engine.handle(
            Inbound(
                sender=Profile("teams", teams.TENANT, who.id, who.name),
                action=Action(MEETING_ACTION, encode(event)),
                dedupe_key=f"join-{i}",
                auth="teams-local",
            )
        )

    engine = report("meeting join (engine)", *await timed(n, concurrency, engine_join))

    async def post(activity: dict[str, object]) -> None:
        response = await h.post(activity)
        assert response.status == 201, await response.text()

    def stamp(i: int, minute: int) -> str:
        return f"2027-03-01T08:{minute:02d}:{i % 60:02d}.{i % 1000:03d}Z"

    await post(teams.meeting_start(url, users[0], http_meeting, "2027-03-01T07:59:00.000Z"))
    joins = [teams.participants(url, "join", http_meeting, stamp(i, 0), u) for i, u in enumerate(users)]
    http = report("meeting join (HTTP)", *await timed(n, concurrency, lambda i: post(joins[i])))
    leaves = [teams.participants(url, "leave", http_meeting, stamp(i, 20), u) for i, u in enumerate(users)]
    report("meeting leave (HTTP)", *await timed(n, concurrency, lambda i: post(leaves[i])))
    rejoins = [teams.participants(url, "join", http_meeting, stamp(i, 21), u) for i, u in enumerate(users)]
    report("meeting rejoin (HTTP)", *await timed(n, concurrency, lambda i: post(rejoins[i])))
    await post(teams.meeting_end(url, users[0], http_meeting, "2027-03-01T09:00:00.000Z"))

    rows = await h.rows(AttendanceRecord)
    edges = [r for r in rows if r.source == "meeting" and r.meeting_event in ("join", "leave")]
    async with h.app.store.transaction() as session:
        ok = (await verify(session, chain_secret(h.app.settings))).ok
    print(
        f"ratio meeting join / check-in click: engine {engine / base:.2f}, HTTP {http / base:.2f}; "
        f"{len(edges)} of {4 * n} join/leave events recorded; chain verifies: {ok}"
    )


async def add_session(h: object, meeting: teams.TeamsMeeting) -> None:
    from bot.core.models import Cohort, LiveSession
    from tests.standins.teams_harness import TeamsHarness

    assert isinstance(h, TeamsHarness)
    async with h.app.store.transaction() as session:
        (cohort,) = await h.rows(Cohort)
        session.add(
            LiveSession(
                cohort_id=cohort.id or 0,
                title="Kick-off (in Teams)",
                starts_at=STARTS,
                duration_min=60,
                location=meeting.join_url,
            )
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    asyncio.run(main(args.participants, args.concurrency))
