"""The learner flows in each reader's language, through the real Slack and Teams libraries: a check-in,
a survey and a quiz, clicked by a French learner (Slack `users.info` locale fr-FR, Teams activity
locale fr-FR) next to an English one in the same cohort. French words, French dates ("lun. 1 mars
08 h 00") and French plurals (0 and 1 are singular); broadcast posts in the cohort's language."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

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
from tests.standins import teams_activities as teams
from tests.standins.slack_harness import SlackHarness
from tests.standins.teams_harness import TeamsHarness

QUIZ = 'défi spoc quiz "Quel port pour HTTPS ?" *443 80 scoring=person points=10 until=2027-03-03T18:00'


# -- Slack ---------------------------------------------------------------------------------------------


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[SlackHarness]:
    harness = await bilingual_slack(tmp_path)
    yield harness
    await harness.stop()


async def test_a_check_in_in_french_and_in_english_on_slack(slack: SlackHarness) -> None:
    await french_cohort(slack)
    await slack.command("UTINA", SESSION, channel="C0SPOC")
    opened = await slack.command("UTINA", "window spoc open", channel="C0SPOC")
    assert (
        "L'émargement de #1 Lancement (lun. 1 mars 08 h 30 (Europe/Paris)) est ouvert : 2 cartes envoyées."
        in (opened["text"])
    )
    await slack.app.worker.drain()
    french, english = posts_to(slack, "UALICE")[-1], posts_to(slack, "UBOB")[-1]
    assert "L'émargement est ouvert pour *Lancement* (début à 08 h 30)" in french["text"]
    assert "Check-in is open for *Lancement* (starts 08:30)" in english["text"]
    assert "Émargement : Lancement" in json.dumps(blocks_of(french), ensure_ascii=False)
    # The channel post is in the cohort's language.
    assert posts_to(slack, "C0SPOC")[-1]["text"].startswith("L'émargement est ouvert pour *Lancement*")

    answer = await click(slack, "UALICE", button_of(french, "Émarger"))
    assert "✓ Émargé à 08 h 00 (Présent)" in answer
    assert "✓ Checked in at 08:00 (Present)" in await click(slack, "UBOB", button_of(english, "Check in"))

    missing = json.dumps(await slack.command("UTINA", "missing spoc", channel="C0SPOC"), ensure_ascii=False)
    assert "2/2 enregistrés : 2 présents" in missing and "Personne ne manque." in missing


async def test_a_survey_in_french_and_in_english_on_slack(slack: SlackHarness) -> None:
    await french_cohort(slack)
    sent = await slack.command("UTINA", "sondage spoc template=session-feedback", channel="C0SPOC")
    assert "Questionnaire nominatif n° 1 *Retour sur la séance* envoyé à 2 apprenants" in sent["text"]
    assert "se termine le jeu. 4 mars 08 h 00 (Europe/Paris)" in sent["text"]
    await slack.app.worker.drain()
    french, english = posts_to(slack, "UALICE")[-1], posts_to(slack, "UBOB")[-1]
    card = json.dumps(blocks_of(french), ensure_ascii=False)
    assert "Retour sur la séance" in card and "Cette séance vous a-t-elle été utile ?" in card
    assert "2 questions rapides. Vous pouvez modifier vos réponses jusqu'au jeu. 4 mars 08 h 00" in card
    assert "2 quick questions. You can change your answers until Thu 4 Mar 08:00" in json.dumps(
        blocks_of(english)
    )
    # The comment is optional: the rating completes the ballot.
    thanks = await click(slack, "UALICE", button_of(french, "4"))
    assert (
        "Merci ! Vos réponses sont enregistrées. Vous pouvez les modifier jusqu'au jeu. 4 mars 08 h 00"
        in thanks
    )
    assert "Thank you! Your answers are recorded." in await click(slack, "UBOB", button_of(english, "5"))


async def test_a_quiz_in_french_and_in_english_on_slack(slack: SlackHarness) -> None:
    await french_cohort(slack)
    posted = await slack.command("UTINA", QUIZ, channel="C0SPOC")
    assert "Quiz n° 1 publié dans *spoc* : 2 apprenants le reçoivent en message privé." in posted["text"]
    await slack.app.worker.drain()
    french, english = posts_to(slack, "UALICE")[-1], posts_to(slack, "UBOB")[-1]
    card = json.dumps(blocks_of(french), ensure_ascii=False)
    assert "Chaque personne qui trouve la bonne réponse gagne *10 points*." in card
    assert "Se termine le mer. 3 mars 18 h 00 (Europe/Paris)." in card
    assert "Everyone who gets it right earns *10 points*." in json.dumps(blocks_of(english))

    answer = await click(slack, "UALICE", button_of(french, "443"))
    assert "Votre réponse *443* est enregistrée. Résultats à la fin du quiz (mer. 3 mars 18 h 00" in answer
    assert "Your answer *443* is in." in await click(slack, "UBOB", button_of(english, "443"))

    await slack.command("UTINA", "défi spoc close 1", channel="C0SPOC")
    await slack.app.worker.drain()
    results = json.dumps(blocks_of(posts_to(slack, "C0SPOC")[-1]), ensure_ascii=False)
    assert "Résultats : Quiz n° 1" in results and "La réponse était *443*." in results
    assert "2 gagnants remportent 10 points chacun : alice, bob." in results
    assert posts_to(slack, "UALICE")[-1]["text"] == "Vous avez gagné *10 points* : Quiz n° 1."
    assert posts_to(slack, "UBOB")[-1]["text"] == "You won *10 points* in Quiz #1."


# -- Teams ---------------------------------------------------------------------------------------------

TINA = teams.TeamsUser("tina", "fr-FR")
ALICE = teams.TeamsUser("alice", "fr-FR")
BOB = teams.TeamsUser("bob", "en-US")


async def press(
    h: TeamsHarness, user: teams.TeamsUser, title: str, inputs: dict[str, str] | None = None
) -> str:
    """Press a button of the user's latest card (Action.Execute); returns the card it answers with."""
    message = h.connector.messages(user.personal_conversation)[-1]
    assert message.card is not None
    action = next(a for a in teams.actions_of(message.card) if a.get("title") == title)
    click = teams.execute(h.connector.url, user, action, reply_to=message.activity_id or "m", inputs=inputs)
    response = await h.post(click)
    assert response.status == 200, await response.text()
    return json.dumps(await response.json(), ensure_ascii=False)


