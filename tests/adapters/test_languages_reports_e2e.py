"""What managers, trainers and auditors read, in each reader's language, through the real Slack and
Teams libraries: a manager's digest (asked for, and the weekly one the scheduler sends), the
training report, and the certificate of completion. A French manager (Slack `users.info` locale
fr-FR, Teams activity locale fr-FR) next to an English one in the same French cohort; French words,
French dates ("mer. 3 mars"), French punctuation (a space before the colon) and French plurals."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from bot.core.clock import SimulatedClock
from tests.adapters.languages_support import (
    SESSION,
    bilingual_slack,
    blocks_of,
    button_of,
    click,
    french_cohort,
    posts_to,
    say,
)
from tests.capabilities.test_reports_exports import run_cli
from tests.standins import teams_activities as teams
from tests.standins.slack_harness import SlackHarness
from tests.standins.teams_harness import TeamsHarness

# START is Monday 1 March 2027, 08:00 in Paris.
MODULES = ('module spoc "Bases" due 2027-03-03', 'module spoc "Suite" due 2027-03-05')
THURSDAY = datetime(2027, 3, 4, 9, 0, tzinfo=UTC)  # 10:00 in Paris: "Bases" is overdue
NEXT_MONDAY = datetime(2027, 3, 8, 7, 5, tzinfo=UTC)  # 08:05 in Paris: the weekly digests are due
PROVIDER = {"PROVIDER_NAME": "Académie Lumière", "PROVIDER_ID": "11 75 12345 75"}


def _text(answer: dict[str, Any]) -> str:
    """The answer as text, with Babel's no-break spaces ("50\u00a0%") read as spaces."""
    return json.dumps(answer, ensure_ascii=False).replace("\u00a0", " ").replace("\u202f", " ")


def _pdf_text(path: Path) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(path).pages).split())


# -- Slack ---------------------------------------------------------------------------------------------


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[SlackHarness]:
    harness = await bilingual_slack(tmp_path, ("UMAYA", "maya", "fr-FR"), ("UMAX", "max", "en-US"))
    yield harness
    await harness.stop()


async def _cohort_with_managers(slack: SlackHarness) -> None:
    await french_cohort(slack)  # created by tina (fr-FR) with lang=fr; alice (fr-FR) and bob (en-US)
    for line in (SESSION, *MODULES):
        await slack.command("UTINA", line, channel="C0SPOC")
    await slack.command("UTINA", "responsable spoc <@UMAYA> <@UALICE>", channel="C0SPOC")
    await slack.command("UTINA", "manager spoc <@UMAX> <@UBOB>", channel="C0SPOC")


async def test_digests_and_the_report_in_french_and_in_english_on_slack(slack: SlackHarness) -> None:
    await _cohort_with_managers(slack)
    clock = slack.app.clock
    assert isinstance(clock, SimulatedClock)
    clock.set(THURSDAY)

    # Asked for: each manager reads their own language (the French verb is an alias of `digest`).
    french = _text(await slack.command("UMAYA", "résumé spoc"))
    assert "spoc : votre équipe cette semaine" in french
    assert "1 personne vous est rattachée dans *spoc* ; 1 en risque." in french
    assert (
        "*alice* : modules faits : 0, à venir : 1, en retard : 1 · séances suivies : 0/0 · "
        "dernière activité : jamais. ⚠ *en risque* : 1 module en retard." in french
    )
    assert "Relancer alice" in french and "Nudge" not in french
    english = _text(await slack.command("UMAX", "digest spoc"))
    assert (
        "spoc: your people this week" in english
        and "1 person reports to you in *spoc*; 1 at risk." in english
    )
    assert "*bob*: modules 0 done, 1 due, 1 overdue" in english and "Nudge bob" in english

    assert "Bases marqué comme fait le jeu. 4 mars" in _text(await slack.command("UALICE", "fait spoc Bases"))
    report = _text(await slack.command("UTINA", "rapport spoc", channel="C0SPOC"))
    assert "spoc : rapport de formation : achèvement 50 %, présence n.d., 1 en risque" in report
    assert "• Bases (échéance mer. 3 mars) : 50 % (1/2)" in report
    assert "*Présence par séance*" in report and "• bob : 1 module en retard" in report
    assert "*Engagement : points par apprenant*\\n0,0" in report  # a French decimal comma

    # Sent by the scheduler on Monday morning: the digest in each manager's language, the staff
    # report and the evidence checkpoint in the trainer's.
    clock.set(NEXT_MONDAY)
    await slack.app.runner.tick()
    await slack.app.worker.drain()
    assert [p["text"] for p in posts_to(slack, "UMAYA")] == [
        "spoc : votre équipe cette semaine : 1 sur 1 en risque"
    ]
    assert [p["text"] for p in posts_to(slack, "UMAX")] == ["spoc: your people this week: 1 of 1 at risk"]
    tina = [_text(p["text"]) for p in posts_to(slack, "UTINA")]
    assert '"spoc : rapport de formation : achèvement 25 %, présence 0 %, 2 en risque"' in tina
    checkpoint = next(t for t in tina if t.startswith('"Point de contrôle des preuves'))
    assert "(séance 1 close) : 1 chaîne de présence, 2 enregistrements, signé par la clé" in checkpoint


