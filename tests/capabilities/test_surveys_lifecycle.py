"""A survey's life through the scheduler: programme rules and trainer commands open surveys after
sessions, after modules, on a date or now; one follow-up to non-respondents; close at the deadline."""

from __future__ import annotations

import asyncio
import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import select
from typer.testing import CliRunner

from bot.app import cli
from bot.capabilities.surveys.models import Survey
from bot.core.clock import SimulatedClock
from bot.core.models import Cohort
from bot.core.registry import KPIS, PROGRAMME_SECTIONS
from tests.capabilities.surveys_fixtures import cohort_with_learners, send_now, survey_cards
from tests.conftest import Chat, RecordingSender


async def set_programme(chat: Chat, programme: dict[str, Any]) -> None:
    async with chat.app.store.transaction() as session:
        cohort = (await session.exec(select(Cohort).where(Cohort.slug == "spoc"))).one()
        cohort.programme = programme
        session.add(cohort)


async def run_until(chat: Chat, clock: SimulatedClock, when: datetime) -> None:
    """Let the scheduler fire everything due up to `when`, one event time after another."""
    while (due := await chat.app.runner.next_due()) is not None and due <= when:
        clock.set(max(due, clock.now()))
        await chat.app.runner.tick()
        await chat.app.worker.drain()
    clock.set(when)
    await chat.app.worker.drain()


async def surveys(chat: Chat) -> list[Survey]:
    async with chat.app.store.transaction() as session:
        return list((await session.exec(select(Survey).order_by(Survey.id))).all())  # type: ignore[arg-type]


async def test_a_survey_after_every_session_opens_when_each_session_ends(
    chat: Chat, sender: RecordingSender, clock: SimulatedClock
) -> None:
    await cohort_with_learners(chat)
    added = await chat.say("tina", "survey spoc template=session-feedback after=session")
    assert "after every session" in added
    assert "already has" in await chat.say("tina", "survey spoc template=session-feedback after=session")
    await chat.say("tina", 'session spoc "Kick-off" 2027-03-02 14:00 90m')
    await chat.say("tina", 'session spoc "Deep dive" 2027-03-09 14:00 60m')
    keys = [e.key for e in await chat.app.runner.plan()]
    assert keys == [e.key for e in await chat.app.runner.plan()]  # stable keys

    await run_until(chat, clock, datetime(2027, 3, 2, 14, 29, tzinfo=UTC))  # 15:29 Paris: still in session
    assert survey_cards(sender, "alice") == []
    await run_until(chat, clock, datetime(2027, 3, 2, 14, 31, tzinfo=UTC))
    (card,) = survey_cards(sender, "alice")
    assert card.summary == "Survey: Session feedback: Kick-off"
    await run_until(chat, clock, datetime(2027, 3, 9, 15, 1, tzinfo=UTC))
    titles = [s.title for s in await surveys(chat)]
    assert titles == ["Session feedback: Kick-off", "Session feedback: Deep dive"]


async def test_one_reminder_to_non_respondents_then_close_with_results_to_trainers(
    chat: Chat, sender: RecordingSender, clock: SimulatedClock
) -> None:
    await cohort_with_learners(chat)
    sid = await send_now(chat, 'new "Pulse" "rating:How is it going?" days=4')
    await chat.press("alice", "surveys.answer", str(sid), {"q1": "5"})
    start = clock.now()
    await run_until(chat, clock, start + timedelta(days=2, minutes=1))
    reminded = {
        who
        for who in ("alice", "bob", "carol")
        if any(m.summary == "Reminder: Pulse" for m in sender.to(who))
    }
    assert reminded == {"bob", "carol"}
    await chat.press("bob", "surveys.answer", str(sid), {"q1": "3"})
    await run_until(chat, clock, start + timedelta(days=3, hours=23))
    assert sum(m.summary == "Reminder: Pulse" for _, m in sender.sent) == 2  # only one follow-up
    assert sender.updated == []

    await run_until(chat, clock, start + timedelta(days=4, minutes=1))
    (survey,) = await surveys(chat)
    assert survey.status == "closed"
    closed = [(t.address, m.summary) for t, _, m in sender.updated]
    # Each card and each reminder is replaced by the closed card.
    assert sorted(closed) == sorted(
        [(w, "Closed: Pulse") for w in ("alice", "bob", "carol")]
        + [(w, "Closed: Pulse") for w in ("bob", "carol")]
    )
    (results,) = [m for m in sender.to("tina") if m.summary.startswith("Results")]
    text = "\n".join(getattr(b, "text", "") for b in results.blocks)
    assert "average 4.0 / 5 (2 answers)" in text
    assert "closed" in await chat.press("carol", "surveys.answer", str(sid), {"q1": "1"})
    assert survey.figures["rating_sum"] == 8 and survey.figures["asked"] == 3  # frozen for reports
    async with chat.app.store.transaction() as session:
        cohort = (await session.exec(select(Cohort))).one()
        figures = await KPIS["satisfaction"](session, cohort)
    assert figures == {"satisfaction_avg": 4.0, "nps": None, "survey_response_rate": 0.667, "surveys": 1}


