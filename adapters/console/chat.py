"""The console chat: `as alice: status`, `as alice: press 2`, read from a terminal or a pipe.

It is an adapter like Slack or Teams: it turns typed lines into Inbounds, and renders the
engine's replies and the outbox's messages as text with numbered buttons.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import AsyncIterable, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from sqlmodel import col, select

from bot.core.delivery import SendResult, Target
from bot.core.engine import Engine
from bot.core.inbound import Action, Inbound, Profile
from bot.core.messages import Message, Reply
from bot.core.models import OutboxMessage
from bot.core.render_text import render_text
from bot.core.store import Store

# `as <name>:` where a name is letters of any script (émilie, 李雷), then letters, digits, . _ -
LINE_RE = re.compile(r"^\s*as\s+([^\W\d_][\w.-]*)\s*:\s*(.*)$", re.IGNORECASE)
PRESS_RE = re.compile(r"^press\s+(\d+(?:\s+\d+)*)\s*(.*)$", re.IGNORECASE)

USAGE = (
    "Type `as <name>: <command>` (e.g. `as alice: help`), `as <name>: press <N> [text]` to press a "
    "button shown to them, or just `<command>` to speak as the last person. `quit` ends."
)


@dataclass(frozen=True)
class Pressable:
    action: str
    value: str
    inputs: dict[str, str]


# A person's messages as delivered and stored (latest version of each), oldest first.
StoredMessages = Callable[[str], Awaitable[Sequence[Message]]]


@dataclass
class ConsoleChat:
    """Keeps the numbered buttons each person was shown, and prints everything to `out`.

    With `stored`, a person's numbering starts from the messages delivered to them and kept in the
    outbox: after a restart of `cohortbot run`, the buttons of earlier messages keep their numbers
    (replies are not stored: their buttons are numbered after those, for this run only)."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    buttons: dict[str, dict[int, Pressable]] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    stored: StoredMessages | None = None
    _seeded: set[str] = field(default_factory=set)

    async def seed(self, person: str) -> None:
        """Number the buttons of `person`'s stored messages, once per run, before anything new."""
        if self.stored is None or person in self._seeded:
            return
        self._seeded.add(person)
        earlier = await self.stored(person)
        shown_now = (self.buttons.pop(person, {}), self.counters.pop(person, 0))
        for message in earlier:
            self.render_for(person, message)
        # Anything numbered in this run before the seed (none, in practice) keeps working after them.
        base = self.counters.get(person, 0)
        for n, pressable in sorted(shown_now[0].items()):
            self.buttons.setdefault(person, {})[base + n] = pressable
        self.counters[person] = base + shown_now[1]

    def render_for(self, person: str, message: Message) -> str:
        def number(action: str, value: str, inputs: dict[str, str]) -> int:
            n = self.counters.get(person, 0) + 1
            self.counters[person] = n
            self.buttons.setdefault(person, {})[n] = Pressable(action, value, dict(inputs))
            return n

        return render_text(message, number)

    def show(self, heading: str, person: str, message: Message) -> None:
        body = self.render_for(person, message)
        self.out.write(f"── {heading} ──\n{body}\n")
        self.out.flush()

    def press(self, person: str, numbers: list[int], text: str) -> Action | str:
        """The action behind `press N [M ...] [text]`, or why it cannot be pressed."""
        shown = self.buttons.get(person, {})
        picked = [shown.get(n) for n in numbers]
        if any(p is None for p in picked):
            return (
                f"{person} has no button {' '.join(map(str, numbers))}. Buttons are numbered in the messages."
            )
        first = picked[0]
        assert first is not None
        inputs = dict(first.inputs)
        for other in picked[1:]:
            assert other is not None
            if (other.action, other.value, other.inputs.keys()) != (
                first.action,
                first.value,
                first.inputs.keys(),
            ):
                return "Several numbers can only pick options of the same question."
            for key, choice in other.inputs.items():
                inputs[key] = f"{inputs[key]},{choice}"
        for key, choice in inputs.items():
            if choice == "":  # a free-text input: the typed text is the answer
                if not text:
                    return f"Type your answer after the number: press {numbers[0]} <your text>"
                inputs[key] = text
        return Action(first.action, first.value, inputs)


class ConsoleSender:
    """Outbox delivery for console identities: prints the message for its recipient."""

    def __init__(self, chat: ConsoleChat) -> None:
        self.chat = chat

    async def send(self, target: Target, message: Message) -> SendResult:
        await self.chat.seed(target.address)
        where = (
            f"{target.address} (channel)" if target.address.startswith("#") else f"to {target.address} (DM)"
        )
        self.chat.show(where, target.address, message)
        return SendResult(message_id=target.key, channel_id=None)

    async def update(
        self, target: Target, message_id: str, channel_id: str | None, message: Message
    ) -> SendResult:
        await self.chat.seed(target.address)
        self.chat.show(f"{target.address}: earlier message updated", target.address, message)
        return SendResult(message_id=message_id, channel_id=channel_id)


def profile(name: str) -> Profile:
    name = unicodedata.normalize("NFC", name).lower()  # one person however their name was keyed in
    return Profile("console", "", name, name)


async def run_lines(
    engine: Engine, chat: ConsoleChat, lines: AsyncIterable[str], deliver: Callable[[], Awaitable[object]]
) -> None:
    """Process typed lines one by one, flushing the outbox after each so its messages show at once."""
    speaker: str | None = None
    async for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.lower() in ("quit", "exit"):
            break
        match = LINE_RE.match(line)
        if match:
            speaker, text = match.group(1).lower(), match.group(2).strip()
        elif speaker is not None:
            text = line
        else:
            chat.out.write(USAGE + "\n")
            continue
        await handle_line(engine, chat, speaker, text)
        await deliver()


async def handle_line(engine: Engine, chat: ConsoleChat, speaker: str, text: str) -> Reply | None:
    await chat.seed(speaker)
    press = PRESS_RE.match(text)
    if press:
        action = chat.press(speaker, [int(n) for n in press.group(1).split()], press.group(2).strip())
        if isinstance(action, str):
            chat.out.write(action + "\n")
            return None
        inbound = Inbound(sender=profile(speaker), action=action, channel_id=None, auth="console")
    else:
        inbound = Inbound(sender=profile(speaker), text=text, channel_id=None, auth="console")
    reply = await engine.handle(inbound)
    if reply is not None:
        label = "updated card" if reply.visibility == "replace" else "reply"
        chat.show(f"{label} for {speaker}", speaker, reply.message)
    return reply


def stored_messages(store: Store) -> StoredMessages:
    """Every message delivered to a console person (updates too), in the order they were shown:
    the same numbering a run gave them, rebuilt from the database."""

    async def load(person: str) -> list[Message]:
        async with store.transaction() as session:
            rows = await session.exec(
                select(OutboxMessage.payload)
                .where(
                    OutboxMessage.platform == "console",
                    OutboxMessage.address == person,
                    OutboxMessage.status == "sent",
                )
                .order_by(col(OutboxMessage.sent_at), col(OutboxMessage.id))
            )
            return [Message.from_dict(p) for p in rows.all() if p]  # a purged body shows no buttons

    return load
