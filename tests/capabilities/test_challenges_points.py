"""Points come from the activity log: check-ins, on-time modules, surveys, wins and manual awards;
corrections re-evaluate, team changes leave earned points with the old team, and a replay of the log
matches the running totals."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlmodel import func, select

from bot.core.clock import SimulatedClock
from bot.core.models import Activity
from tests.capabilities.challenges_support import both_totals, log, person_points, setup_cohort, team_points
from tests.conftest import Chat, RecordingSender

TEAMS = {"red": ["alice", "bob"], "blue": ["carl", "dora", "emil"]}


async def test_each_scoring_activity_earns_its_default_points(chat: Chat) -> None:
    await setup_cohort(chat, TEAMS)
    await log(chat.app, "attendance.recorded", "alice", session_id=1, status="present", correction=False)
    await log(chat.app, "attendance.recorded", "bob", session_id=1, status="late", correction=False)
    await log(
        chat.app,
        "module.completed",
        "alice",
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
        module_id=1,
        status="completed",
        score=None,
        on_time=False,
        source="chat",
    )
    await log(
        chat.app,
        "module.completed",
        "carl",
        module_id=1,
        status="failed",
        score=20.0,
        on_time=True,
        source="csv",
    )
    await log(chat.app, "survey.answered", "carl", survey_id=4)
    await log(chat.app, "survey.answered", "carl", survey_id=4)  # the same survey twice counts once
    assert await person_points(chat.app, "alice") == 5 + 10
    assert await person_points(chat.app, "bob") == 2
    assert await person_points(chat.app, "carl") == 3
    assert await team_points(chat.app) == {"red": 17, "blue": 3}


async def test_attendance_correction_leaves_no_stale_points(chat: Chat) -> None:
    await setup_cohort(chat, TEAMS)
    await log(chat.app, "attendance.recorded", "alice", session_id=7, status="present", correction=False)
    assert await person_points(chat.app, "alice") == 5
    await log(chat.app, "attendance.recorded", "alice", session_id=7, status="absent", correction=True)
    assert await person_points(chat.app, "alice") == 0
    assert await team_points(chat.app) == {}
    running, replayed = await both_totals(chat.app)
    assert running == replayed


async def test_points_stay_with_the_team_they_were_earned_for(chat: Chat) -> None:
    await setup_cohort(chat, TEAMS)
    await log(chat.app, "survey.answered", "alice", survey_id=1)
    assert "now in team *blue*" in await chat.say("tina", "team spoc alice blue")
    await log(chat.app, "survey.answered", "alice", survey_id=2)
    # A correction of something earned while in red stays red's.
    await log(chat.app, "attendance.recorded", "alice", session_id=3, status="present", correction=False)
    assert await team_points(chat.app) == {"red": 3, "blue": 3 + 5}
    assert await person_points(chat.app, "alice") == 11
    running, replayed = await both_totals(chat.app)
    assert running == replayed


async def test_manual_award_needs_a_reason_and_is_told_to_the_learner(
    chat: Chat, sender: RecordingSender
) -> None:
    await setup_cohort(chat, TEAMS)
    answer = await chat.say("tina", "award spoc alice 12")
    assert "Missing <reason>" in answer
    assert await person_points(chat.app, "alice") == 0
    assert "alice gets +12 points (for team red): helped with the lab" in await chat.say(
        "tina", "award spoc alice 12 helped with the lab"
    )
    assert "Team *blue* gets -4 points" in await chat.say("tina", "award spoc team:blue -4 late to the retro")
    assert "no team 'green'" in await chat.say("tina", "award spoc team:green 5 nice")
    assert "Only admins and trainers" in await chat.say("bob", "award spoc bob 100 because")
    assert await team_points(chat.app) == {"red": 12, "blue": -4}
    await chat.app.worker.drain()
    assert any("+12 points" in m.summary and "helped with the lab" in m.summary for m in sender.to("alice"))


async def test_changing_a_rule_recomputes_everyone_the_same_way(chat: Chat) -> None:
    await setup_cohort(chat, TEAMS)
    await log(
        chat.app,
        "module.completed",
        "alice",
        module_id=1,
        status="passed",
        score=90.0,
        on_time=True,
        source="chat",
    )
    assert "is now worth 15" in await chat.say("tina", "points spoc set module_on_time 15")
    assert await person_points(chat.app, "alice") == 15
    await log(
        chat.app,
        "module.completed",
        "dora",
        module_id=1,
        status="passed",
        score=90.0,
        on_time=True,
        source="chat",
    )
    assert await person_points(chat.app, "dora") == 15
    assert "module_on_time     : 15 (default 10)" in await chat.say("alice", "points spoc rules")
    assert "Kinds:" in await chat.say("tina", "points spoc set bonus 3")
    assert "Only admins and trainers" in await chat.say("alice", "points spoc set module_on_time 99")
    assert "Your points : 15" in await chat.say("alice", "points spoc")


async def test_long_run_with_corrections_replays_to_the_running_totals(
    chat: Chat, clock: SimulatedClock
) -> None:
    """Six simulated weeks of activities from every capability, with corrections, moves and awards."""
    rng = random.Random(3)
    people = [p for members in TEAMS.values() for p in members]
    await setup_cohort(chat, TEAMS)
    for day in range(42):
        clock.advance(timedelta(days=1))
        for who in people:
            roll = rng.random()
            if roll < 0.3:
                status = rng.choice(["present", "late", "absent", "excused"])
                await log(
                    chat.app,
                    "attendance.recorded",
                    who,
                    session_id=day // 3,
                    status=status,
                    correction=rng.random() < 0.3,
                )
            elif roll < 0.5:
                await log(
                    chat.app,
                    "module.completed",
                    who,
                    module_id=day // 7,
                    status=rng.choice(["completed", "passed", "failed"]),
                    score=None,
                    on_time=rng.random() < 0.7,
                    source="chat",
                )
            elif roll < 0.6:
                await log(chat.app, "survey.answered", who, survey_id=day // 5)
        if day % 9 == 4:
            who, team = rng.choice(people), rng.choice(["red", "blue", "green"])
            await chat.say("tina", f"team spoc {who} {team}")
        if day % 11 == 2:
            await chat.say(
                "tina", f"award spoc {rng.choice(people)} {rng.randint(-5, 15) or 1} good question"
            )
        if day == 30:
            await chat.say("tina", "points spoc set attendance_present 7")
        if day == 20:
            assert "Balanced" in await chat.say("tina", "teams spoc balance 2")
        if day % 10 == 1:  # a quiz, answered by some, closed by its scheduled event the next day
            assert "Posted" in await chat.say("tina", 'challenge spoc quiz "Pick b" a *b c')
            challenge = day // 10 + 1
            for who in rng.sample(people, 3):
                await chat.press(
                    who, "challenges.answer", str(challenge), {f"challenge-{challenge}": rng.choice("abc")}
                )
        if day % 10 == 3:  # a day later plus the grace: the scheduler closes it
            assert [e.kind for e, _ in await chat.app.runner.tick()] == ["challenges.close"]
    running, replayed = await both_totals(chat.app)
    assert running.people and running.teams
    assert running == replayed
    async with chat.app.store.transaction() as session:
        wins = await session.exec(select(func.count()).where(Activity.kind == "challenge.won"))
        assert wins.one() > 0  # the replay covered challenge wins too
    assert "They matched" in await chat.say("tina", "points spoc recompute")


async def test_listeners_never_need_the_activity_row_id(chat: Chat, clock: SimulatedClock) -> None:
    """The activity log may insert rows with a plain INSERT and hand listeners an Activity without
    its id: awards logged elsewhere (no award_id) must still be told apart, live and in the replay."""
    from sqlalchemy import insert

    from bot.core.context import EventContext
    from bot.core.registry import ACTIVITY_LISTENERS
    from tests.capabilities.challenges_support import cohort_row, person_id

    await setup_cohort(chat, TEAMS)
    cohort, alice = await cohort_row(chat.app), await person_id(chat.app, "alice")
    for minutes in (0, 1):
        clock.advance(timedelta(minutes=minutes))
        async with chat.app.store.transaction() as session:
            ctx = EventContext(session=session, now=clock.now(), settings=chat.app.settings)
            activity = Activity(
                at=clock.now(),
                cohort_id=cohort.id,
                person_id=alice,
                kind="points.awarded",
                data={"points": 4, "reason": "kudos", "team": "red"},
            )
            await session.exec(insert(Activity).values(activity.model_dump(exclude={"id"})))  # type: ignore[call-overload]
            for prefix, listener in ACTIVITY_LISTENERS:
                if activity.kind.startswith(prefix):
                    await listener(ctx, activity)
    assert await person_points(chat.app, "alice") == 8
    running, replayed = await both_totals(chat.app)
    assert running == replayed
