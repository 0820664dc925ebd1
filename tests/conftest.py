"""Shared fixtures: a real engine on a temporary SQLite file, a simulated clock, and a chat helper
that speaks to the engine as console users do."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app.bootstrap import App, build
from bot.core.clock import SimulatedClock
from bot.core.delivery import SendResult, Target
from bot.core.inbound import Action, Inbound, Profile
from bot.core.messages import Message, Reply
from bot.core.render_text import render_text
from bot.core.settings import Settings

pytest_plugins = ["tests.postgres"]

START = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)  # a Monday


@dataclass
class RecordingSender:
    """Stands in for a platform at the delivery boundary: records what would have been sent."""

    sent: list[tuple[Target, Message]] = field(default_factory=list)
    updated: list[tuple[Target, str, Message]] = field(default_factory=list)

    async def send(self, target: Target, message: Message) -> SendResult:
        self.sent.append((target, message))
        return SendResult(message_id=f"m{len(self.sent)}")

    async def update(
        self, target: Target, message_id: str, channel_id: str | None, message: Message
    ) -> SendResult:
        self.updated.append((target, message_id, message))
        return SendResult(message_id=message_id, channel_id=channel_id)

    def to(self, address: str) -> list[Message]:
        return [m for t, m in self.sent if t.address == address]


@dataclass
class Chat:
    """Talk to the engine as console users: `await chat.say("alice", "status")` returns the reply text."""

    app: App

    async def reply(self, who: str, text: str) -> Reply | None:
        return await self.app.engine.handle(Inbound(sender=Profile("console", "", who, who), text=text))

    async def say(self, who: str, text: str) -> str:
        reply = await self.reply(who, text)
        return render_text(reply.message) if reply else ""

    async def press(
        self,
        who: str,
        action: str,
        value: str = "",
        inputs: dict[str, str] | None = None,
        dedupe_key: str | None = None,
    ) -> str:
        reply = await self.app.engine.handle(
            Inbound(
                sender=Profile("console", "", who, who),
                action=Action(action, value, inputs or {}),
                dedupe_key=dedupe_key,
            )
        )
        return render_text(reply.message) if reply else ""


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(START)


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
async def app(db_url: str, clock: SimulatedClock, sender: RecordingSender) -> AsyncIterator[App]:
    built = await build(Settings(database_url=db_url, admins=""), {"console": sender}, clock, schema="create")
    yield built
    await built.close()


@pytest.fixture
def chat(app: App) -> Chat:
    return Chat(app)
