"""CSV import of learners and completions: all rows checked first, one transaction, idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot.app.bootstrap import App, build
from bot.app.cli import app as cli
from bot.capabilities.completion.completion_import import import_completions
from bot.capabilities.completion.learner_import import import_learners
from bot.core.clock import SimulatedClock
from bot.core.models import Activity, Enrolment, ManagerLink, Person
from bot.core.settings import Settings
from tests.capabilities.completion_fixtures import COHORT, completed_log, completions, make_cohort, module_id
from tests.conftest import Chat, RecordingSender

LEARNERS = """email,name,manager_email,team,site,department,seniority,tz
carol@example.com,Carol Diaz,maya@example.com,north,Lyon,Finance,senior,Europe/Paris
dan@example.com,Dan Okafor,maya@example.com,south,Leeds,Sales,junior,
Alice@Example.com,,mike@example.com,,Paris,,,
"""


async def _people(app: App) -> dict[str, Person]:
    async with app.store.transaction() as session:
        return {p.email or p.display_name: p for p in (await session.exec(select(Person))).all()}


async def _count(app: App, model: type) -> int:
    async with app.store.transaction() as session:
        return len((await session.exec(select(model))).all())


async def test_learners_are_imported_with_their_profile_team_and_manager(chat: Chat, app: App) -> None:
    await make_cohort(chat)
    report = await import_learners(app.store, app.settings, app.clock.now(), COHORT, LEARNERS)
    assert report.imported, report.render()
    people = await _people(app)
    carol = people["carol@example.com"]
    assert (carol.display_name, carol.site, carol.department, carol.seniority, carol.tz) == (
        "Carol Diaz",
        "Lyon",
        "Finance",
        "senior",
        "Europe/Paris",
    )
    assert people["alice@example.com"].site == "Paris"  # an existing learner, matched by email
    async with app.store.transaction() as session:
        links = (await session.exec(select(ManagerLink))).all()
        managers = {
            people_by_id.email
            for people_by_id in [await session.get_one(Person, link.manager_id) for link in links]
        }
        teams = {e.person_id: e.team for e in (await session.exec(select(Enrolment))).all()}
    assert managers == {"maya@example.com", "mike@example.com"} and len(links) == 3
    assert teams[carol.id or 0] == "north"
    assert (
        "Imported 3 learners: 2 enrolled, 3 manager link(s) set, 4 person(s) created, 1 profile(s) updated."
        in report.render()
    )


async def test_importing_the_same_learners_twice_changes_nothing(chat: Chat, app: App) -> None:
    await make_cohort(chat)
    await import_learners(app.store, app.settings, app.clock.now(), COHORT, LEARNERS)
    before = (await _count(app, Person), await _count(app, ManagerLink), await _count(app, Activity))
    again = await import_learners(app.store, app.settings, app.clock.now(), COHORT, LEARNERS)
    assert again.imported and again.render().endswith("Imported 3 learners: no changes.")
    assert (await _count(app, Person), await _count(app, ManagerLink), await _count(app, Activity)) == before


async def test_one_bad_row_stops_the_whole_import_and_every_error_names_its_line(
    chat: Chat, app: App
) -> None:
    await make_cohort(chat)
    bad = (
        LEARNERS
        + "not-an-email,X,,,,,,\ncarol@example.com,Carol again,,,,,,\nerin@example.com,Erin,,,,,,Mars/Base\n"
    )
    before = await _count(app, Person)
    report = await import_learners(app.store, app.settings, app.clock.now(), COHORT, bad)
    assert not report.imported
    assert report.errors[0] == "line 5: email 'not-an-email' is not an email address"
    assert report.errors[1] == "line 6: carol@example.com appears twice in the file"
    assert report.errors[2].startswith("line 7: 'Mars/Base' is not a known time zone")
    assert "Nothing imported: 3 bad row(s) of 6. Fix them, or pass --skip-bad" in report.render()
    assert await _count(app, Person) == before
    skipped = await import_learners(app.store, app.settings, app.clock.now(), COHORT, bad, skip_bad=True)
    assert skipped.imported and "(3 bad row(s) skipped)" in skipped.render()
    assert "carol@example.com" in await _people(app)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "line 1: the file is empty"),
        ("mail,name\nx@example.com,X\n", "line 1: unknown column(s) mail; missing column(s) email"),
    ],
)
async def test_a_wrong_header_stops_the_import(chat: Chat, app: App, text: str, error: str) -> None:
    await make_cohort(chat)
    report = await import_learners(app.store, app.settings, app.clock.now(), COHORT, text)
    assert not report.imported and report.problem is not None and report.problem.startswith(error)
    assert report.render().endswith("Nothing imported.")


async def test_a_row_with_too_many_values_is_reported_with_its_line(chat: Chat, app: App) -> None:
    await make_cohort(chat)
    report = await import_learners(
        app.store, app.settings, app.clock.now(), COHORT, "email,name\nx@y.org,X,extra\n"
    )
    assert report.errors == ["line 2: 1 more value(s) than the 2 columns"]


COMPLETIONS = """email,module,status,score,completed_at
alice@example.com,module 1,passed,88,2027-03-01T07:30:00+01:00
bob@example.com,Security Basics,,,2027-02-28
alice@example.com,Module 2,failed,35%,
"""


async def test_completions_are_imported_through_the_same_recording(chat: Chat, app: App) -> None:
    await make_cohort(chat)
    report = await import_completions(app.store, app.settings, app.clock.now(), COHORT, COMPLETIONS)
    assert report.render() == "Imported 3 completions: 3 new."
    rows = sorted((r.status, r.score, r.source, r.at.isoformat()) for r in await completions(app))
    assert rows == [
        ("completed", None, "csv", "2027-02-28T11:00:00+00:00"),  # a date alone: noon, cohort time
        ("failed", 35.0, "csv", "2027-03-01T07:00:00+00:00"),  # no date: now
        ("passed", 88.0, "csv", "2027-03-01T06:30:00+00:00"),
    ]
    again = await import_completions(app.store, app.settings, app.clock.now(), COHORT, COMPLETIONS)
    assert again.render() == "Imported 3 completions: 3 unchanged."
    assert len(await completed_log(app)) == 3


async def test_a_completion_row_may_name_the_module_by_id_or_linked_lms_activity(
    chat: Chat, app: App
) -> None:
    await make_cohort(chat)
    await chat.say("tina", f'lms-id {COHORT} "Module 2" LMS-M2')
    first = await module_id(app, "Module 1")
    text = f"email,module\nalice@example.com,{first}\nalice@example.com,LMS-M2\n"
    report = await import_completions(app.store, app.settings, app.clock.now(), COHORT, text)
    assert report.imported, report.render()
    assert sorted(c.module_id for c in await completions(app)) == [first, await module_id(app, "Module 2")]


async def test_completion_rows_for_strangers_unknown_modules_or_bad_values_are_refused(
    chat: Chat, app: App
) -> None:
    await make_cohort(chat)
    bad = (
        "email,module,status,score,completed_at\n"
        "zed@example.com,Module 1,,,\n"
        "alice@example.com,Securty basics,,,\n"
        "alice@example.com,Module 1,done,,\n"
        "alice@example.com,Module 1,,high,\n"
        "alice@example.com,Module 1,,,2031-01-01\n"
        "bob@example.com,Module 1,passed,70,\n"
    )
    report = await import_completions(app.store, app.settings, app.clock.now(), COHORT, bad)
    assert report.errors == [
        "line 2: zed@example.com is not a learner of 'spoc': import learners first",
        'line 3: \'spoc\' has no module "Securty basics". Did you mean "Security Basics"?',
        "line 4: status 'done' is not one of completed, passed, failed",
        "line 5: score 'high' is not a number from 0 to 100",
        "line 6: completed_at 2031-01-01 is in the future",
    ]
    assert await completions(app) == []


def test_the_cli_imports_learners_then_completions_against_database_url(
    tmp_path: Path, clock: SimulatedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    url = f"sqlite:///{tmp_path / 'cli.db'}"

    async def prepare() -> None:
        built = await build(Settings(database_url=url), {"console": RecordingSender()}, clock)
        await make_cohort(Chat(built))
        await built.close()

    asyncio.run(prepare())
    monkeypatch.setenv("DATABASE_URL", url)
    learners, done = tmp_path / "learners.csv", tmp_path / "completions.csv"
    learners.write_text("\ufeff" + LEARNERS, encoding="utf-8")  # with Excel's byte-order mark
    done.write_text("email,module,status\ncarol@example.com,Module 1,passed\ndan@example.com,Modul 1,\n")
    runner = CliRunner()
    result = runner.invoke(cli, ["import", "learners", str(learners), "--cohort", COHORT])
    assert result.exit_code == 0 and "Imported 3 learners" in result.output
    result = runner.invoke(cli, ["import", "completions", str(done), "--cohort", COHORT])
    assert result.exit_code == 1
    assert 'line 3: \'spoc\' has no module "Modul 1". Did you mean "Module 1"?' in result.output
    result = runner.invoke(cli, ["import", "completions", str(done), "--cohort", COHORT, "--skip-bad"])
    assert result.exit_code == 0 and "Imported 1 completions (1 bad row(s) skipped): 1 new." in result.output
    result = runner.invoke(cli, ["import", "learners", str(learners), "--cohort", "nope"])
    assert result.exit_code == 1 and "There is no cohort 'nope'.\nNothing imported." in result.output


async def test_an_imported_learner_we_can_reach_gets_the_welcome_dm_once(
    chat: Chat, app: App, sender: RecordingSender
) -> None:
    await make_cohort(chat)
    await chat.say("tina", "create other")
    text = "email,team\nalice@example.com,blue\nnew.person@example.com,blue\n"
    for _ in range(2):
        await import_learners(app.store, app.settings, app.clock.now(), "other", text)
        await app.worker.drain()
    welcomes = [m.summary for m in sender.to("alice") if "*other*" in m.summary]
    assert welcomes == [
        "Welcome to *other*! I'll remind you of sessions and due dates here. "
        "Type `status other` any time. You're in team *blue*."
    ]


async def test_the_import_report_of_a_french_cohort_is_in_french(chat: Chat, app: App) -> None:
    await make_cohort(chat)
    await chat.say("tina", "create classe tz=Europe/Paris lang=fr")
    now = app.clock.now()
    header = await import_learners(app.store, app.settings, now, "classe", "mail,name\nx@example.com,X\n")
    assert header.render() == (
        "ligne 1 : colonne(s) inconnue(s) : mail ; colonne(s) manquante(s) : email. "
        "En-tête attendu : email,name,manager_email,team,site,department,seniority,tz,lms_user_id\n"
        "Rien n'a été importé."
    )
    bad = "email,name\npas-une-adresse,X\ncarol@example.com,Carol\ncarol@example.com,Carol\n"
    report = await import_learners(app.store, app.settings, now, "classe", bad)
    assert report.errors == [
        "ligne 2 : email 'pas-une-adresse' n'est pas une adresse e-mail",
        "ligne 4 : carol@example.com figure deux fois dans le fichier",
    ]
    assert report.render().endswith(
        "Rien n'a été importé : 2 ligne(s) erronée(s) sur 3. "
        "Corrigez-les, ou ajoutez --skip-bad pour importer 1 ligne correcte."
    )
    skipped = await import_learners(app.store, app.settings, now, "classe", bad, skip_bad=True)
    assert skipped.render().endswith(
        "1 apprenant importé (2 ligne(s) erronée(s) ignorée(s)) : 1 inscrit, 1 personne créée."
    )
    done = await import_completions(
        app.store, app.settings, now, "classe", "email,module\ncarol@example.com,Module 9\n"
    )
    assert done.errors == ["ligne 2 : 'classe' n'a pas encore de module."]
    # An English cohort's report stays English, whatever language was written in last.
    english = await import_learners(app.store, app.settings, now, COHORT, bad)
    assert english.errors[0] == "line 2: email 'pas-une-adresse' is not an email address"
