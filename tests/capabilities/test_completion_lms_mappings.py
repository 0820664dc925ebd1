"""The same LMS mappings on the bulk paths: CSV by `lms_user_id`, and `cohortbot import completions`
with a JSON file of xAPI statements (a Moodle export)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.app.bootstrap import App, build
from bot.app.cli import app as cli
from bot.capabilities.completion.completion_import import import_completions
from bot.capabilities.completion.learner_import import import_learners
from bot.capabilities.completion.statement_import import import_statements
from bot.core import i18n
from bot.core.clock import SimulatedClock
from bot.core.settings import Settings
from tests.capabilities.completion_fixtures import COHORT, completions, make_cohort
from tests.capabilities.xapi_fixtures import moodle
from tests.conftest import Chat, RecordingSender


async def test_completions_csv_names_learners_by_lms_user_id(chat: Chat, app: App) -> None:
    await make_cohort(chat)
    now = app.clock.now()
    report = await import_learners(
        app.store, app.settings, now, COHORT, "email,lms_user_id\ncarol@example.com,501\n"
    )
    assert report.imported, report.render()
    clash = await import_learners(
        app.store, app.settings, now, COHORT, "email,lms_user_id\ndan@example.com,501\n"
    )
    assert not clash.imported and "lms_user_id 501 already belongs to carol@example.com" in clash.render()
    csv = "lms_user_id,module,status,score\n501,Module 1,passed,80\n999,Module 1,passed,80\n"
    refused = await import_completions(app.store, app.settings, now, COHORT, csv)
    assert "line 3: LMS user 999 is not a learner of 'spoc'" in refused.render()
    done = await import_completions(app.store, app.settings, now, COHORT, csv, skip_bad=True)
    assert done.imported
    assert [(c.status, c.score) for c in await completions(app)] == [("passed", 80.0)]


def test_the_cli_imports_a_file_of_xapi_statements(
    tmp_path: Path, clock: SimulatedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"

    async def prepare() -> None:
        built = await build(Settings(database_url=url), {"console": RecordingSender()}, clock)
        chat = Chat(built)
        await make_cohort(chat)
        await chat.say("tina", f'lms-id {COHORT} "Module 1" {moodle.module_url(31)}')
        await chat.say("tina", f"lms-id {COHORT} @alice 5")
        await built.close()

    asyncio.run(prepare())
    monkeypatch.setenv("DATABASE_URL", url)
    export = tmp_path / "moodle.json"
    batch = moodle.course_batch([5, 6], 31, {5: {"success": True}, 6: {"success": True}})
    export.write_text(json.dumps({"statements": batch, "more": ""}))
    runner = CliRunner()
    result = runner.invoke(cli, ["import", "completions", str(export), "--cohort", COHORT])
    assert result.exit_code == 0, result.output
    assert "Imported 10 statements: 8 not used, 1 recorded, 1 waiting." in result.output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{**batch[0], "id": "nope"}]))
    result = runner.invoke(cli, ["import", "completions", str(bad), "--cohort", COHORT])
    assert result.exit_code == 1 and "statement 1: id: 'nope' is not a UUID" in result.output


async def test_lms_id_answers_in_the_callers_language(chat: Chat, app: App) -> None:
    await make_cohort(chat)
    await chat.say("tina", "lang fr")
    linked = await chat.say("tina", f"lms-id {COHORT} @alice 5")
    assert linked == "Les déclarations xAPI concernant l'utilisateur LMS 5 comptent désormais pour alice."
    assert await chat.say("tina", f"lms-id {COHORT} @alice 5") == "alice a déjà l'identifiant LMS 5."
    taken = await chat.say("tina", f"lms-id {COHORT} @bob 5")
    assert taken.startswith("l'identifiant LMS 5 appartient déjà à quelqu'un d'autre")
    module = await chat.say("tina", f'lms-id {COHORT} "Module 1" LMS-M1')
    assert (
        module
        == "Les déclarations xAPI et les lignes CSV concernant LMS-M1 comptent désormais pour *Module 1*."
    )
    assert await chat.say("tina", f'lms-id {COHORT} "Module 1" LMS-M1') == "LMS-M1 désigne déjà *Module 1*."


async def test_a_statement_file_for_a_french_cohort_is_refused_in_french(chat: Chat, app: App) -> None:
    await chat.say("tina", "create classe tz=Europe/Paris lang=fr")
    batch = moodle.course_batch([5], 31, {5: {"success": True}})
    text = json.dumps([batch[0], {**batch[0], "id": "nope"}])
    report = await import_statements(app.store, app.settings, app.clock.now(), "classe", text)
    assert report.render() == "déclaration 2 : id : 'nope' n'est pas un UUID\nRien n'a été importé."
    with i18n.use("en"):  # no such cohort: the current language
        english = await import_statements(app.store, app.settings, app.clock.now(), "nope", text)
        assert english.render() == "statement 2: id: 'nope' is not a UUID\nNothing imported."
