"""Teams meeting activities, in the shapes Teams documents, as platform-neutral meeting events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botbuilder.schema import Activity

from adapters.teams.meetings import meeting_event
from bot.core.meetings import decode, encode, same_join_url, thread_of_join_url
from tests.standins import teams_activities as teams

URL = "https://smba.trafficmanager.net/emea/"
MEETING = teams.TeamsMeeting("doc")
ALICE, BOB = teams.TeamsUser("alice"), teams.TeamsUser("bob")


def parsed(data: dict[str, Any]) -> Activity:
    return Activity().deserialize(data)


def test_start_carries_the_meeting_ids_url_and_its_own_time() -> None:
    event = meeting_event(parsed(teams.meeting_start(URL, ALICE, MEETING, "2027-03-01T07:58:31.123Z")))
    assert event is not None and event.kind == "start"
    assert (event.thread_id, event.meeting_id, event.workspace) == (
        MEETING.thread_id,
        MEETING.meeting_id,
        teams.TENANT,
    )
    # `StartTime` has seven fractional digits in Teams' payloads.
    assert event.at == datetime(2027, 3, 1, 7, 58, 31, 123000, tzinfo=UTC)
    assert thread_of_join_url(event.join_url) == MEETING.thread_id


def test_joins_list_every_member_with_their_aad_object_id() -> None:
    activity = parsed(teams.participants(URL, "join", MEETING, "2027-03-01T08:01:00.000Z", ALICE, BOB))
    event = meeting_event(activity)
    assert event is not None and event.kind == "join"
    assert [(p.user_id, p.directory_id) for p in event.participants] == [
        (ALICE.id, ALICE.aad),
        (BOB.id, BOB.aad),
    ]
    assert decode(encode(event)) == event  # what crosses into the engine is plain data


def test_odd_payloads_give_no_event_or_skip_what_nothing_vouches_for() -> None:
    data = teams.participants(URL, "leave", MEETING, "2027-03-01T08:01:00.000Z", ALICE)
    data["value"] = {"members": [{"user": {"name": "no id"}}, "junk", None]}
    event = meeting_event(parsed(data))
    assert event is not None and event.participants == ()
    data["name"] = "application/vnd.microsoft.readReceipt"
    assert meeting_event(parsed(data)) is None


def test_join_urls_compare_by_meeting_not_by_query() -> None:
    assert same_join_url(MEETING.join_url, MEETING.join_url.split("?")[0] + "?context=%7b%7d")
    assert not same_join_url(MEETING.join_url, teams.TeamsMeeting("other").join_url)
    assert thread_of_join_url("https://teams.microsoft.com/meet/2345?p=abc") is None
