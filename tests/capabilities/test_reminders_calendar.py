"""A six-week programme on the simulated clock: each learner gets exactly the expected reminders,
at the expected local times, across both daylight-saving changes (US 14 March, EU 28 March 2027)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.clock import SimulatedClock
from tests.conftest import Chat
from tests.schedules.scheduler_helpers import TimedSender, person_in, received, run_until

PROGRAMME = """\
name: dst-6w
tz: Europe/Paris
sessions:
  - {title: "Live {n}", weekly: tue, count: 6, at: "14:00", duration: 90m}
  - {title: "Early bird", day: 16, at: "07:00", duration: 30m}
modules:
  - {title: "Module 1", due: 4}
  - {title: "Module 2", due: 11}
  - {title: "Module 3", due: 18}
  - {title: "Module 4", due: 25}
  - {title: "Module 5", due: 32}
  - {title: "Module 6", due: 39}
reminders:
  - {of: session, before: 1d}
  - {of: session, before: 15m, quiet_hours: ignore}
  - {of: module, days_before: 2, at: "09:00"}
quiet_hours: {from: "21:00", to: "08:00"}
"""
END = datetime(2027, 4, 12, tzinfo=UTC)
ZONES = {"paula": "Europe/Paris", "nate": "America/New_York", "kavya": "Asia/Kolkata"}


@pytest.fixture
def sender(clock: SimulatedClock) -> TimedSender:
    return TimedSender(clock)


@pytest.fixture
def programmes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "programmes"
    folder.mkdir()
    (folder / "dst-6w.yaml").write_text(PROGRAMME)
    monkeypatch.chdir(tmp_path)
    return folder


def weekly(times: list[str], rule: str) -> list[tuple[str, str]]:
    return [(t, rule) for t in times]


# Session 1d: Monday 14:00 in Paris. New York is 6 hours behind, but only 5 between the US and
# the EU changes; Kolkata has no DST, so it is 4h30 ahead of Paris, then 3h30.
EXPECTED = {
    "paula": sorted(
        weekly(
            [
                "Mon 01 Mar 14:00",
                "Mon 08 Mar 14:00",
                "Mon 15 Mar 14:00",
                "Mon 22 Mar 14:00",
                "Mon 29 Mar 14:00",
                "Mon 05 Apr 14:00",
            ],
            "1d",
        )
        + weekly(
            [
                "Tue 02 Mar 13:45",
                "Tue 09 Mar 13:45",
                "Tue 16 Mar 13:45",
                "Tue 23 Mar 13:45",
                "Tue 30 Mar 13:45",
                "Tue 06 Apr 13:45",
            ],
            "15m",
        )
        + weekly(
            [
                "Wed 03 Mar 09:00",
                "Wed 10 Mar 09:00",
                "Wed 17 Mar 09:00",
                "Wed 24 Mar 09:00",
                "Wed 31 Mar 09:00",
                "Wed 07 Apr 09:00",
            ],
            "d2@0900",
        )
        # Early bird (Wed 17 Mar 07:00): its 1d reminder falls in quiet hours, deferred to 08:00.
        + [("Tue 16 Mar 08:00", "1d"), ("Wed 17 Mar 06:45", "15m")]
    ),
    "nate": sorted(
        weekly(
            [
                "Mon 01 Mar 08:00",
                "Mon 08 Mar 08:00",
                "Mon 15 Mar 09:00",
                "Mon 22 Mar 09:00",
                "Mon 29 Mar 08:00",
                "Mon 05 Apr 08:00",
            ],
            "1d",
        )
        # 15 minutes before is in New York's quiet hours, but that rule ignores them.
        + weekly(
            [
                "Tue 02 Mar 07:45",
                "Tue 09 Mar 07:45",
                "Tue 16 Mar 08:45",
                "Tue 23 Mar 08:45",
                "Tue 30 Mar 07:45",
                "Tue 06 Apr 07:45",
            ],
            "15m",
        )
        + weekly(
            [
                "Wed 03 Mar 09:00",
                "Wed 10 Mar 09:00",
                "Wed 17 Mar 09:00",
                "Wed 24 Mar 09:00",
                "Wed 31 Mar 09:00",
                "Wed 07 Apr 09:00",
            ],
            "d2@0900",
        )
        # Early bird 1d: 02:00 in New York, deferred to the end of the night there.
        + [("Tue 16 Mar 08:00", "1d"), ("Wed 17 Mar 01:45", "15m")]
    ),
    "kavya": sorted(
        weekly(
            [
                "Mon 01 Mar 18:30",
                "Mon 08 Mar 18:30",
                "Mon 15 Mar 18:30",
                "Mon 22 Mar 18:30",
                "Mon 29 Mar 17:30",
                "Mon 05 Apr 17:30",
            ],
            "1d",
        )
        + weekly(
            [
                "Tue 02 Mar 18:15",
                "Tue 09 Mar 18:15",
                "Tue 16 Mar 18:15",
                "Tue 23 Mar 18:15",
                "Tue 30 Mar 17:15",
                "Tue 06 Apr 17:15",
            ],
            "15m",
        )
        + weekly(
            [
                "Wed 03 Mar 09:00",
                "Wed 10 Mar 09:00",
                "Wed 17 Mar 09:00",
                "Wed 24 Mar 09:00",
                "Wed 31 Mar 09:00",
                "Wed 07 Apr 09:00",
            ],
            "d2@0900",
        )
        + [("Tue 16 Mar 11:30", "1d"), ("Wed 17 Mar 11:15", "15m")]
    ),
}


def by_time(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted(items, key=lambda i: datetime.strptime(i[0] + " 2027", "%a %d %b %H:%M %Y"))


async def test_six_weeks_three_zones_across_both_dst_changes(
    chat: Chat, sender: TimedSender, clock: SimulatedClock, programmes: Path
) -> None:
    for name, tz in ZONES.items():
        await person_in(chat.app, name, tz)
    reply = await chat.say("tina", "create dst programme=dst-6w start=2027-03-01")
    assert "7 sessions, 6 modules" in reply
    await chat.say("tina", "enroll dst paula nate kavya")

    await run_until(chat.app, clock, END)

    for name, tz in ZONES.items():
        got = [(when, rule.split(":")[1]) for when, rule in received(sender, name, tz)]
        assert got == by_time(EXPECTED[name]), name
    # One job per (item, rule, zone): 3 zones, never one per learner.
    # (Other capabilities plan their own events too: digests, leaderboards, check-in windows.)
    events = [e for e in await chat.app.runner.plan() if e.key.startswith("rem:")]
    assert len(events) == (7 * 2 + 6) * 3


async def test_a_learner_without_a_profile_zone_gets_the_cohorts(
    chat: Chat, sender: TimedSender, clock: SimulatedClock, programmes: Path
) -> None:
    await person_in(chat.app, "zed", None)
    await chat.say("tina", "create dst programme=dst-6w start=2027-03-01")
    await chat.say("tina", "enroll dst zed")
    await run_until(chat.app, clock, datetime(2027, 3, 4, tzinfo=UTC))
    assert received(sender, "zed", "Europe/Paris")[:2] == [
        ("Mon 01 Mar 14:00", "s1:1d"),
        ("Tue 02 Mar 13:45", "s1:15m"),
    ]
