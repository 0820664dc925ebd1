"""The Adaptive Card renderer covers every neutral block, and what a card sends back on a click
is read as the engine's action, value and inputs."""

from __future__ import annotations

import base64
from pathlib import Path

from PIL import Image as PILImage

from adapters.teams.cards import read_action, render_card, to_markdown
from bot.core.messages import (
    Button,
    Buttons,
    Divider,
    Fields,
    Header,
    Image,
    Message,
    Progress,
    Question,
    Text,
    TextInput,
)
from tests.standins.teams_activities import actions_of


def test_every_block_renders() -> None:
    message = Message(
        "Week 2",
        (
            Header("Week 2"),
            Text("*Due* _Friday_: Module 2"),
            Divider(),
            Fields((("Next session", "Mon 9 Mar 09:30"), ("Due", "*Module 2*"))),
            Progress("Modules", 3, 10),
            Buttons(
                (Button("Mark as done", "module.done", "m2", "primary"), Button("Later", "x.later", "m2"))
            ),
            Image("https://example.com/chart.png", "progress chart"),
        ),
    )
    card = render_card(message, source_key="remind:m2:alice")
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4" and card["fallbackText"] == "Week 2"
    header, text, facts, progress, buttons, image = card["body"]
    assert header["weight"] == "Bolder" and header["wrap"]
    assert text["text"] == "**Due** _Friday_: Module 2"
    assert facts["type"] == "FactSet" and facts["separator"] is True  # the divider
    assert facts["facts"][1] == {"title": "Due", "value": "**Module 2**"}
    assert progress["text"] == "Modules ▓▓▓░░░░░░░ 3/10"
    done, later = buttons["actions"]
    assert done["type"] == "Action.Execute" and done["verb"] == "module.done" and done["style"] == "positive"
    assert done["data"] == {"cohortbot": {"action": "module.done", "value": "m2", "key": "remind:m2:alice"}}
    assert done["fallback"] == {
        "type": "Action.Submit",
        "title": "Mark as done",
        "data": done["data"],
        "style": "positive",
    }
    assert "style" not in later
    assert image == {
        "type": "Image",
        "url": "https://example.com/chart.png",
        "altText": "progress chart",
        "size": "Stretch",
    }


def test_a_message_without_blocks_shows_its_summary() -> None:
    assert render_card(Message("Hello"))["body"] == [{"type": "TextBlock", "text": "Hello", "wrap": True}]


def test_local_images_are_inlined(tmp_path: Path) -> None:
    path = tmp_path / "chart.png"
    PILImage.new("RGB", (4, 4), "red").save(path)
    (image,) = render_card(Message("chart", (Image(str(path), "chart"),)))["body"]
    prefix = "data:image/png;base64,"
    assert image["url"].startswith(prefix)
    assert base64.b64decode(image["url"][len(prefix) :]) == path.read_bytes()


def test_short_questions_are_buttons_carrying_the_answer() -> None:
    card = render_card(
        Message("q", (Question("q1", "Was it useful?", "yesno", "survey.answer", value="s1"),))
    )
    prompt, action_set = card["body"]
    assert prompt["text"] == "Was it useful?"
    yes, no = action_set["actions"]
    assert (yes["title"], no["title"]) == ("yes", "no")
    assert read_action(yes["data"]) == ("survey.answer", "s1", {"q1": "yes"}, None)


def test_long_and_multi_questions_are_choice_sets_with_a_submit() -> None:
    nps = render_card(Message("q", (Question("q2", "Recommend us?", "nps", "survey.answer"),)))["body"]
    assert (
        nps[1]["type"] == "Input.ChoiceSet" and len(nps[1]["choices"]) == 11 and nps[1]["style"] == "compact"
    )
    multi = render_card(
        Message(
            "q", (Question("q3", "Topics?", "multi", "survey.answer", options=("a", "b", "c"), value="s"),)
        )
    )["body"]
    assert multi[1]["isMultiSelect"] is True and multi[1]["id"] == "q3"
    (send,) = multi[2]["actions"]
    # Teams merges the inputs into the action's data: multi-select comes back comma-joined.
    assert read_action({**send["data"], "q3": "a,c"}) == ("survey.answer", "s", {"q3": "a,c"}, None)


def test_text_input_comes_back_merged_with_the_action_data() -> None:
    body = render_card(
        Message("c", (TextInput("comment", "Anything to add?", "survey.comment", value="s1"),))
    )["body"]
    _prompt, text_input, action_set = body
    # Not required: Teams would refuse every other button of the card until it is filled in.
    assert text_input == {"type": "Input.Text", "id": "comment", "isMultiline": True}
    (send,) = action_set["actions"]
    merged = {**send["data"], "comment": "More exercises please", "msteams": {"type": "messageBack"}}
    assert read_action(merged) == ("survey.comment", "s1", {"comment": "More exercises please"}, None)


def test_a_rating_click_beside_an_empty_comment_box_carries_only_the_rating() -> None:
    body = render_card(
        Message(
            "s",
            (
                Question("q1", "How was it?", "rating", "survey.answer", value="s1"),
                TextInput("comment", "Anything to add?", "survey.answer", value="s1"),
            ),
        )
    )["body"]
    assert all("isRequired" not in element for element in body)
    four = next(a for a in body[1]["actions"] if a["title"] == "4")
    # Teams merges every input of the card into the clicked action's data, empty ones included.
    assert read_action({**four["data"], "comment": ""}) == ("survey.answer", "s1", {"q1": "4"}, None)


def test_foreign_data_is_not_an_action() -> None:
    assert read_action({"verb": "x"}) is None
    assert read_action("text") is None
    assert read_action({"cohortbot": {"action": ""}}) is None


def test_markdown_subset() -> None:
    assert to_markdown("a *b* c") == "a **b** c"
    assert to_markdown("2*3*4") == "2*3*4"  # not emphasis
    # Typed text is never a link: not Slack's <url|label>, not markdown's [label](url).
    assert to_markdown("<https://evil|click>") == "<https://evil|click>"
    assert to_markdown("[click](https://evil)") == "[click]\u200b(https://evil)"
    assert actions_of(render_card(Message("x", (Text("t"),)))) == []
