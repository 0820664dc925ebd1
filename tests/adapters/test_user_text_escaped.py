"""Text people typed (names, titles, reasons) reaches Slack and Teams as text: it can neither ping
a channel (`<!channel>`, `<!everyone>`), nor mention someone, nor become a disguised link."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.slack import blockkit
from adapters.teams.cards import render_card
from bot.core.clock import SimulatedClock
from bot.core.messages import Fields, Header, Message, Question, Text, TextInput
from tests.conftest import START
from tests.standins.slack_harness import SlackHarness

EVIL_TITLE = "<!everyone> <https://evil.example|click> & [win](https://evil.example)"


def _all_text(blocks: object) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def _mrkdwn(blocks: object) -> str:
    """Every mrkdwn text of some Block Kit: what Slack parses for mentions and links."""
    if isinstance(blocks, dict):
        own = [blocks["text"]] if blocks.get("type") == "mrkdwn" else []
        return "\n".join([*own, *(_mrkdwn(v) for v in blocks.values())])
    if isinstance(blocks, list):
        return "\n".join(_mrkdwn(v) for v in blocks)
    return ""


def test_slack_blocks_escape_control_characters_everywhere_mrkdwn_is_parsed() -> None:
    message = Message(
        f"Module {EVIL_TITLE}",
        (
            Text(f"New module *{EVIL_TITLE}*"),
            Fields((("Due", EVIL_TITLE),)),
            Question("q1", EVIL_TITLE, "rating", "surveys.answer", value="1"),
            TextInput("q2", EVIL_TITLE, "surveys.answer", "1"),
        ),
    )
    rendered = _mrkdwn(blockkit.render(message)) + blockkit.summary_text(message)
    assert rendered.count("&lt;!everyone&gt;") == 5
    assert "<!everyone>" not in rendered and "<https://" not in rendered
    assert "&lt;!everyone&gt; &lt;https://evil.example|click&gt; &amp; [win]" in rendered
    assert blockkit.render(Message("x", (Text("*bold* and _it_"),)))[0]["text"]["text"] == "*bold* and _it_"


def test_a_cut_never_leaves_half_an_entity() -> None:
    text = blockkit.mrkdwn("a" * 2998 + "<<")["text"]
    assert len(text) <= blockkit.MAX_TEXT and text.endswith("a…")


def test_teams_cards_never_turn_typed_text_into_links() -> None:
    message = Message(
        "x",
        (Header(EVIL_TITLE), Text(f"New *{EVIL_TITLE}*"), Fields(((EVIL_TITLE, EVIL_TITLE),))),
    )
    rendered = _all_text(render_card(message))
    assert "](https://evil" not in rendered
    assert "[win]\u200b(https://evil.example)" in rendered
    assert "[click](" not in rendered  # Slack's link syntax is not translated into a link either


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[SlackHarness]:
    harness = await SlackHarness.start(f"sqlite:///{tmp_path / 'slack.db'}", SimulatedClock(START))
    harness.api.add_user("UTINA", "tina", "tina@acme.test")
    harness.api.add_user("UEVIL", "<!channel>", "evil@acme.test")
    yield harness
    await harness.stop()


async def test_a_learner_named_channel_pings_nobody_in_a_broadcast(slack: SlackHarness) -> None:
    await slack.command("UTINA", "create spoc", channel="C0SPOC", channel_name="spoc")
    answer = await slack.command("UTINA", "enroll spoc <@UEVIL>", channel="C0SPOC")
    assert "&lt;!channel&gt;" in answer["text"] and "<!channel>" not in json.dumps(answer)
    await slack.command("UTINA", f'module spoc "{EVIL_TITLE}" due 2027-03-20', channel="C0SPOC")
    await slack.app.worker.drain()
    for call in slack.api.called("chat.postMessage"):
        sent = json.dumps(call.args)
        assert "<!" not in sent and "<https://evil" not in sent
