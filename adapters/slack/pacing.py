"""Send pacing for Slack: about one message per second per channel, and a workspace-wide budget.

Defaults come from public figures (PLATFORM-FACTS.md): Slack's chat.postMessage reference allows
"about 1 message per second per channel" plus an unpublished workspace-wide limit; an enterprise
chat vendor publishes a Slack ceiling of 525 messages per minute per workspace, our starting
point. The workspace budget adapts (`bot.core.send_budget`): a 429 pauses it for Retry-After and
lowers the rate, successes raise it back slowly; on PostgreSQL every instance shares it.
The channel spacing is a reservation in time, so a paced channel waits alone while others send.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.core.send_budget import LocalRows, SendBudget

CHANNEL_INTERVAL = 1.0  # Slack: about 1 chat.postMessage per second per channel
WORKSPACE_RATE = 525 / 60  # 8.75/s: a vendor's published per-workspace Slack ceiling
WORKSPACE_BURST = 1  # the workspace limit is unpublished: no burst beyond the rate


@dataclass
class Pacer:
    channel_interval: float = CHANNEL_INTERVAL  # seconds between two posts to one channel
    workspace_rate: float = WORKSPACE_RATE  # ceiling of posts per second per workspace (0: off)
    workspace_burst: int = WORKSPACE_BURST  # posts a workspace may send at once before the rate applies
    monotonic: Callable[[], float] = time.monotonic
    budget: SendBudget | None = None  # shared through PostgreSQL when the app runs several instances
    _channel_next: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.budget is None:
            self.budget = SendBudget(LocalRows(self.monotonic))

    def _reserve_channel(self, channel: str) -> float:
        now = self.monotonic()
        at = max(now, self._channel_next.get(channel, now))
        self._channel_next[channel] = at + self.channel_interval
        if len(self._channel_next) > 50_000:  # forget channels whose slot is long past
            self._channel_next = {c: t for c, t in self._channel_next.items() if t > now}
        return at

    async def wait(self, workspace: str, channel: str) -> None:
        """Wait for this channel's turn, then for the workspace's."""
        delay = self._reserve_channel(channel) - self.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        assert self.budget is not None
        await self.budget.acquire(_key(workspace), self.workspace_rate, self.workspace_burst)

    async def refused(self, workspace: str, channel: str, retry_after: float) -> None:
        """Slack answered 429: rest the channel and the workspace for Retry-After, lower the rate
        (Slack does not say which limit it was; a DM fan-out only ever meets the workspace's)."""
        self._channel_next[channel] = max(
            self._channel_next.get(channel, 0.0), self.monotonic() + retry_after
        )
        assert self.budget is not None
        await self.budget.refused(_key(workspace), self.workspace_rate, retry_after)

    async def rate(self, workspace: str) -> float:
        assert self.budget is not None
        return await self.budget.rate(_key(workspace), self.workspace_rate)


def _key(workspace: str) -> str:
    return f"slack:{workspace}"
