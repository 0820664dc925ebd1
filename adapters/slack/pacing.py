"""Send pacing for Slack: about one message per second per channel, and a workspace-wide budget.

Both are reservations in time, so a paced channel waits alone while others keep sending.
The workspace budget is a token bucket (burst, then `rate` per second), written as GCRA:
one "theoretical arrival time" per workspace instead of a refilling counter.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Pacer:
    channel_interval: float = 1.0  # seconds between two posts to one channel
    workspace_rate: float = 1.0  # sustained posts per second per workspace
    workspace_burst: int = 25  # posts a workspace may send at once before the rate applies
    monotonic: Callable[[], float] = time.monotonic
    _channel_next: dict[str, float] = field(default_factory=dict)
    _workspace_tat: dict[str, float] = field(default_factory=dict)

    def _reserve_channel(self, channel: str) -> float:
        now = self.monotonic()
        at = max(now, self._channel_next.get(channel, now))
        self._channel_next[channel] = at + self.channel_interval
        if len(self._channel_next) > 50_000:  # forget channels whose slot is long past
            self._channel_next = {c: t for c, t in self._channel_next.items() if t > now}
        return at

    def _reserve_workspace(self, workspace: str) -> float:
        if self.workspace_rate <= 0:
            return self.monotonic()
        now = self.monotonic()
        interval = 1.0 / self.workspace_rate
        tolerance = max(0, self.workspace_burst - 1) * interval
        tat = max(now, self._workspace_tat.get(workspace, now))
        at = max(now, tat - tolerance)
        self._workspace_tat[workspace] = tat + interval
        return at

    async def wait(self, workspace: str, channel: str) -> None:
        """Wait for this channel's turn, then for the workspace's."""
        for reserve, key in ((self._reserve_channel, channel), (self._reserve_workspace, workspace)):
            delay = reserve(key) - self.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
