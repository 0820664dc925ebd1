"""Plain-text rendering of neutral messages: the console's view and every platform's fallback.

Interactive elements get numbers from `number(action, value, inputs)`, so a text user can
press them (`press 2`); without a numberer they are listed without numbers. A question's choice
is pressed as its action with inputs {question_id: choice}; a text input as {input_id: <text>}.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.core import i18n
from bot.core.i18n import _
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

# (action id, value, inputs) -> the number shown to press
Numberer = Callable[[str, str, dict[str, str]], int]


def render_text(message: Message, number: Numberer | None = None) -> str:
    lines: list[str] = []
    with i18n.use(message.lang):  # the fixed words in the message's language
        for block in message.blocks or (Text(message.summary),):
            lines.extend(_block(block, number))
    return "\n".join(lines)


def _label(text: str, action: str, value: str, inputs: dict[str, str], number: Numberer | None) -> str:
    return f"[{number(action, value, inputs)}] {text}" if number else f"[{text}]"


def _block(block: Block, number: Numberer | None) -> list[str]:
    if isinstance(block, Header):
        return [f"== {block.text} =="]
    if isinstance(block, Text):
        return [block.text]
    if isinstance(block, Fields):
        width = max((len(k) for k, _ in block.pairs), default=0)
        return [f"{k.ljust(width)} : {v}" for k, v in block.pairs]
    if isinstance(block, Progress):
        return [f"{block.label} {progress_bar(block.ratio)} {block.done}/{block.total}"]
    if isinstance(block, Buttons):
        return ["  ".join(_label(b.label, b.action, b.value, {}, number) for b in block.buttons)]
    if isinstance(block, Question):
        choices = "  ".join(
            _label(block.label(c), block.action, block.value, {block.question_id: c}, number)
            for c in block.choices()
        )
        hint = " " + _("(several: press N M ...)") if block.question_kind == "multi" else ""
        return [f"{block.prompt}{hint}", f"  {choices}"]
    if isinstance(block, TextInput):
        if number:
            n = number(block.action, block.value, {block.input_id: ""})
            return [f"{block.prompt}", f"  [{n}] " + _("answer with: press {n} <your text>", n=n)]
        return [block.prompt]
    if isinstance(block, Image):
        return ["(" + _("image: {alt}: {url}", alt=block.alt, url=block.url) + ")"]
    if isinstance(block, Link):
        return [f"{block.label}: {block.url}"]
    if isinstance(block, Divider):
        return ["-" * 40]
    return []
