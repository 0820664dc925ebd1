"""The neutral message model every adapter renders: text, fields, progress, buttons, questions, images.

Messages are plain dataclasses that round-trip through JSON, so the outbox can store them. A message
knows the language it was written in, so a renderer writes its own fixed words (buttons, modal titles)
in the same language.
A new capability composes these blocks; it should never need an adapter change.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from bot.core import i18n
from bot.core.i18n import N_, _

if TYPE_CHECKING:
    from bot.core.replies import HeldReply

ButtonStyle = Literal["default", "primary", "danger"]
QuestionKind = Literal["rating", "nps", "single", "multi", "yesno"]


@dataclass(frozen=True)
class Text:
    text: str  # light markdown: *bold*, _italic_, `code`; no link syntax (renderers escape it)
    kind: Literal["text"] = "text"


@dataclass(frozen=True)
class Header:
    text: str
    kind: Literal["header"] = "header"


@dataclass(frozen=True)
class Fields:
    pairs: tuple[tuple[str, str], ...]
    kind: Literal["fields"] = "fields"


@dataclass(frozen=True)
class Progress:
    label: str
    done: int
    total: int
    kind: Literal["progress"] = "progress"

    @property
    def ratio(self) -> float:
        return 0.0 if self.total <= 0 else min(1.0, self.done / self.total)


@dataclass(frozen=True)
class Button:
    label: str
    action: str  # action id routed by the engine, e.g. "attendance.checkin"
    value: str = ""
    style: ButtonStyle = "default"


@dataclass(frozen=True)
class Buttons:
    buttons: tuple[Button, ...]
    kind: Literal["buttons"] = "buttons"


YES_NO = (N_("yes"), N_("no"))  # the values sent back stay English; the labels are translated


@dataclass(frozen=True)
class Question:
    """A choice question. Answering sends `action` with `value` and inputs {question_id: choice}
    (multi: the picked choices joined with commas)."""

    question_id: str
    prompt: str
    question_kind: QuestionKind
    action: str
    options: tuple[str, ...] = ()
    value: str = ""  # context the engine needs back, e.g. the survey id
    kind: Literal["question"] = "question"

    def choices(self) -> tuple[str, ...]:
        if self.question_kind == "rating":
            return ("1", "2", "3", "4", "5")
        if self.question_kind == "nps":
            return tuple(str(i) for i in range(11))
        if self.question_kind == "yesno":
            return YES_NO
        return self.options

    def label(self, choice: str) -> str:
        """How a choice is shown: yes and no in the reader's language, other choices as written."""
        return _(choice) if self.question_kind == "yesno" else choice


@dataclass(frozen=True)
class TextInput:
    """Free text: a modal in Slack, an input in a Teams card, `press N <text>` in the console.
    Submitting sends `action` with `value` and inputs {input_id: text}."""

    input_id: str
    prompt: str
    action: str
    value: str = ""
    multiline: bool = True
    kind: Literal["text_input"] = "text_input"


@dataclass(frozen=True)
class Image:
    # An http(s) URL, or a local file path (e.g. a chart PNG): Slack uploads it as a file,
    # Teams inlines it, the console prints the path.
    url: str
    alt: str
    kind: Literal["image"] = "image"


@dataclass(frozen=True)
class Link:
    # A web page to open (e.g. the report page): a link in Slack, an Action.OpenUrl button in
    # Teams, the address in the console. Never a click the engine receives.
    url: str
    label: str
    kind: Literal["link"] = "link"


@dataclass(frozen=True)
class Divider:
    kind: Literal["divider"] = "divider"


@dataclass(frozen=True)
class Record:
    """A machine-readable document for a target that is not a chat (an xAPI statement for an
    LRS). Chat renderers show nothing for it."""

    body: dict[str, Any]
    kind: Literal["record"] = "record"


Block = Text | Header | Fields | Progress | Buttons | Question | TextInput | Image | Link | Divider | Record


@dataclass(frozen=True)
class Message:
    """What the engine says: a plain-text summary (notifications, fallbacks) and blocks."""

    summary: str
    blocks: tuple[Block, ...] = ()
    lang: str = field(default_factory=i18n.current)  # the language it is written in

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary, "blocks": [asdict(b) for b in self.blocks], "lang": self.lang}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Message:
        return Message(
            summary=data["summary"],
            blocks=tuple(_block_from_dict(b) for b in data["blocks"]),
            lang=data.get("lang") or i18n.SOURCE_LANGUAGE,
        )

    def buttons(self) -> list[Button]:
        return [b for block in self.blocks if isinstance(block, Buttons) for b in block.buttons]


def _block_from_dict(data: dict[str, Any]) -> Block:
    kind = data["kind"]
    if kind == "buttons":
        return Buttons(tuple(Button(**b) for b in data["buttons"]))
    if kind == "fields":
        return Fields(tuple((str(k), str(v)) for k, v in data["pairs"]))
    if kind == "question":
        return Question(**{**data, "options": tuple(data.get("options", ()))})
    cls = _BLOCKS[kind]
    return cls(**data)  # type: ignore[no-any-return]


_BLOCKS: dict[str, Any] = {
    "text": Text,
    "header": Header,
    "progress": Progress,
    "text_input": TextInput,
    "image": Image,
    "link": Link,
    "divider": Divider,
    "record": Record,
}


Visibility = Literal["private", "public", "replace"]


@dataclass(frozen=True)
class Reply:
    """The engine's answer to one inbound: shown only to the caller, to the channel,
    or in place of the message whose button was clicked."""

    message: Message
    visibility: Visibility = "private"
    # Queued in the outbox with the inbound's commit, for the adapter to send at once (replies.py).
    held: HeldReply | None = None


def say(text: str, visibility: Visibility = "private") -> Reply:
    return Reply(Message(summary=text, blocks=(Text(text),)), visibility)


def progress_bar(ratio: float, width: int = 10) -> str:
    """Unicode bar used by text renderers: ▓▓▓▓░░░░░░."""
    filled = round(max(0.0, min(1.0, ratio)) * width)
    return "▓" * filled + "░" * (width - filled)
