"""Who a Slack user is: name, email, time zone and locale from `users.info`, cached per user with a TTL.

`users.info` is Tier 4 (100+/min): one call per user per TTL, shared by concurrent lookups.
A failed lookup never blocks a command: the profile then carries the ids only. A failed lookup of
a *mentioned* user is remembered briefly, so a command naming thousands of unknown ids cannot
make thousands of calls again and again; mentions are resolved only once the engine allows it
(after its permission check) and at most `MAX_MENTIONS` per command (the engine refuses more).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.installations import WorkspaceClients
from bot.core.delivery import PermanentFailure
from bot.core.inbound import Profile
from bot.core.mentions import MAX_MENTIONS

log = logging.getLogger(__name__)

MENTION_RE = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
RETRY_WITHIN = 1.0  # seconds: the longest Retry-After worth waiting for inside a request
FAILED_TTL = 60.0  # seconds a failed mention lookup is not retried


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
        self._failed: dict[tuple[str, str], float] = {}  # mentioned ids whose lookup failed: until when
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
        # A 429 with a short Retry-After is waited once (a click must still be acked within 3 s).
        # Failing that the profile carries the ids only and is not cached: the next request asks
        # again, and the account is linked (or merged) with its enrolment once its email is known.
        for attempt in range(2):
            try:
                client = await self.clients.client(team_id)
                response = await client.users_info(user=user_id, include_locale=True)
                break
            except SlackApiError as e:
                wait = retry_after(e.response.headers) if e.response.status_code == 429 else None
                if attempt == 0 and wait is not None and wait <= RETRY_WITHIN:
                    await asyncio.sleep(wait)
                    continue
                log.warning("users.info failed for %s: %s", user_id, e.response.get("error"))
                return Profile("slack", team_id, user_id)
            except (SlackClientError, OSError, TimeoutError, PermanentFailure) as e:
                log.warning("users.info failed for %s: %s", user_id, e)
                return Profile("slack", team_id, user_id)
        else:
            return Profile("slack", team_id, user_id)
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
            locale=user.get("locale"),
        )
        self._cache[(team_id, user_id)] = (self.monotonic() + self.ttl, profile)
        return profile

    @staticmethod
    def mention_tokens(text: str) -> tuple[str, ...]:
        """Each distinct mention token written in `text` (`<@U123>` or `<@U123|name>`)."""
        return tuple(dict.fromkeys(m.group(0) for m in MENTION_RE.finditer(text)))

    async def mentions(self, team_id: str, tokens: tuple[str, ...] | list[str]) -> dict[str, Profile]:
        """Who each mention token is (at most MAX_MENTIONS of them; recent failures not retried)."""
        wanted = {}
        for token in list(tokens)[:MAX_MENTIONS]:
            match = MENTION_RE.fullmatch(token)
            if match:
                wanted[token] = match.group(1)
        profiles = await asyncio.gather(*(self._mentioned(team_id, uid) for uid in wanted.values()))
        return dict(zip(wanted, profiles, strict=True))

    async def _mentioned(self, team_id: str, user_id: str) -> Profile:
        key = (team_id, user_id)
        if self._failed.get(key, 0.0) > self.monotonic():
            return Profile("slack", team_id, user_id)
        profile = await self.get(team_id, user_id)
        if profile.email is None and profile.name is None:  # the lookup failed
            if len(self._failed) > 10_000:
                self._failed = {k: t for k, t in self._failed.items() if t > self.monotonic()}
            self._failed[key] = self.monotonic() + FAILED_TTL
        return profile


def retry_after(headers: object) -> float:
    """Seconds a 429's `Retry-After` asks for (1 s when absent or unreadable)."""
    value = None
    for key, found in dict(headers or {}).items():  # type: ignore[call-overload]
        if str(key).lower() == "retry-after":
            value = found[0] if isinstance(found, list) else found
    try:
        return max(0.0, float(value)) if value is not None else 1.0
    except (TypeError, ValueError):
        return 1.0
