"""Who a Slack user is: name, email and time zone from `users.info`, cached per user with a TTL.

`users.info` is Tier 4 (100+/min): one call per user per TTL, shared by concurrent lookups.
A failed lookup never blocks a command: the profile then carries the ids only.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable

from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.installations import WorkspaceClients
from bot.core.delivery import PermanentFailure
from bot.core.inbound import Profile

log = logging.getLogger(__name__)

MENTION_RE = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


class ProfileCache:
    def __init__(
        self,
        client: AsyncWebClient,
        ttl: float = 3600.0,
        monotonic: Callable[[], float] = time.monotonic,
        clients: WorkspaceClients | None = None,
    ) -> None:
        self.client = client
        self.clients = clients or WorkspaceClients(client)  # the workspace's own token
        self.ttl = ttl
        self.monotonic = monotonic
        self._cache: dict[tuple[str, str], tuple[float, Profile]] = {}
        self._pending: dict[tuple[str, str], asyncio.Future[Profile]] = {}

    async def get(self, team_id: str, user_id: str) -> Profile:
        key = (team_id, user_id)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > self.monotonic():
            return cached[1]
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Profile] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            profile = await self._lookup(team_id, user_id)
            future.set_result(profile)
            return profile
        finally:
            del self._pending[key]
            if not future.done():
                future.set_result(Profile("slack", team_id, user_id))

    async def _lookup(self, team_id: str, user_id: str) -> Profile:
        try:
            client = await self.clients.client(team_id)
            response = await client.users_info(user=user_id)
        except (SlackClientError, OSError, TimeoutError, PermanentFailure) as e:
            log.warning("users.info failed for %s: %s", user_id, e)
            return Profile("slack", team_id, user_id)  # not cached: the next request tries again
        user = response.get("user") or {}
        info = user.get("profile") or {}
        profile = Profile(
            platform="slack",
            workspace=team_id,
            user_id=user_id,
            name=info.get("display_name")
            or info.get("real_name")
            or user.get("real_name")
            or user.get("name"),
            email=info.get("email"),
            tz=user.get("tz"),
        )
        self._cache[(team_id, user_id)] = (self.monotonic() + self.ttl, profile)
        return profile

    async def mentions(self, team_id: str, text: str) -> dict[str, Profile]:
        """Each mention token written in `text` (`<@U123>` or `<@U123|name>`) and who it is."""
        tokens = {m.group(0): m.group(1) for m in MENTION_RE.finditer(text)}
        profiles = await asyncio.gather(*(self.get(team_id, uid) for uid in tokens.values()))
        return dict(zip(tokens, profiles, strict=True))
