"""The one Block Kit renderer: neutral `Message` blocks to Slack blocks, and clicks back to `Action`s.

Every interactive element's `action_id` is `<kind><n>:<engine action id>` (n numbers the elements of
one message, so ids are unique per block as Slack requires) and its `value` carries what the engine
needs back. Kinds: `b` button, `q` question choice, `x` multi-choice checkboxes (a toggle is only
acknowledged), `s` submit of a multi-choice, `t` opens a modal for a free-text answer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.core import i18n
from bot.core.i18n import _, _n
from bot.core.inbound import Action
from bot.core.messages import (
    Block,
    Buttons,
    Divider,
    Fields,
    Header,
    Image,
    Link,
    Message,
    Progress,
    Question,
    Text,
    TextInput,
    progress_bar,
)

# Block Kit limits (api.slack.com/reference/block-kit)
MAX_BLOCKS = 50
MAX_TEXT = 3000
MAX_HEADER = 150
MAX_FIELD = 2000
MAX_FIELDS = 10
MAX_ELEMENTS = 25
MAX_LABEL = 75
MAX_VALUE = 2000
MAX_CHECKBOXES = 10
MAX_SUMMARY = 3000

ACTION_ID_RE = re.compile(r"^[bqxst]\d+:")
MODAL_CALLBACK = "cohortbot.answer"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(text: str, limit: int = MAX_LABEL) -> dict[str, Any]:
    return {"type": "plain_text", "text": _cut(text or " ", limit), "emoji": True}


_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}…$")


def escape(text: str) -> str:
    """Slack's three control characters as entities: text someone typed (a name `<!channel>`, a
    title `<https://evil|click>`) can then neither ping a channel nor become a link. The engine's
    light markdown (*bold*, _italic_, `code`) has no use for them."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escaped_cut(text: str, limit: int) -> str:
    return _PARTIAL_ENTITY.sub("…", _cut(escape(text), limit))


def mrkdwn(text: str, limit: int = MAX_TEXT) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": _escaped_cut(text or " ", limit)}


def is_local_image(block: Block) -> bool:
    return isinstance(block, Image) and not block.url.startswith(("http://", "https://"))


def local_images(message: Message) -> list[Image]:
    """Images given as file paths: Slack cannot fetch them, so the sender uploads them."""
    return [b for b in message.blocks if isinstance(b, Image) and is_local_image(b)]


def summary_text(message: Message) -> str:
    """The notification and fallback text of a message."""
    return _escaped_cut(message.summary, MAX_SUMMARY)  # Slack parses it as mrkdwn too


class _Numbering:
    def __init__(self) -> None:
        self.n = 0

    def next(self, kind: str, action: str) -> str:
        self.n += 1
        return _cut(f"{kind}{self.n}:{action}", 255)


def render(message: Message) -> list[dict[str, Any]]:
    """Slack blocks for a message, within Block Kit's limits."""
    numbering = _Numbering()
    blocks: list[dict[str, Any]] = []
    with i18n.use(message.lang):  # buttons and notes in the message's language
        for block in message.blocks or (Text(message.summary),):
            blocks.extend(_render_block(block, numbering))
        if len(blocks) > MAX_BLOCKS:
            hidden = len(blocks) - MAX_BLOCKS + 1
            note = _n("… {n} more block not shown", "… {n} more blocks not shown", hidden)
            blocks = [*blocks[: MAX_BLOCKS - 1], {"type": "context", "elements": [mrkdwn(note)]}]
    return blocks


