"""What the language tests share: a Slack workspace where tina and alice read French (`users.info`
locale fr-FR) and bob English, a French cohort they are in, and ways to read and click what Slack
was sent; on Teams, a command and the cards it answers with."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.core.clock import SimulatedClock
from tests.conftest import START
from tests.standins import teams_activities as teams
from tests.standins.slack_harness import SlackHarness
from tests.standins.teams_harness import TeamsHarness

# START is Monday 1 March 2027, 08:00 in Paris: the French cohort's session starts at 08:30.
SESSION = 'session spoc "Lancement" 2027-03-01 08:30 60m'
# (user id, name, Slack locale): the trainer and a learner read French, another learner English.
PEOPLE = (("UTINA", "tina", "fr-FR"), ("UALICE", "alice", "fr-FR"), ("UBOB", "bob", "en-US"))


async def bilingual_slack(tmp_path: Path, *more: tuple[str, str, str]) -> SlackHarness:
    """cohortbot on Slack at START, with PEOPLE and `more` known to the Web API stand-in."""
    harness = await SlackHarness.start(f"sqlite:///{tmp_path / 'slack.db'}", SimulatedClock(START))
    for user, name, locale in (*PEOPLE, *more):
        harness.api.add_user(user, name, f"{name}@acme.test", "Europe/Paris", locale=locale)
    return harness


async def french_cohort(slack: SlackHarness) -> None:
    """`spoc`, in French, created by tina in #spoc with alice and bob enrolled (welcomes sent)."""
    await slack.command("UTINA", "créer spoc tz=Europe/Paris lang=fr", channel="C0SPOC", channel_name="spoc")
    await slack.command("UTINA", "inscrire spoc <@UALICE> <@UBOB>", channel="C0SPOC")
    await slack.app.worker.drain()


def posts_to(slack: SlackHarness, channel: str) -> list[dict[str, Any]]:
    return [c.args for c in slack.api.called("chat.postMessage") if c.args["channel"] == channel]


def blocks_of(args: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = args.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def button_of(args: dict[str, Any], label: str) -> dict[str, Any]:
    """A button of a posted message, as a click on it reports it."""
    for block in blocks_of(args):
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if element.get("type") == "button" and element["text"]["text"] == label:
                return {"type": "button", "action_id": element["action_id"], "value": element["value"]}
    raise AssertionError(f"no button {label!r} in {json.dumps(blocks_of(args), ensure_ascii=False)}")


async def click(slack: SlackHarness, user: str, button: dict[str, Any]) -> str:
    """Click at the simulated time (the click's own timestamp decides on time or late); returns
    what the app answered through the click's response_url."""
    before = len(slack.api.responses)
    when = f"{slack.app.clock.now().timestamp():.6f}"
    payload = slack.http.block_actions_payload(user, button, action_ts=when, channel=f"D{user[1:]}")
    status, _ = await slack.http.send(slack.http.interaction(payload))
    assert status == 200
    await slack.bot.settle()
    return json.dumps(slack.api.responses[before:], ensure_ascii=False)


async def say(h: TeamsHarness, user: teams.TeamsUser, text: str, **kw: Any) -> str:
    """A Teams message from `user`; the text of every card the bot sent in answer."""
    before = len(h.connector.messages())
    response = await h.post(teams.message(h.connector.url, user, text, **kw))
    assert response.status == 201, await response.text()
    return " ".join(m.card_text() for m in h.connector.messages()[before:])
