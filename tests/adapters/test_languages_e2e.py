"""Each person reads their own language, through the real Slack and Teams libraries: a French Slack
user (users.info `locale` fr-FR) and a French Teams user (activity `locale` fr-FR) enroll, read
their status, get a reminder, ask for help and mistype a verb, in French with French dates and
plurals, while an English colleague in the same cohort keeps reading English."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.core.clock import SimulatedClock
from tests.adapters.languages_support import bilingual_slack, blocks_of, posts_to
from tests.schedules.scheduler_helpers import run_until
from tests.standins import teams_activities as teams
from tests.standins.slack_harness import SlackHarness
from tests.standins.teams_harness import TeamsHarness

# The session is on Tuesday 2 March 2027 at 14:00 in Paris; its day-before reminder goes on Monday.
SESSION = 'session spoc "Lancement" 2027-03-02 14:00 90m'
REMINDED_BY = datetime(2027, 3, 1, 14, 30, tzinfo=UTC)


# -- Slack ---------------------------------------------------------------------------------------------


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[SlackHarness]:
    harness = await bilingual_slack(tmp_path)
    yield harness
    await harness.stop()


async def test_a_french_slack_user_reads_french_and_an_english_one_english(slack: SlackHarness) -> None:
    created = await slack.command(
        "UTINA", "créer spoc tz=Europe/Paris", channel="C0SPOC", channel_name="spoc"
    )
    assert "Cohorte *spoc* créée (fuseau horaire Europe/Paris)" in created["text"]
    # The French alias and the plural: two people, written the French way.
    enrolled = await slack.command("UTINA", "inscrire spoc <@UALICE> <@UBOB>", channel="C0SPOC")
    assert "2 personnes inscrites dans *spoc* : alice, bob." in enrolled["text"]
    again = await slack.command("UTINA", "enroll spoc <@UTINA>", channel="C0SPOC")
    assert "tina est déjà inscrit dans 'spoc'. Rien n'a été changé." in again["text"]
    one = await slack.command("UTINA", "role spoc trainer <@UBOB>", channel="C0SPOC")
    assert "bob : désormais formateur de *spoc*." in one["text"]
    await slack.command("UTINA", SESSION, channel="C0SPOC")

    await slack.app.worker.drain()
    welcome_fr = posts_to(slack, "UALICE")[-1]["text"]
    welcome_en = posts_to(slack, "UBOB")[-1]["text"]
    assert welcome_fr.startswith("Bienvenue dans *spoc* !")
    assert welcome_en.startswith("Welcome to *spoc*!")

    status = await slack.command("UALICE", "statut spoc")
    rendered = json.dumps(status, ensure_ascii=False)
    assert "spoc : votre progression" in rendered and "Prochaine séance" in rendered
    assert "Lancement, mar. 2 mars 14 h 00 (Europe/Paris)" in rendered

    await run_until(slack.app, slack.app.clock, REMINDED_BY)  # type: ignore[arg-type]
    reminders = [a["text"] for a in posts_to(slack, "UALICE") if a["text"].startswith("Rappel")]
    assert reminders == ["Rappel : *Lancement* commence le mardi 2 mars 2027, 14 h 00 (Europe/Paris)."]

    help_text = json.dumps(await slack.command("UALICE", "aide"), ensure_ascii=False)
    assert "Commandes de cohortbot" in help_text and "`statut" in help_text
    # alice is a learner: her help lists what she may use; tina, an admin, sees the rest too.
    assert "`inscrire" not in help_text and "Pour les formateurs et administrateurs" not in help_text
    staff_help = json.dumps(await slack.command("UTINA", "aide"), ensure_ascii=False)
    assert "`inscrire &lt;cohorte&gt; &lt;personnes...&gt;" in staff_help
    assert "Pour les formateurs et administrateurs" in staff_help

    wrong = (await slack.command("UALICE", "inscrir spoc <@UBOB>"))["text"]
    assert "Commande inconnue : 'inscrir'." in wrong
    # Slack's control characters are escaped in the fallback text too (the sec merge).
    assert "Vouliez-vous dire : `inscrire spoc &lt;@UBOB&gt;`" in wrong
    assert "Syntaxe : `inscrire &lt;cohorte&gt; &lt;personnes...&gt; [team=&lt;nom&gt;]`" in wrong

    english = (await slack.command("UBOB", "enrol spoc <@UALICE>"))["text"]
    assert "Unknown command 'enrol'." in english and "Did you mean: `enroll spoc &lt;@UALICE&gt;`" in english


async def test_french_buttons_in_block_kit_and_a_choice_of_language(slack: SlackHarness) -> None:
    await slack.command("UTINA", "create spoc tz=Europe/Paris lang=fr", channel="C0SPOC", channel_name="spoc")
    await slack.command("UTINA", 'module spoc "Sécurité" due 2027-03-03', channel="C0SPOC")
    await slack.command("UTINA", "enroll spoc <@UBOB>", channel="C0SPOC")
    # Bob's Slack is in English, but he chooses French: his next messages come in French.
    chosen = await slack.command("UBOB", "lang fr")
    assert chosen["text"] == "Désormais, je vous écris en français."
    await slack.command("UTINA", 'remind spoc "Sécurité"', channel="C0SPOC")
    await slack.app.worker.drain()
    reminder = posts_to(slack, "UBOB")[-1]
    assert reminder["text"].startswith("Rappel : *Sécurité* est à rendre le mer. 3 mars 23 h 59")
    buttons = [e for b in blocks_of(reminder) if b["type"] == "actions" for e in b["elements"]]
    assert [b["text"]["text"] for b in buttons] == ["Marquer comme fait"]
    back = await slack.command("UBOB", "langue auto")
    assert back["text"] == "From now on I write to you in English."


# -- Teams ---------------------------------------------------------------------------------------------

TINA = teams.TeamsUser("tina", "fr-FR")
ALICE = teams.TeamsUser("alice", "fr-FR")
BOB = teams.TeamsUser("bob", "en-US")


async def say(h: TeamsHarness, user: teams.TeamsUser, text: str, **kw: Any) -> str:
    before = len(h.connector.messages())
    response = await h.post(teams.message(h.connector.url, user, text, **kw))
    assert response.status == 201, await response.text()
    (reply,) = h.connector.messages()[before:]
    return reply.card_text().replace("**", "*")


async def test_a_french_teams_user_reads_french_and_an_english_one_english(
    harness: TeamsHarness, clock: SimulatedClock
) -> None:
    h = harness
    for user in (TINA, ALICE, BOB):
        await h.post(teams.installation(h.connector.url, user))
    assert "Bonjour Tina !" in h.connector.messages(TINA.personal_conversation)[-1].card_text()
    assert "Hi Bob!" in h.connector.messages(BOB.personal_conversation)[-1].card_text()

    assert "Cohorte *spoc* créée" in await say(h, TINA, "créer spoc tz=Europe/Paris")
    reply = await say(h, TINA, "inscrire spoc", kind="channel", mentions=(ALICE,))
    assert "1 personne inscrite dans *spoc* : Alice." in reply
    reply = await say(h, TINA, "inscrire spoc", kind="channel", mentions=(BOB,))
    assert "1 personne inscrite" in reply
    await say(h, TINA, SESSION)
    await h.deliver()
    assert "Bienvenue dans **spoc**" in h.connector.messages(ALICE.personal_conversation)[-1].card_text()
    assert "Welcome to **spoc**" in h.connector.messages(BOB.personal_conversation)[-1].card_text()

    status = await say(h, ALICE, "statut spoc")
    assert "Prochaine séance" in status and "mar. 2 mars 14 h 00" in status

    await run_until(h.app, clock, REMINDED_BY)
    alice_reminder = h.connector.messages(ALICE.personal_conversation)[-1].card_text()
    bob_reminder = h.connector.messages(BOB.personal_conversation)[-1].card_text()
    assert "Rappel : **Lancement** commence le mardi 2 mars 2027, 14 h 00" in alice_reminder
    assert "Reminder: **Lancement** starts Tue 2 Mar 2027, 14:00" in bob_reminder

    assert "Commandes de cohortbot" in await say(h, ALICE, "aide")
    wrong = await say(h, ALICE, "statu spoc")
    assert "Commande inconnue : 'statu'." in wrong and "Vouliez-vous dire : `statut spoc`" in wrong
    assert "Did you mean: `status spoc`" in await say(h, BOB, "statu spoc")


async def test_french_card_chrome_in_teams(harness: TeamsHarness) -> None:
    """The fixed words of a card (a yes/no question's buttons) follow the reader's language."""
    from bot.core import i18n
    from bot.core.messages import Message, Question

    with i18n.use("fr"):
        card = Message("Question", (Question("q", "Venez-vous ?", "yesno", "test.answer"),))
    from adapters.teams.cards import render_card

    body = render_card(card)
    titles = [a["title"] for a in teams.actions_of(body)]
    assert titles == ["oui", "non"]
    assert [a["data"]["q"] for a in teams.actions_of(body)] == ["yes", "no"]  # the values stay English