def _split_lines(text: str, limit: int) -> list[str]:
    """Long text as several sections, cut between lines (a line longer than `limit` is shortened)."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        line = _cut(line, limit)
        if current and len(current) + 1 + len(line) > limit:
            parts.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    parts.append(current)
    return parts


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


def _button(label: str, action_id: str, value: str, style: str = "default") -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": plain(label),
        "action_id": action_id,
        "value": _cut(value, MAX_VALUE),
    }
    if style in ("primary", "danger"):
        element["style"] = style
    return element


def _actions(elements: list[dict[str, Any]], block_id: str | None = None) -> list[dict[str, Any]]:
    out = []
    for i, chunk in enumerate(_chunks(elements, MAX_ELEMENTS)):
        block: dict[str, Any] = {"type": "actions", "elements": chunk}
        if block_id:
            block["block_id"] = block_id if i == 0 else f"{block_id}.{i}"
        out.append(block)
    return out


def _render_block(block: Block, numbering: _Numbering) -> list[dict[str, Any]]:
    if isinstance(block, Header):
        return [{"type": "header", "text": plain(block.text, MAX_HEADER)}]
    if isinstance(block, Text):
        return [{"type": "section", "text": mrkdwn(part)} for part in _split_lines(block.text, MAX_TEXT)]
    if isinstance(block, Fields):
        fields = [mrkdwn(f"*{k}*\n{v}", MAX_FIELD) for k, v in block.pairs]
        return [{"type": "section", "fields": chunk} for chunk in _chunks(fields, MAX_FIELDS) if chunk]
    if isinstance(block, Progress):
        bar = progress_bar(block.ratio)
        return [{"type": "section", "text": mrkdwn(f"{block.label} `{bar}` {block.done}/{block.total}")}]
    if isinstance(block, Buttons):
        elements = [_button(b.label, numbering.next("b", b.action), b.value, b.style) for b in block.buttons]
        return _actions(elements)
    if isinstance(block, Question):
        return _question(block, numbering)
    if isinstance(block, TextInput):
        value = json.dumps(
            [block.value, block.input_id, _cut(block.prompt, 1500), block.multiline, i18n.current()]
        )
        opener = _button(_("Answer"), numbering.next("t", block.action), value, "primary")
        return [{"type": "section", "text": mrkdwn(block.prompt), "accessory": opener}]
    if isinstance(block, Image):
        if is_local_image(block):
            return [{"type": "context", "elements": [mrkdwn(_("📎 {alt} (attached below)", alt=block.alt))]}]
        return [{"type": "image", "image_url": block.url, "alt_text": _cut(block.alt or "image", 2000)}]
    if isinstance(block, Link):
        # Only our own http(s) addresses become links; the label is escaped like any text.
        if not block.url.startswith(("http://", "https://")) or any(c in block.url for c in "<>| "):
            return [{"type": "section", "text": mrkdwn(f"{block.label}: {block.url}")}]
        label = _escaped_cut(block.label, MAX_FIELD).replace("|", "¦")
        return [{"type": "section", "text": {"type": "mrkdwn", "text": f"<{block.url}|{label}>"}}]
    if isinstance(block, Divider):
        return [{"type": "divider"}]
    return []


def _question(block: Question, numbering: _Numbering) -> list[dict[str, Any]]:
    prompt = {"type": "section", "text": mrkdwn(block.prompt)}
    choices = list(block.choices())
    if block.question_kind != "multi":
        elements = [
            _button(
                block.label(choice),
                numbering.next("q", block.action),
                json.dumps([block.value, block.question_id, choice]),
            )
            for choice in choices
        ]
        return [prompt, *_actions(elements)]
    picker_id = numbering.next("x", block.action)
    options = [{"text": plain(block.label(c)), "value": _cut(c, 150)} for c in choices]
    picker: dict[str, Any] = (
        {"type": "checkboxes", "action_id": picker_id, "options": options}
        if len(options) <= MAX_CHECKBOXES
        else {
            "type": "multi_static_select",
            "action_id": picker_id,
            "placeholder": plain(_("Pick")),
            "options": options[:100],
        }
    )
    block_id = f"pick.{picker_id.split(':', 1)[0]}"
    submit_value = json.dumps([block.value, block.question_id, block_id, picker_id])
    submit = _button(_("Submit"), numbering.next("s", block.action), submit_value, "primary")
    return [prompt, {"type": "actions", "block_id": block_id, "elements": [picker, submit]}]


@dataclass(frozen=True)
class OpenModal:
    """A click on a free-text question: open a modal, whose submission becomes `action`."""

    action: str
    value: str
    input_id: str
    prompt: str
    multiline: bool
    lang: str = i18n.SOURCE_LANGUAGE  # the language of the card clicked: the modal's too


def decode_click(action: dict[str, Any], state: dict[str, Any]) -> Action | OpenModal | None:
    """The engine action behind one clicked element (None: a checkbox toggle, only acknowledged)."""
    kind, _, engine_action = action["action_id"].partition(":")
    kind = kind[:1]
    if kind == "b":
        return Action(engine_action, action.get("value", ""))
    if kind == "q":
        value, question_id, choice = json.loads(action["value"])
        return Action(engine_action, value, {question_id: choice})
    if kind == "s":
        value, question_id, block_id, picker_id = json.loads(action["value"])
        picked = state.get("values", {}).get(block_id, {}).get(picker_id, {}).get("selected_options") or []
        return Action(engine_action, value, {question_id: ",".join(o["value"] for o in picked)})
    if kind == "t":
        value, input_id, prompt, multiline, *lang = json.loads(action["value"])
        return OpenModal(engine_action, value, input_id, prompt, bool(multiline), *lang[:1])
    return None


def modal(request: OpenModal, response_url: str | None) -> dict[str, Any]:
    """The modal asking for a free-text answer; `private_metadata` says where the answer goes."""
    metadata = json.dumps({"a": request.action, "v": request.value, "i": request.input_id, "r": response_url})
    with i18n.use(request.lang):
        title, submit, close = _("Your answer"), _("Send"), _("Cancel")
    return {
        "type": "modal",
        "callback_id": MODAL_CALLBACK,
        "title": plain(title, 24),
        "submit": plain(submit, 24),
        "close": plain(close, 24),
        "private_metadata": metadata,
        "blocks": [
            {
                "type": "input",
                "block_id": "answer",
                "label": plain(request.prompt, 2000),
                "element": {"type": "plain_text_input", "action_id": "text", "multiline": request.multiline},
            }
        ],
    }


@dataclass(frozen=True)
class Submission:
    action: Action
    response_url: str | None


def decode_submission(view: dict[str, Any]) -> Submission:
    """The engine action of a submitted answer modal: inputs {input_id: typed text}."""
    meta = json.loads(view.get("private_metadata") or "{}")
    typed = view["state"]["values"]["answer"]["text"].get("value") or ""
    return Submission(Action(meta["a"], meta.get("v", ""), {meta["i"]: typed}), meta.get("r"))


def reply_modal(message: Message) -> dict[str, Any]:
    """A modal showing the engine's reply (after an answer that did not replace a card)."""
    with i18n.use(message.lang):
        close = _("Close")
    return {
        "type": "modal",
        "callback_id": "cohortbot.reply",
        "title": plain("cohortbot", 24),
        "close": plain(close, 24),
        "blocks": render(message),
    }


def home(message: Message) -> dict[str, Any]:
    return {"type": "home", "blocks": render(message)}


def local_path(image: Image) -> Path:
    return Path(image.url.removeprefix("file://"))