async def test_programme_file_rules_open_on_a_day_and_after_modules(
    chat: Chat, sender: RecordingSender, clock: SimulatedClock
) -> None:
    await cohort_with_learners(chat)
    await chat.say("tina", 'module spoc "Security basics" due 2027-03-05')
    await set_programme(
        chat,
        {
            "surveys": [
                {"template": "end-of-course", "on_day": 10, "anonymous": True},
                {
                    "title": "Module check",
                    "questions": [{"kind": "yesno", "prompt": "Was it clear?"}],
                    "after": "module",
                },
            ]
        },
    )
    await run_until(chat, clock, datetime(2027, 3, 5, 22, 58, tzinfo=UTC))  # 23:58 Paris
    assert survey_cards(sender, "bob") == []
    await run_until(chat, clock, datetime(2027, 3, 5, 23, 0, tzinfo=UTC))
    assert [m.summary for m in survey_cards(sender, "bob")] == ["Survey: Module check: Security basics"]
    await run_until(chat, clock, datetime(2027, 3, 11, 7, 59, tzinfo=UTC))  # 08:59 Paris on day 10
    assert [m.summary for m in survey_cards(sender, "bob")][-1] == "Reminder: Module check: Security basics"
    await run_until(chat, clock, datetime(2027, 3, 11, 8, 1, tzinfo=UTC))
    end = [s for s in await surveys(chat) if s.template == "end-of-course"]
    assert len(end) == 1 and end[0].anonymous and end[0].closes_at - end[0].opens_at == timedelta(days=7)


def test_programme_section_errors_say_where_and_what() -> None:
    validate = PROGRAMME_SECTIONS["surveys"]
    assert validate([{"template": "session-feedback", "after": "session"}]) == []
    errors = dict(
        validate(
            [
                {"template": "end-of-cours", "on_day": 41},
                {"template": "session-feedback"},
                {"questions": [{"kind": "stars", "prompt": "?"}], "on_date": "2027-13-01"},
                {"template": "end-of-course", "on_day": 3, "anonymous": "maybe", "colour": "red"},
            ]
        )
    )
    assert "one of session-feedback, end-of-course" in errors["[0].template"]
    assert "exactly one of after" in errors["[1]"]
    assert "'stars' is not a question kind" in errors["[2].questions"]
    assert errors["[2].on_date"] == "a date written YYYY-MM-DD"
    assert errors["[3].anonymous"] == "true or false" and "unknown key" in errors["[3].colour"]
    assert validate({"template": "x"}) != []


async def test_trainer_schedules_on_a_date_sends_early_and_lists(
    chat: Chat, sender: RecordingSender, clock: SimulatedClock
) -> None:
    await cohort_with_learners(chat)
    scheduled = await chat.say("tina", "survey spoc template=end-of-course on=2027-03-12 anonymous=yes")
    assert "Scheduled anonymous survey #1" in scheduled and "Fri 12 Mar 09:00 (Europe/Paris)" in scheduled
    listing = await chat.say("tina", "survey spoc list")
    assert "#1 End-of-course satisfaction: 0/0 answered (scheduled)" in listing
    assert "Sent survey #1" in await chat.say("tina", "survey spoc send 1")
    await chat.app.worker.drain()
    assert len(survey_cards(sender, "carol")) == 1
    assert "already open" in await chat.say("tina", "survey spoc send 1")
    await run_until(chat, clock, datetime(2027, 3, 12, 9, 0, tzinfo=UTC))
    assert len(survey_cards(sender, "carol")) == 2  # the first card and the one follow-up, no second send


