"""Programme files: the shipped examples are valid and apply; mistakes are reported with line
numbers (by the CLI too); other capabilities' sections are checked by their validators; a
self-paced track reminds each learner from their own enrolment day."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot.app.cli import app as cli
from bot.core.clock import SimulatedClock
from bot.core.models import Cohort, LiveSession, Module
from bot.core.registry import PROGRAMME_SECTIONS, load_capabilities
from schedules.programme import EXAMPLES_DIR, validate
from tests.conftest import Chat
from tests.schedules.scheduler_helpers import TimedSender, person_in, received, run_until

BROKEN = """\
name: broken
kind: spoc
sesions:
  - title: typo in the section name
sessions:
  - title: "Kick-off"
    day: 0
    at: 9:30
    duration: 90m
  - title: "Weekly"
    weekly: tuesday
    at: "14:00"
    duration: 3 hours
modules:
  - {title: "M1", release: 5, due: 4}
reminders:
  - {of: session, befor: 1d}
quiet_hours: {from: "21:00", to: "8:00"}
surveys:
  - {name: pulse}
"""


@pytest.fixture
def sender(clock: SimulatedClock) -> TimedSender:
    return TimedSender(clock)


def test_the_shipped_examples_are_valid() -> None:
    load_capabilities()
    names = sorted(p.stem for p in EXAMPLES_DIR.glob("*.yaml"))
    assert names == ["cooc-onboarding", "mooc-open", "spoc-6w"]
    for path in EXAMPLES_DIR.glob("*.yaml"):
        assert validate(path.read_text(), PROGRAMME_SECTIONS)[1] == [], path.name


def test_every_mistake_is_reported_with_its_line() -> None:
    load_capabilities()

    def surveys(data: object) -> list[tuple[str, str]]:  # what a capability's validator returns
        return [("[0]", "a survey needs questions")]

    _, problems = validate(BROKEN, {**PROGRAMME_SECTIONS, "surveys": surveys})
    assert problems == [
        "line 3: sesions: unknown section 'sesions'. Did you mean sessions?",
        'line 8: sessions[0].at: at is a local time in quotes, like "09:00" '
        "(unquoted, YAML reads it as a number)",
        "line 10: sessions[1]: a weekly session needs count: <how many weeks> (1-200)",
        "line 13: sessions[1].duration: duration is like 90m, 2h or 1h30m (at most 24h)",
        "line 15: modules[0].release: released on day 5, after it is due (day 4)",
        "line 17: reminders[0].befor: unknown key 'befor'. Did you mean before?",
        "line 17: reminders[0]: give either before: <duration> or days_before: <n> with at: HH:MM",
        "line 18: quiet_hours.to: to is a local time \"HH:MM\", not '8:00'",
        "line 20: surveys[0]: a survey needs questions",
    ]
    assert validate("sessions: [\n", {})[1][0].startswith("line 2: not valid YAML")


def test_cli_validate_prints_file_and_line_and_fails(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN)
    result = CliRunner().invoke(
        cli, ["programme", "validate", str(broken), str(EXAMPLES_DIR / "spoc-6w.yaml")]
    )
    assert result.exit_code == 1
    assert f"{broken}:3: sesions: unknown section 'sesions'. Did you mean sessions?" in result.output
    assert "spoc-6w.yaml: valid" in result.output
    ok = CliRunner().invoke(cli, ["programme", "validate", str(EXAMPLES_DIR / "mooc-open.yaml")])
    assert ok.exit_code == 0


async def test_create_applies_a_programme(chat: Chat) -> None:
    reply = await chat.say("tina", "create data programme=spoc-6w start=2027-03-01")
    assert "8 sessions, 6 modules" in reply and "Europe/Paris" in reply
    async with chat.app.store.transaction() as session:
        cohort = (await session.exec(select(Cohort))).one()
        sessions = (await session.exec(select(LiveSession).order_by(LiveSession.starts_at))).all()
        modules = (await session.exec(select(Module).order_by(Module.due_at))).all()
    assert cohort.programme["name"] == "spoc-6w" and cohort.start_date == "2027-03-01"
    assert [s.title for s in sessions[:3]] == ["Kick-off", "Live session 1", "Live session 2"]
    # 14:00 in Paris is 13:00 UTC before 28 March and 12:00 UTC after.
    assert sessions[1].starts_at == datetime(2027, 3, 2, 13, 0, tzinfo=UTC)
    assert sessions[5].starts_at == datetime(2027, 3, 30, 12, 0, tzinfo=UTC)
    assert modules[0].due_at == datetime(2027, 3, 5, 22, 59, tzinfo=UTC)


async def test_a_bad_programme_changes_nothing(
    chat: Chat, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "Did you mean spoc-6w?" in await chat.say("tina", "create x programme=spoc-6")
    assert "not a programme name" in await chat.say("tina", "create x programme=../../etc/passwd")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "programmes").mkdir()
    (tmp_path / "programmes" / "broken.yaml").write_text(BROKEN)
    reply = await chat.say("tina", "create x programme=broken")
    assert "line 3: sesions: unknown section" in reply and re.search(r"and \d+ more", reply)
    assert "no cohort" in await chat.say("tina", "status x")


async def test_programme_problems_are_told_in_the_readers_language(
    chat: Chat, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "programmes").mkdir()
    (tmp_path / "programmes" / "broken.yaml").write_text(BROKEN)
    await chat.say("tina", "lang fr")
    reply = await chat.say("tina", "create x programme=broken")
    assert reply.startswith(
        "Le programme broken.yaml comporte des erreurs : "
        "ligne 3 : sesions : section inconnue 'sesions'. Vouliez-vous dire sessions ? ; "
        'ligne 8 : sessions[0].at : at est une heure locale entre guillemets, comme "09:00" '
        "(sans guillemets, YAML la lit comme un nombre) ; "
        "ligne 10 : sessions[1] : une séance hebdomadaire a besoin de count: <nombre de semaines> (1-200) ; "
        "et 8 autres. Vérifiez-le avec `cohortbot programme validate broken.yaml`."
    ), reply
    assert "Vouliez-vous dire spoc-6w ?" in await chat.say("tina", "create x programme=spoc-6")
    # The same problems, in English for the command line (and anyone reading them as they are).
    _, problems = validate(BROKEN, PROGRAMME_SECTIONS)
    assert problems[0] == "line 3: sesions: unknown section 'sesions'. Did you mean sessions?"


async def test_a_self_paced_track_counts_from_each_enrolment(
    chat: Chat, sender: TimedSender, clock: SimulatedClock
) -> None:
    for name, tz in (("early", "Europe/Paris"), ("later", "Asia/Kolkata")):
        await person_in(chat.app, name, tz)
    await chat.say("tina", "create onboarding programme=cooc-onboarding start=2027-03-01 tz=Europe/Paris")
    await chat.say("tina", "enroll onboarding early")
    await run_until(chat.app, clock, datetime(2027, 3, 10, 8, tzinfo=UTC))
    await chat.say("tina", "enroll onboarding later")  # joins on Wednesday 10 March
    await run_until(chat.app, clock, datetime(2027, 3, 13, tzinfo=UTC))
    modules = [
        (when, rule) for when, rule in received(sender, "later", "Asia/Kolkata") if rule.startswith("m")
    ]
    # "Our company in 20 minutes" is due on day 2 of each learner's own track: 12 March for them,
    # reminded the day before and on the day at 10:00 in their own zone.
    assert modules == [("Thu 11 Mar 10:00", "m1:d1@1000"), ("Fri 12 Mar 10:00", "m1:d0@1000n")]
    early = [rule for _, rule in received(sender, "early", "Europe/Paris") if rule.startswith("m")]
    assert early[:2] == ["m1:d1@1000", "m1:d0@1000n"]  # their own dates, from 1 March
    assert "m1:d1@1000" not in [r for _, r in received(sender, "early", "Europe/Paris")][2:]
