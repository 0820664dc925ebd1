"""The Adaptive Card renderer: every neutral block of `bot.core.messages` as an Adaptive Card 1.4.

Buttons are `Action.Execute` (Universal Actions: the card is updated in place from the invoke
response) with an `Action.Submit` fallback for clients without them. Every action carries the
engine's routing under one reserved data key; inputs (choice sets, text) come back merged next
to it, keyed by their ids, which is how `read_action` tells them apart.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from pathlib import Path
from typing import Any

from bot.core import i18n
from bot.core.i18n import _
from bot.core.messages import (
    Block,
    Button,
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

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_VERSION = "1.4"
ROUTE_KEY = "cohortbot"  # data key holding {action, value, key}; every other key is an input
MAX_BUTTON_CHOICES = 5  # more choices than this become a drop-down with a submit button
MAX_ACTIONS = 6  # buttons Teams shows in one ActionSet (more are cut off): longer rows are split

_BOLD = re.compile(r"(?<![*\w])\*([^*\n]+)\*(?![*\w])")
_LINK = re.compile(r"\]\s*\(")


def to_markdown(text: str) -> str:
    """The engine's light markdown (*bold*, _italic_) in Adaptive Card markdown. Text someone typed
    may hold markdown link syntax (`[click](https://evil)`): a zero-width space between `]` and
    `(` keeps it visible as text and never a link. Angle brackets mean nothing to a TextBlock."""
    text = _LINK.sub("]\u200b(", text)
    return _BOLD.sub(r"**\1**", text)


def render_card(message: Message, source_key: str | None = None) -> dict[str, Any]:
    """The card for `message`; `source_key` (its outbox key) rides along in every action."""
    body: list[dict[str, Any]] = []
    separate_next = False
    with i18n.use(message.lang):  # buttons in the message's language
        for block in message.blocks or (Text(message.summary),):
            if isinstance(block, Divider):
                separate_next = True
                continue
            elements = _elements(block, source_key)
            if elements and separate_next:
                elements[0]["separator"] = True
                separate_next = False
            body.extend(elements)
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": body,
        "fallbackText": message.summary,
    }


def card_attachment(message: Message, source_key: str | None = None) -> dict[str, Any]:
    return {"contentType": CARD_CONTENT_TYPE, "content": render_card(message, source_key)}


def _route(action: str, value: str, source_key: str | None, extra: dict[str, str] | None = None) -> dict:
    route: dict[str, Any] = {"action": action, "value": value}
    if source_key:
        route["key"] = source_key
    return {ROUTE_KEY: route, **(extra or {})}


def _action(
    title: str,
    action: str,
    value: str,
    source_key: str | None,
    *,
    style: str = "default",
    extra: dict[str, str] | None = None,
) -> dict[str, Any]:
    data = _route(action, value, source_key, extra)
    submit: dict[str, Any] = {"type": "Action.Submit", "title": title, "data": data}
    execute: dict[str, Any] = {
        "type": "Action.Execute",
        "title": title,
        "verb": action,
        "data": data,
        "fallback": submit,
    }
    if style in ("positive", "destructive"):
        execute["style"] = submit["style"] = style
    return execute


_STYLES = {"primary": "positive", "danger": "destructive", "default": "default"}


def _button(button: Button, source_key: str | None) -> dict[str, Any]:
    return _action(button.label, button.action, button.value, source_key, style=_STYLES[button.style])


def _text(text: str, **extra: Any) -> dict[str, Any]:
    # Every TextBlock renders markdown: typed text never becomes a link, whatever block holds it.
    return {"type": "TextBlock", "text": _LINK.sub("]\u200b(", text), "wrap": True, **extra}


def _elements(block: Block, source_key: str | None) -> list[dict[str, Any]]:
    if isinstance(block, Header):
        return [_text(block.text, size="Large", weight="Bolder")]
    if isinstance(block, Text):
        return [_text(to_markdown(block.text))]
    if isinstance(block, Fields):
        return [
            {
                "type": "FactSet",
                "facts": [
                    {"title": _LINK.sub("]\u200b(", k), "value": to_markdown(v)} for k, v in block.pairs
                ],
            }
        ]
    if isinstance(block, Progress):
        bar = progress_bar(block.ratio)
        return [_text(f"{block.label} {bar} {block.done}/{block.total}", fontType="Monospace")]
    if isinstance(block, Buttons):
        # Teams shows at most MAX_ACTIONS buttons in one action set: more go in the next ones.
        actions = [_button(b, source_key) for b in block.buttons]
        return [
            {"type": "ActionSet", "actions": actions[i : i + MAX_ACTIONS]}
            for i in range(0, len(actions), MAX_ACTIONS)
        ]
    if isinstance(block, Question):
        return _question(block, source_key)
    if isinstance(block, TextInput):
        return [
            _text(to_markdown(block.prompt)),
            # Not isRequired: Teams validates every input of a card before any of its buttons, so a
            # required comment box would block the rating buttons beside it. The engine checks.
            {"type": "Input.Text", "id": block.input_id, "isMultiline": block.multiline},
            {"type": "ActionSet", "actions": [_action(_("Send"), block.action, block.value, source_key)]},
        ]
    if isinstance(block, Image):
        return [{"type": "Image", "url": image_url(block.url), "altText": block.alt, "size": "Stretch"}]
    if isinstance(block, Link):
        return [
            {
                "type": "ActionSet",
                "actions": [{"type": "Action.OpenUrl", "title": block.label, "url": block.url}],
            }
        ]
    return []


def _question(block: Question, source_key: str | None) -> list[dict[str, Any]]:
    choices = block.choices()
    prompt = _text(to_markdown(block.prompt), weight="Bolder")
    if block.question_kind != "multi" and len(choices) <= MAX_BUTTON_CHOICES:
        actions = [
            _action(block.label(c), block.action, block.value, source_key, extra={block.question_id: c})
            for c in choices
        ]
        return [prompt, {"type": "ActionSet", "actions": actions}]
    choice_set: dict[str, Any] = {
        "type": "Input.ChoiceSet",
        "id": block.question_id,
        "style": "expanded" if block.question_kind == "multi" else "compact",
        "choices": [{"title": block.label(c), "value": c} for c in choices],
    }
    if block.question_kind == "multi":
        choice_set["isMultiSelect"] = True  # Teams sends the picks comma-joined: the engine's form
    submit = _action(_("Send"), block.action, block.value, source_key)
    return [prompt, choice_set, {"type": "ActionSet", "actions": [submit]}]


def image_url(url: str) -> str:
    """An http(s) URL as is; a local file (e.g. a chart) inlined as a data: URI."""
    if re.match(r"^(https?|data):", url):
        return url
    path = Path(url)
    mime = mimetypes.guess_type(path.name)[0] or "image/png"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def read_action(data: Any) -> tuple[str, str, dict[str, str], str | None] | None:
    """(action id, value, inputs, source key) from a card action's data merged with its inputs,
    or None when the data is not one of our actions."""
    if not isinstance(data, dict) or not isinstance(data.get(ROUTE_KEY), dict):
        return None
    route = data[ROUTE_KEY]
    action = route.get("action")
    if not isinstance(action, str) or not action:
        return None
    # An input left empty is no answer (a rating click also carries the card's empty comment box).
    inputs = {
        k: v for k, v in data.items() if k not in (ROUTE_KEY, "msteams") and isinstance(v, str) and v.strip()
    }
    key = route.get("key")
    return action, str(route.get("value", "")), inputs, key if isinstance(key, str) else None
