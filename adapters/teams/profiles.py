"""A Teams user's email or UPN, from the member lookup (`TeamsInfo.get_member`): what the platform
vouches for, unlike `from.name`. It makes email-form `ADMINS` work on Teams and links people
enrolled by email. Cached per user (an hour; a failed lookup a minute), bounded by a timeout."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import replace

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo

from adapters.teams.translate import profile_of
from bot.core.inbound import Profile

log = logging.getLogger(__name__)


class MemberEmails:
    def __init__(
        self,
        timeout: float,
        ttl: float = 3600.0,
        failed_ttl: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.timeout, self.ttl, self.failed_ttl, self.monotonic = timeout, ttl, failed_ttl, monotonic
        self._cache: dict[tuple[str, str], tuple[float, str | None]] = {}

    async def complete(self, turn_context: TurnContext, profile: Profile) -> Profile:
        """`profile` with the email the member lookup gives (unchanged if it has one, or none comes)."""
        if profile.email:
            return profile
        key, now = (profile.workspace, profile.user_id), self.monotonic()
        cached = self._cache.get(key)
        if cached is None or cached[0] <= now:
            cached = await self._look_up(turn_context, profile)
            if len(self._cache) > 50_000:
                self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
            self._cache[key] = cached
        return replace(profile, email=cached[1]) if cached[1] else profile

    async def _look_up(self, turn_context: TurnContext, profile: Profile) -> tuple[float, str | None]:
        try:
            member = await asyncio.wait_for(TeamsInfo.get_member(turn_context, profile.user_id), self.timeout)
        except Exception as e:  # not found, throttled, unreachable: go on without (never an admin then)
            log.info("Teams member lookup failed (%s)", type(e).__name__)
            return self.monotonic() + self.failed_ttl, None
        return self.monotonic() + self.ttl, profile_of(member, profile.workspace).email
