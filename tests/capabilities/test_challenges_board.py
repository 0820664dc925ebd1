"""Teams, the leaderboard (fair to team sizes), weekly posts and streaks on the simulated clock."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.capabilities.challenges.judging import Attempt, judge
from bot.capabilities.challenges.leaderboard import ranked
from bot.capabilities.challenges.teams import Member, balance_teams
from bot.core.clock import SimulatedClock
from bot.core.messages import Progress
from bot.core.registry import KPIS, PROGRAMME_SECTIONS
from tests.capabilities.challenges_support import (
    both_totals,
    cohort_row,
    log,
    person_id,
    setup_cohort,
    team_points,
)
from tests.conftest import Chat, RecordingSender


@settings(max_examples=200, deadline=None)
@given(
    teams=st.lists(st.sampled_from(["a", "b", "c", "d", None]), min_size=1, max_size=40),
    n=st.integers(min_value=1, max_value=8),
)
def test_balancing_gives_sizes_within_one_and_moves_nobody_needlessly(
    teams: list[str | None], n: int
) -> None:
    n = min(n, len(teams))
    members = [Member(i, team, i) for i, team in enumerate(teams)]
    moves = balance_teams(members, n)
    final = [moves.get(m.person_id, m.team) for m in members]
    sizes = sorted(final.count(t) for t in set(final))
    assert None not in final and len(set(final)) == n
    assert sizes[-1] - sizes[0] <= 1
    assert all(moves[pid] != members[pid].team for pid in moves)
    # Already balanced teams stay as they are.
    assert balance_teams([Member(i, final[i], i) for i in range(len(final))], n) == {}


def test_equal_scores_share_a_rank() -> None:
    assert ranked([("a", 5), ("b", 3), ("c", 3), ("d", 1)]) == [(1, "a"), (2, "b"), (2, "c"), (4, "d")]


async def test_balance_keeps_points_where_they_were_earned(chat: Chat, sender: RecordingSender) -> None:
    await setup_cohort(chat, {"red": ["alice", "bob", "carl", "dora"], "blue": ["emil"]})
    await chat.say("tina", "enroll spoc fay")
    await log(chat.app, "survey.answered", "dora", survey_id=1)
    assert "Say how many teams" in await chat.say("tina", "teams spoc balance")
    assert "not enough for 9 teams" in await chat.say("tina", "teams spoc balance 9")
    shown = await chat.say("tina", "teams spoc balance 2")
    assert "Balanced *spoc* into 2 teams: 2 learners moved." in shown
    assert "blue (3, 0 pts) : dora, emil, fay" in shown and "red (3, 3 pts)  : alice, bob, carl" in shown
    await chat.app.worker.drain()
    assert "now in team *blue*" in sender.to("dora")[-1].summary
    assert await team_points(chat.app) == {"red": 3}


async def test_leaderboard_ranks_by_points_per_member(chat: Chat) -> None:
    await setup_cohort(chat, {"big": ["a1", "a2", "a3", "a4"], "small": ["b1"]})
    for who in ("a1", "a2", "a3"):
        await log(chat.app, "survey.answered", who, survey_id=1)  # big: 9 points, 2.25 per member
    await log(
        chat.app,
        "module.completed",
        "b1",
        module_id=1,
        status="passed",
        score=None,
        on_time=True,
        source="chat",
    )
    board = await chat.reply("a1", "leaderboard spoc individual")
    assert board is not None
    bars = [b for b in board.message.blocks if isinstance(b, Progress)]
    assert [b.label for b in bars] == [
        "1. small: 10.0 pts/member (10 pts, 1 member)",
        "2. big: 2.2 pts/member (9 pts, 4 members)",
    ]
    text = await chat.say("a1", "leaderboard spoc individual")
    assert "1. b1 : 10 pts (small)" in text and "=2 a1" in text
    assert "not in 'spoc'" in await chat.say("zed", "leaderboard spoc")
    cohort = await cohort_row(chat.app)
    async with chat.app.store.transaction() as session:
        figures = await KPIS["engagement"](session, cohort)
    assert figures["leading_teams"] == ["small"]


async def test_weekly_leaderboard_and_streaks_on_the_clock(
    chat: Chat, sender: RecordingSender, clock: SimulatedClock
) -> None:
    await setup_cohort(chat, {"red": ["alice", "bob"], "blue": ["carl"]})
    # Quizzes elsewhere come first: the first streak is still "Streak #1", not numbered with them.
    await chat.say("tina", "create other")
    for question in ("One?", "Two?"):
        posted = await chat.say("tina", f'challenge other quiz "{question}" *1 2 until=2027-03-02T18:00')
        assert "Quiz #" in posted, posted
    await chat.say("tina", 'module spoc "Module 1" due 2027-03-03')
    await chat.say("tina", 'module spoc "Module 2" due 2027-03-05')
    for module_id in (1, 2):
        await log(
            chat.app,
            "module.completed",
            "alice",
            module_id=module_id,
            status="completed",
            score=None,
            on_time=True,
            source="chat",
        )
        await log(
            chat.app,
            "module.completed",
            "carl",
            module_id=module_id,
            status="completed",
            score=None,
            on_time=True,
            source="chat",
        )
    await log(
        chat.app,
        "module.completed",
        "bob",
        module_id=1,
        status="completed",
        score=None,
        on_time=True,
        source="chat",
    )
    await log(
        chat.app,
        "module.completed",
        "bob",
        module_id=2,
        status="completed",
        score=None,
        on_time=False,
        source="chat",
    )
    # A correction: carl's module 2 was in fact failed, so his week is not a streak.
    await log(
        chat.app,
        "module.completed",
        "carl",
        module_id=2,
        status="failed",
        score=10.0,
        on_time=True,
        source="csv",
    )
    clock.set(datetime(2027, 3, 8, 8, 30, tzinfo=UTC))  # Monday 09:30 in Paris
    # Other capabilities fire on Monday mornings too (digests): look at this one's events.
    fired = [
        (e.kind, outcome)
        for e, outcome in await chat.app.runner.tick()
        if e.kind.startswith("challenges.") and e.kind != "challenges.close"  # the other cohort's quizzes
    ]
    assert fired == [("challenges.streak", "fired"), ("challenges.leaderboard", "fired")]
    await chat.app.worker.drain()
    channel = [m.summary for m in sender.to("#spoc")]
    assert channel[-2:] == ["Streak #1: 1 winner", "spoc: leaderboard, week of 8 Mar: red leads"]
    assert sender.to("alice")[-1].summary == "You won *15 points* in Streak #1."
    alice = await person_id(chat.app, "alice")
    running, replayed = await both_totals(chat.app)
    assert running.people[alice] == 10 + 10 + 15 and running == replayed
    status = await chat.say("alice", "status spoc")
    assert "Your points : 35" in status and "Team red    : rank 1" in status


async def test_streaks_and_weekly_posts_can_be_switched_off(chat: Chat) -> None:
    await setup_cohort(chat, {"red": ["alice"]})
    await chat.say("tina", 'module spoc "Module 1" due 2027-03-03')
    assert {e.kind for e in await chat.app.runner.plan()} >= {"challenges.streak", "challenges.leaderboard"}
    cohort = await cohort_row(chat.app)
    async with chat.app.store.transaction() as session:
        cohort.programme = {"challenges": {"streaks": False, "weekly_leaderboard": False}}
        session.add(cohort)
    assert not {e.kind for e in await chat.app.runner.plan()} & {
        "challenges.streak",
        "challenges.leaderboard",
    }


def test_programme_sections_are_validated() -> None:
    assert PROGRAMME_SECTIONS["points"]({"module_on_time": 15}) == []
    errors = PROGRAMME_SECTIONS["points"]({"module_ontime": 15, "survey_answered": -1})
    assert errors[0][0] == "module_ontime" and "Did you mean module_on_time?" in errors[0][1]
    assert "from 0 to 1000" in errors[1][1]
    assert PROGRAMME_SECTIONS["challenges"]({"streaks": "yes"}) == [
        ("streaks", "must be true or false, not 'yes'")
    ]
    assert PROGRAMME_SECTIONS["challenges"]({"individual_top": 5, "weekly_leaderboard": False}) == []


@settings(max_examples=100, deadline=None)
@given(
    outcomes=st.dictionaries(
        st.sampled_from(["red", "blue", "green"]),
        st.lists(st.booleans(), min_size=1, max_size=6),
        min_size=1,
    ),
    factor=st.integers(min_value=2, max_value=4),
    bigger=st.sampled_from(["red", "blue", "green"]),
)
def test_a_team_cloned_to_a_bigger_size_neither_wins_nor_loses_by_it(
    outcomes: dict[str, list[bool]], factor: int, bigger: str
) -> None:
    """Multiplying one team's members (with the same results) changes nothing about who wins."""

    def play(sizes: dict[str, int]) -> tuple[str, ...]:
        members: dict[int, str | None] = {}
        attempts = []
        for team, results in outcomes.items():
            for _ in range(sizes.get(team, 1)):
                for ok in results:
                    pid = len(members)
                    members[pid] = team
                    attempts.append(Attempt(pid, team, ok))
        return judge("team", members, attempts).teams

    assert play({}) == play({bigger: factor})


async def test_weekly_posts_stay_at_nine_in_cohort_time_across_the_clock_change(chat: Chat) -> None:
    await setup_cohort(chat, {"red": ["alice"]})
    await chat.say("tina", 'module spoc "Module 4" due 2027-03-31')
    posts = {
        e.payload["week"]: e.due_at
        for e in await chat.app.runner.plan()
        if e.kind == "challenges.leaderboard"
    }
    # Europe/Paris moves to summer time on 28 March 2027: 09:00 is 08:00 UTC before, 07:00 UTC after.
    assert posts["2027-03-22"] == datetime(2027, 3, 22, 8, 0, tzinfo=UTC)
    assert posts["2027-03-29"] == datetime(2027, 3, 29, 7, 0, tzinfo=UTC)
    assert max(posts) == "2027-04-05"  # the week after the last module, then no more