async def _teams_cohort(h: TeamsHarness) -> None:
    for user in (TINA, ALICE, BOB):
        await h.post(teams.installation(h.connector.url, user))
    await say(h, TINA, "créer spoc tz=Europe/Paris lang=fr")
    await say(h, TINA, "inscrire spoc", kind="channel", mentions=(ALICE, BOB))
    await h.deliver()


async def test_check_in_survey_and_quiz_in_french_and_english_on_teams(harness: TeamsHarness) -> None:
    h = harness
    await _teams_cohort(h)
    await say(h, TINA, SESSION)
    assert "2 cartes envoyées" in await say(h, TINA, "window spoc open")
    await h.deliver()
    assert "Émargement : Lancement" in h.connector.messages(ALICE.personal_conversation)[-1].card_text()
    assert "Check-in: Lancement" in h.connector.messages(BOB.personal_conversation)[-1].card_text()
    assert "✓ Émargé à 08 h 00 (Présent)" in await press(h, ALICE, "Émarger")
    assert "✓ Checked in at 08:00 (Present)" in await press(h, BOB, "Check in")

    assert "envoyé à 2 apprenants" in await say(h, TINA, "sondage spoc template=end-of-course")
    await h.deliver()
    survey = h.connector.messages(ALICE.personal_conversation)[-1].card_text()
    assert "Satisfaction de fin de formation" in survey and "4 questions rapides" in survey
    assert "jusqu'au lun. 8 mars 08 h 00 (Europe/Paris)" in survey
    assert "End-of-course satisfaction" in h.connector.messages(BOB.personal_conversation)[-1].card_text()

    assert "Quiz n° 1 publié" in await say(h, TINA, QUIZ)
    await h.deliver()
    quiz = h.connector.messages(ALICE.personal_conversation)[-1]
    assert "Chaque personne qui trouve la bonne réponse gagne" in quiz.card_text()
    assert "Everyone who gets it right" in h.connector.messages(BOB.personal_conversation)[-1].card_text()
