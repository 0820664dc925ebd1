"""The Block Kit renderer: every neutral block becomes valid Slack blocks within Block Kit's limits,
and every clicked element decodes back to the engine's action, value and inputs."""

from __future__ import annotations

import json

from adapters.slack import blockkit
from bot.core.inbound import Action
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


def _click(element: dict, state: dict | None = None) -> object:
    return blockkit.decode_click(
        {"action_id": element["action_id"], "value": element.get("value", "")}, state or {}
    )


def _interactive(blocks: list[dict]) -> list[dict]:
    found = []
    for block in blocks:
        found.extend(block.get("elements", []))
        if "accessory" in block:
            found.append(block["accessory"])
    return [e for e in found if "action_id" in e]


def test_every_block_kind_renders_and_the_summary_is_the_fallback() -> None:
    message = Message(
        "Week 2",
        (
            Header("Week 2"),
            Text("*Kick-off* at https://meet.example/x"),
            Fields((("Next session", "Mon 9 Mar 09:30"), ("Next due", "Fri 13 Mar"))),
            Progress("Modules", 3, 4),
            Image("https://example.com/chart.png", "progress chart"),
            Divider(),
            Buttons(
                (Button("Mark as done", "module.done", "7", "primary"), Button("Later", "module.later", "7"))
            ),
        ),
    )
    blocks = blockkit.render(message)
    assert [b["type"] for b in blocks] == [
        "header",
        "section",
        "section",
        "section",
        "image",
        "divider",
        "actions",
    ]
    assert blocks[1]["text"] == {"type": "mrkdwn", "text": "*Kick-off* at https://meet.example/x"}
    assert blocks[2]["fields"][0]["text"] == "*Next session*\nMon 9 Mar 09:30"
    assert blocks[3]["text"]["text"] == "Modules `▓▓▓▓▓▓▓▓░░` 3/4"
    done, later = blocks[6]["elements"]
    assert done["style"] == "primary" and "style" not in later
    assert _click(done) == Action("module.done", "7")
    assert blockkit.summary_text(message) == "Week 2"


def test_limits_fields_buttons_blocks_and_lengths() -> None:
    many_fields = Fields(tuple((f"k{i}", "v") for i in range(23)))
    many_buttons = Buttons(tuple(Button(f"b{i}", "x.pick", str(i)) for i in range(30)))
    blocks = blockkit.render(Message("m", (Header("H" * 400), Text("t" * 5000), many_fields, many_buttons)))
    assert len(blocks[0]["text"]["text"]) == 150
    assert len(blocks[1]["text"]["text"]) == 3000
    assert [len(b["fields"]) for b in blocks[2:5]] == [10, 10, 3]
    assert [len(b["elements"]) for b in blocks[5:7]] == [25, 5]
    ids = [e["action_id"] for e in _interactive(blocks)]
    assert len(ids) == len(set(ids)) == 30
    assert [_click(e) for e in _interactive(blocks)][29] == Action("x.pick", "29")

    help_text = "\n".join(f"line {i} " + "x" * 90 for i in range(70))  # ~7,000 characters
    sections = blockkit.render(Message("m", (Text(help_text),)))
    assert len(sections) == 3 and all(len(b["text"]["text"]) <= 3000 for b in sections)
    assert "\n".join(b["text"]["text"] for b in sections) == help_text  # nothing lost, cut between lines

    long = blockkit.render(Message("m", tuple(Text(str(i)) for i in range(80))))
    assert len(long) == 50 and long[-1]["type"] == "context"


def test_choice_questions_are_buttons_that_answer_with_the_choice() -> None:
    rating = Question("q1", "How was the session?", "rating", "survey.answer", value="sv3")
    nps = Question("q2", "Recommend us?", "nps", "survey.answer", value="sv3")
    blocks = blockkit.render(Message("survey", (rating, nps)))
    buttons = _interactive(blocks)
    assert [b["text"]["text"] for b in buttons[:5]] == ["1", "2", "3", "4", "5"]
    assert len(buttons) == 5 + 11
    assert _click(buttons[3]) == Action("survey.answer", "sv3", {"q1": "4"})
    assert _click(buttons[-1]) == Action("survey.answer", "sv3", {"q2": "10"})


def test_multi_choice_is_checkboxes_and_a_submit_carrying_the_picks() -> None:
    question = Question(
        "q9", "Which topics?", "multi", "survey.answer", ("APIs", "Security", "Testing"), "sv1"
    )
    blocks = blockkit.render(Message("survey", (question,)))
    picker, submit = blocks[1]["elements"]
    assert picker["type"] == "checkboxes" and [o["value"] for o in picker["options"]] == [
        "APIs",
        "Security",
        "Testing",
    ]
    assert _click(picker) is None  # a toggle is only acknowledged
    state = {
        "values": {
            blocks[1]["block_id"]: {
                picker["action_id"]: {"selected_options": [{"value": "APIs"}, {"value": "Testing"}]}
            }
        }
    }
    assert _click(submit, state) == Action("survey.answer", "sv1", {"q9": "APIs,Testing"})

    big = Question("q10", "Pick", "multi", "survey.answer", tuple(f"o{i}" for i in range(12)))
    assert blockkit.render(Message("m", (big,)))[1]["elements"][0]["type"] == "multi_static_select"


def test_free_text_opens_a_modal_whose_submission_is_the_answer() -> None:
    blocks = blockkit.render(
        Message("m", (TextInput("comment", "What could be better?", "survey.comment", "sv2"),))
    )
    opener = blocks[0]["accessory"]
    request = _click(opener)
    assert request == blockkit.OpenModal("survey.comment", "sv2", "comment", "What could be better?", True)
    assert isinstance(request, blockkit.OpenModal)
    view = blockkit.modal(request, "https://hooks.slack.com/actions/T/1/x")
    assert view["blocks"][0]["label"]["text"] == "What could be better?"
    view["state"] = {"values": {"answer": {"text": {"type": "plain_text_input", "value": "More labs"}}}}
    submission = blockkit.decode_submission(view)
    assert submission.action == Action("survey.comment", "sv2", {"comment": "More labs"})
    assert submission.response_url == "https://hooks.slack.com/actions/T/1/x"
    assert len(json.dumps(view)) < 3000


def test_a_local_chart_is_announced_and_left_for_upload() -> None:
    message = Message("Report", (Image("/tmp/chart.png", "attendance chart"),))
    blocks = blockkit.render(message)
    assert blocks == [
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "📎 attendance chart (attached below)"}]}
    ]
    assert [i.url for i in blockkit.local_images(message)] == ["/tmp/chart.png"]
