"""Pacing to Teams' published limits, so the platform rarely has to say 429.

Per bot per conversation: 7 per 1 s, 8 per 2 s, 60 per 30 s, 1,800 per hour. Per app per tenant:
30 requests per second (Microsoft's "Rate limiting for bots" page). Sliding windows: a send waits
until every window it counts in has room; a 429 pauses the conversation or tenant for its
Retry-After. Given a `SendBudget` (the running app's), the tenant's 30/s is that budget instead:
adaptive (a 429 lowers it, successes raise it back) and shared by every instance on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

from bot.core.send_budget import SendBudget

Window = tuple[int, float]  # at most N sends per this many seconds

CONVERSATION_WINDOWS: tuple[Window, ...] = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))
TENANT_WINDOWS: tuple[Window, ...] = ((30, 1.0),)
TENANT_RATE = 30.0  # per app per tenant, per second


class SlidingWindows:
    """The send times of one key, checked against several windows."""

    def __init__(self, windows: tuple[Window, ...]) -> None:
        self.windows = windows
        self.longest = max(period for _, period in windows)
        self.sent: deque[float] = deque()
        self.paused_until = 0.0

    def wait_needed(self, now: float) -> float:
        while self.sent and self.sent[0] <= now - self.longest:
            self.sent.popleft()
        wait = max(0.0, self.paused_until - now)
        for limit, period in self.windows:
            if len(self.sent) >= limit:
                # the send that must leave this window before another fits
                oldest_in_window = self.sent[len(self.sent) - limit]
                wait = max(wait, oldest_in_window + period - now)
        return wait


class Pacer:
    """Waits as long as Teams' limits require before each send to a conversation of a tenant."""

    def __init__(
        self,
        conversation_windows: tuple[Window, ...] = CONVERSATION_WINDOWS,
        tenant_windows: tuple[Window, ...] = TENANT_WINDOWS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        budget: SendBudget | None = None,
        tenant_rate: float = TENANT_RATE,
    ) -> None:
        self.conversation_windows = conversation_windows
        self.budget = budget
        self.tenant_rate = tenant_rate
        # With a shared budget the tenant's limit lives there; the local windows only count.
        self.tenant_windows = ((10**9, 1.0),) if budget is not None else tenant_windows
        self.clock = clock
        self.sleep = sleep
        self._conversations: dict[str, SlidingWindows] = {}
        self._tenants: dict[str, SlidingWindows] = {}
        self._lock = asyncio.Lock()

    def _pair(self, tenant: str, conversation: str) -> tuple[SlidingWindows, SlidingWindows]:
        conv = self._conversations.get(conversation)
        if conv is None:
            conv = self._conversations[conversation] = SlidingWindows(self.conversation_windows)
        ten = self._tenants.get(tenant)
        if ten is None:
            ten = self._tenants[tenant] = SlidingWindows(self.tenant_windows)
        return conv, ten

    async def acquire(self, tenant: str, conversation: str) -> None:
        """Return when one more send to `conversation` in `tenant` is within the limits (and count it)."""
        while True:
            async with self._lock:
                now = self.clock()
                conv, ten = self._pair(tenant, conversation)
                wait = max(conv.wait_needed(now), ten.wait_needed(now))
                if wait <= 0:
                    conv.sent.append(now)
                    ten.sent.append(now)
                    self._forget_idle(now)
                    break
            await self.sleep(wait)
        if self.budget is not None:
            await self.budget.acquire(f"teams:{tenant}", self.tenant_rate)

    async def refused(self, tenant: str, seconds: float) -> None:
        """Teams said 429: lower the tenant's shared rate (and pause it) when there is a budget."""
        if self.budget is not None:
            await self.budget.refused(f"teams:{tenant}", self.tenant_rate, seconds)

    def pause(self, tenant: str, conversation: str | None, seconds: float) -> None:
        """The platform said 429: hold the conversation (or the whole tenant) for `seconds`."""
        until = self.clock() + seconds
        conv, ten = self._pair(tenant, conversation or "")
        target = conv if conversation else ten
        target.paused_until = max(target.paused_until, until)

    def _forget_idle(self, now: float) -> None:
        if len(self._conversations) > 10_000:
            self._conversations = {
                k: w for k, w in self._conversations.items() if w.sent and w.sent[-1] > now - w.longest
            }
