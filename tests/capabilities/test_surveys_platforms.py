"""Surveys through the Slack and Teams renderers: the card each platform shows, the click or
submission it sends back, decoded by the adapter, answered and stored by the engine."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import select

from adapters.slack.blockkit import OpenModal, decode_click, decode_submission, modal
from adapters.slack.blockkit import render as render_blocks
from adapters.teams.cards import read_action, render_card
from bot.capabilities.surveys.models import SurveyBallot
from bot.core.inbound import Action
from tests.capabilities.surveys_fixtures import cohort_with_learners, send_now, survey_cards
from tests.conftest import Chat, RecordingSender

DEFINITION = '"Week 1" "rating:How was it?" "multi:Useful parts?|Labs|Talks|Quiz" "text:Comments?"'


async def answer(chat: Chat, who: str, action: Action) -> str:
    return await chat.press(who, action.action_id, action.value, dict(action.inputs))


async def ballot_answers(chat: Chat) -> dict[str, Any]:
    async with chat.app.store.transaction() as session:
        (ballot,) = (await session.exec(select(SurveyBallot))).all()
    return dict(ballot.answers)


def slack_elements(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every interactive element: in actions blocks, and section accessories."""
    elements = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    return elements + [b["accessory"] for b in blocks if "accessory" in b]


async def test_a_slack_learner_answers_with_buttons_checkboxes_and_a_modal(
    chat: Chat, sender: RecordingSender
) -> None:
    await cohort_with_learners(chat)
    await send_now(chat, f"new {DEFINITION}")
    (card,) = survey_cards(sender, "alice")
    elements = slack_elements(render_blocks(card))

    four = next(e for e in elements if e["type"] == "button" and e["text"]["text"] == "4")
    rating = decode_click(four, {})
    assert isinstance(rating, Action)
    await answer(chat, "alice", rating)

    boxes = next(e for e in elements if e["type"] == "checkboxes")
    submit = next(e for e in elements if e["type"] == "button" and e["action_id"].startswith("s"))
    block_id = json.loads(submit["value"])[2]
    picked = [o for o in boxes["options"] if o["value"] in ("Labs", "Quiz")]
    state = {"values": {block_id: {boxes["action_id"]: {"selected_options": picked}}}}
    multi = decode_click(submit, state)
    assert isinstance(multi, Action)
    await answer(chat, "alice", multi)

    comment_button = next(e for e in elements if e["type"] == "button" and e["action_id"].startswith("t"))
    opened = decode_click(comment_button, {})
    assert isinstance(opened, OpenModal)
    view = modal(opened, None)
    view["state"] = {"values": {"answer": {"text": {"type": "plain_text_input", "value": "More labs"}}}}
    reply = await answer(chat, "alice", decode_submission(view).action)
    assert "Thank you" in reply
    assert await ballot_answers(chat) == {"q1": 4, "q2": ["Labs", "Quiz"], "q3": "More labs"}


def teams_actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for element in card["body"] if element["type"] == "ActionSet" for a in element["actions"]]


async def test_a_teams_learner_answers_on_the_adaptive_card(chat: Chat, sender: RecordingSender) -> None:
    await cohort_with_learners(chat)
    await send_now(chat, f"new {DEFINITION}")
    (card,) = survey_cards(sender, "bob")
    rendered = render_card(card)
    assert all("isRequired" not in element for element in rendered["body"])
    actions = teams_actions(rendered)

    four = next(a for a in actions if a["title"] == "4")
    # Teams merges every input of the card into the clicked action's data, the empty ones too.
    routed = read_action({**four["data"], "q2": "", "q3": ""})
    assert routed is not None
    await answer(chat, "bob", Action(routed[0], routed[1], routed[2]))

    multi_submit, text_submit = [a for a in actions if a["title"] == "Send"]
    routed = read_action({**multi_submit["data"], "q2": "Talks", "q3": ""})
    assert routed is not None
    await answer(chat, "bob", Action(routed[0], routed[1], routed[2]))
    routed = read_action({**text_submit["data"], "q2": "Talks", "q3": "Good pace"})
    assert routed is not None
    reply = await answer(chat, "bob", Action(routed[0], routed[1], routed[2]))
    assert "Thank you" in reply
    assert await ballot_answers(chat) == {"q1": 4, "q2": ["Talks"], "q3": "Good pace"}