async def test_trainer_command_mistakes_get_one_clear_line(chat: Chat) -> None:
    await cohort_with_learners(chat)
    assert "Only admins and trainers of 'spoc'" in await chat.say(
        "alice", "survey spoc template=session-feedback"
    )
    assert "Did you mean end-of-course" in await chat.say("tina", "survey spoc template=end-of-cours")
    assert "is in the past" in await chat.say("tina", "survey spoc template=end-of-course on=2027-02-01")
    assert "not a question" in await chat.say("tina", 'survey spoc new "T" "stars:How?"')
    assert "1 to 5 questions" in await chat.say("tina", f'survey spoc new "T" {" ".join(["yesno:Ok?"] * 6)}')
    assert "2 to 10 non-empty options" in await chat.say("tina", 'survey spoc new "T" "single:Pick|only"')
    assert "either template" in await chat.say(
        "tina", 'survey spoc new "T" "yesno:Ok?" template=end-of-course'
    )
    assert "one of after=, on= or day=" in await chat.say(
        "tina", "survey spoc template=end-of-course on=now day=3"
    )
    assert "no survey #9" in await chat.say("tina", "survey spoc results 9")
    usage = await chat.say("tina", "survey spoc results")
    assert "by its number" in usage and "Usage: `survey <cohort>" in usage
    assert await surveys(chat) == []


async def test_named_results_bars_nps_comments_csv_and_kpi(chat: Chat, tmp_path: Path) -> None:
    chat.app.settings.export_dir = str(tmp_path)
    await cohort_with_learners(chat)
    sid = str(await send_now(chat, "template=end-of-course"))
    await chat.press("alice", "surveys.answer", sid, {"q1": "5", "q2": "10", "q3": "yes", "q4": "Loved it"})
    await chat.press("bob", "surveys.answer", sid, {"q1": "3", "q2": "6", "q3": "no", "q4": "Too long"})
    await chat.press("carol", "surveys.answer", sid, {"q1": "4", "q2": "9"})  # yes/no still missing
    results = await chat.say("tina", f"survey spoc results {sid}")
    assert "Responses : 2/3 (67%)" in results and "Response rate ▓▓▓▓▓▓▓░░░ 2/3" in results
    assert "average 4.0 / 5 (2 answers)" in results
    assert "NPS +0 (2 answers: 1 promoters at 9-10, 1 detractors at 0-6)" in results
    assert "yes ▓▓▓▓▓░░░░░ 1/2" in results
    assert "• Loved it (alice)\n• Too long (bob)" in results
    exported = (await chat.say("tina", f"survey spoc export {sid}")).split("`")[1]  # a file name
    csv_path = tmp_path / "spoc" / "surveys" / exported
    rows = list(csv.reader(Path(csv_path).read_text(encoding="utf-8").splitlines()))  # noqa: ASYNC240
    assert rows[0][:2] == ["respondent", "q1 (rating) Overall, how satisfied are you with the course?"]
    assert rows[1:] == [["alice", "5", "10", "yes", "Loved it"], ["bob", "3", "6", "no", "Too long"]]
    async with chat.app.store.transaction() as session:
        cohort = (await session.exec(select(Cohort))).one()
        figures = await KPIS["satisfaction"](session, cohort)
    assert figures == {"satisfaction_avg": 4.0, "nps": 0, "survey_response_rate": 0.667, "surveys": 1}
    status = await chat.say("tina", "status spoc")
    assert "Survey #1 End-of-course satisfaction ▓▓▓▓▓▓▓░░░ 2/3" in status
    assert "Surveys waiting for your answer: *End-of-course satisfaction*" in await chat.say(
        "carol", "status spoc"
    )
    assert "Surveys waiting" not in await chat.say("alice", "status spoc")


async def test_cli_exports_a_cohorts_surveys_as_csv(chat: Chat, tmp_path: Path, monkeypatch: Any) -> None:
    await cohort_with_learners(chat)
    first = await send_now(chat, 'new "A" "yesno:Ok?"')
    await send_now(chat, 'new "B" "rating:Score?" anonymous=yes')
    await chat.press("carol", "surveys.answer", str(first), {"q1": "no"})
    monkeypatch.setenv("DATABASE_URL", chat.app.settings.database_url)
    runner = CliRunner()
    result = await asyncio.to_thread(
        runner.invoke, cli.app, ["export", "surveys", "spoc", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert result.output.split() == [str(tmp_path / "survey-spoc-1.csv"), str(tmp_path / "survey-spoc-2.csv")]
    assert (tmp_path / "survey-spoc-1.csv").read_text().splitlines()[1] == "carol,no"
    missing = await asyncio.to_thread(runner.invoke, cli.app, ["export", "surveys", "spoc", "--survey", "7"])
    assert missing.exit_code == 1 and "no sent survey #7" in missing.output