async def test_a_certificate_of_completion_in_the_cohorts_language_on_slack(
    slack: SlackHarness, tmp_path: Path
) -> None:
    """The certificate is a document for an auditor: in the cohort's language (the French one
    created by a French trainer; an English one next to it), whoever the learner is."""
    await french_cohort(slack)
    await slack.command("UBOB", "create eng tz=Europe/Paris", channel="C0ENG", channel_name="eng")
    await slack.command("UBOB", "enroll eng <@UALICE>", channel="C0ENG")
    for cohort, owner in (("spoc", "UTINA"), ("eng", "UBOB")):
        await slack.command(owner, SESSION.replace("spoc", cohort))
        await slack.command(owner, MODULES[0].replace("spoc", cohort))
        await slack.command(owner, f"window {cohort} open")
    await slack.app.worker.drain()
    cards = [
        p for p in posts_to(slack, "UALICE") if "Émarger" in json.dumps(blocks_of(p), ensure_ascii=False)
    ]
    assert len(cards) == 2
    for card in cards:  # alice checks in to both sessions, from her French Slack
        assert "Émargé à 08 h 00" in await click(slack, "UALICE", button_of(card, "Émarger"))
    for cohort in ("spoc", "eng"):
        assert "Bases marqué comme fait" in _text(await slack.command("UALICE", f"fait {cohort} Bases"))

    db_url = slack.app.settings.database_url
    documents = {}
    for cohort in ("spoc", "eng"):
        out = tmp_path / cohort
        args = ("export", "certificates", "--cohort", cohort, "--out", str(out), "--at", "2027-03-02")
        result = await run_cli(db_url, *args, **PROVIDER)
        assert result.exit_code == 0, result.output
        (pdf,) = [p for p in sorted(out.glob("*.pdf")) if "alice" in p.name]
        documents[cohort] = await asyncio.to_thread(_pdf_text, pdf)
    french, english = documents["spoc"], documents["eng"]
    for expected in (
        "Certificat de réalisation",
        "Numéro de déclaration d'activité : 11 75 12345 75",
        "alice",
        "Dates de réalisation : du lundi 1 mars 2027",
        "Assiduité : 1 séance suivie sur 1",
    ):
        assert expected in french, (expected, french[:600])
    assert "Certificate of completion" in english and "Registration number: 11 75 12345 75" in english
    assert "Attendance: 1 of 1 session attended (1 attendance record)" in english
    assert "Certificat de réalisation" not in english and "Certificate" not in french


# -- Teams ---------------------------------------------------------------------------------------------

TINA = teams.TeamsUser("tina", "fr-FR")
ALICE = teams.TeamsUser("alice", "fr-FR")
BOB = teams.TeamsUser("bob", "en-US")
MAYA = teams.TeamsUser("maya", "fr-FR")
MAX = teams.TeamsUser("max", "en-US")


async def test_digests_and_the_report_in_french_and_in_english_on_teams(
    harness: TeamsHarness, clock: SimulatedClock
) -> None:
    h = harness
    for user in (TINA, ALICE, BOB, MAYA, MAX):
        await h.post(teams.installation(h.connector.url, user))
    await say(h, TINA, "créer spoc tz=Europe/Paris lang=fr")
    await say(h, TINA, "inscrire spoc", kind="channel", mentions=(ALICE, BOB))
    for line in (SESSION, *MODULES):
        await say(h, TINA, line)
    await say(h, TINA, "responsable spoc", kind="channel", mentions=(MAYA, ALICE))
    await say(h, TINA, "manager spoc", kind="channel", mentions=(MAX, BOB))
    await h.deliver()
    clock.set(THURSDAY)

    french = await say(h, MAYA, "résumé spoc")
    assert "spoc : votre équipe cette semaine" in french and "1 personne vous est rattachée" in french
    assert "**Alice** : modules faits : 0, à venir : 1, en retard : 1" in french
    english = await say(h, MAX, "digest spoc")
    assert "spoc: your people this week" in english and "**Bob**: modules 0 done, 1 due, 1 overdue" in english
    report = (await say(h, TINA, "rapport spoc")).replace("\u00a0", " ")
    assert "spoc : rapport de formation" in report and "Bases (échéance mer. 3 mars) : 0 % (0/2)" in report

    clock.set(NEXT_MONDAY)
    await h.app.runner.tick()
    await h.deliver()
    maya = h.connector.messages(MAYA.personal_conversation)[-1].card_text()
    assert "spoc : votre équipe cette semaine" in maya and "⚠ **en risque** : 2 modules en retard." in maya
    max_ = h.connector.messages(MAX.personal_conversation)[-1].card_text()
    assert "spoc: your people this week" in max_ and "⚠ **at risk**: 2 overdue modules." in max_
