"""Slack's people directory for the core's identity resolver: emails to Slack user ids.

A few emails: `users.lookupByEmail` each (Tier 3, 50+/min). Many: one paged `users.list` roster
sync (Tier 2, 20+/min, `cursor`, 200 per page as Slack recommends) matched locally; it picks
whichever takes fewer minutes at the tier rates, knowing the roster's size from the last sync.
Both need the `users:read.email` scope. Calls are spaced to the tier's rate, and a 429 waits its
`Retry-After` before trying the same call again (this runs in the background, nobody waits on it).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from adapters.slack.profiles import retry_after
from bot.core.directory import DEACTIVATED, NOT_IN_WORKSPACE, Found, Lookup
from bot.core.inbound import Profile

log = logging.getLogger(__name__)

# Slack's published tiers (api.slack.com/apis/rate-limits): calls per minute, per workspace.
LOOKUP_PER_MINUTE = 50.0  # users.lookupByEmail, Tier 3
LIST_PER_MINUTE = 20.0  # users.list, Tier 2
PAGE_SIZE = 200  # users.list: Slack recommends no more than 200 per page
LOOKUPS_WITHOUT_ROSTER_SIZE = 20  # before the first sync, more emails than this means a roster sync
MAX_RETRIES = 5  # 429s or failures in a row on one call before giving up until the next run
CALL_TIMEOUT = 30.0


class TierPacer:
    """Spaces calls of one method to its tier's rate; a 429 pushes the next call past Retry-After."""

    def __init__(
        self,
        per_minute: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.interval = 60.0 / per_minute if per_minute > 0 else 0.0
        self.monotonic = monotonic
        self.sleep = sleep
        self.next_at = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            wait = self.next_at - self.monotonic()
            if wait > 0:
                await self.sleep(wait)
            self.next_at = max(self.next_at, self.monotonic()) + self.interval

    def pause(self, seconds: float) -> None:
        self.next_at = max(self.next_at, self.monotonic() + seconds)


class SlackDirectory:
    platform = "slack"

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        lookup_per_minute: float = LOOKUP_PER_MINUTE,
        list_per_minute: float = LIST_PER_MINUTE,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.client = client
        self.lookups = TierPacer(lookup_per_minute)
        self.listing = TierPacer(list_per_minute)
        self.page_size = page_size
        self.roster_size: int | None = None  # members seen by the last roster sync
        self._team_id: str | None = None

    async def resolve(self, emails: Sequence[str]) -> Lookup:
        wanted = [e.lower() for e in emails]
        if not wanted:
            return Lookup()
        if self._lookups_are_quicker(len(wanted)):
            return await self._look_up_each(wanted)
        return await self._sync_roster(wanted)

    def _lookups_are_quicker(self, count: int) -> bool:
        if self.roster_size is None:
            return count <= LOOKUPS_WITHOUT_ROSTER_SIZE
        pages = -(-self.roster_size // self.page_size) or 1
        return count * self.lookups.interval <= pages * self.listing.interval

    async def team_id(self) -> str:
        """The workspace of the bot token (users' identities are keyed by it)."""
        if self._team_id is None:
            response = await self.client.auth_test()
            self._team_id = str(response.get("team_id") or "")
        return self._team_id

    # -- users.lookupByEmail ----------------------------------------------------------------------

    async def _look_up_each(self, emails: list[str]) -> Lookup:
        team = await self.team_id()
        result = Lookup()
        for n, email in enumerate(emails):
            outcome = await self._call(
                self.lookups, "users.lookupByEmail", partial(self.client.users_lookupByEmail, email=email)
            )
            if isinstance(outcome, str):
                if outcome == "users_not_found":
                    result.missing[email] = NOT_IN_WORKSPACE
                    continue
                result.pending.extend(emails[n:])  # refused or still limited: the rest wait too
                result.error = outcome
                break
            self._sort(outcome.get("user") or {}, email, team, result)
        return result

    # -- users.list ---------------------------------------------------------------------------------

    async def _sync_roster(self, emails: list[str]) -> Lookup:
        team = await self.team_id()
        by_email: dict[str, dict[str, Any]] = {}
        cursor, seen = "", 0
        while True:
            page = partial(self.client.users_list, limit=self.page_size, cursor=cursor or None)
            outcome = await self._call(self.listing, "users.list", page)
            if isinstance(outcome, str):
                return Lookup(pending=list(emails), error=outcome)
            members = outcome.get("members") or []
            seen += len(members)
            for member in members:
                email = ((member.get("profile") or {}).get("email") or "").lower()
                if email and not member.get("is_bot"):
                    by_email[email] = member
            cursor = ((outcome.get("response_metadata") or {}).get("next_cursor")) or ""
            if not cursor:
                break
        self.roster_size = seen
        if seen and not by_email:  # every profile came without an email: the scope is missing
            return Lookup(pending=list(emails), error="missing_scope: users:read.email")
        result = Lookup()
        for email in emails:
            member = by_email.get(email)
            if member is None:
                result.missing[email] = NOT_IN_WORKSPACE
            else:
                self._sort(member, email, team, result)
        return result

    # -- shared -------------------------------------------------------------------------------------

    def _sort(self, user: dict[str, Any], email: str, team: str, result: Lookup) -> None:
        if user.get("deleted"):
            result.missing[email] = DEACTIVATED
            return
        profile = user.get("profile") or {}
        result.found.append(
            Found(
                email=email,
                profile=Profile(
                    platform="slack",
                    workspace=str(user.get("team_id") or team),
                    user_id=str(user["id"]),
                    name=profile.get("display_name") or profile.get("real_name") or user.get("name"),
                    email=email,
                    tz=user.get("tz"),
                ),
            )
        )

    async def _call(
        self, pacer: TierPacer, method: str, call: Callable[[], Awaitable[AsyncSlackResponse]]
    ) -> dict[str, Any] | str:
        """The answer's data, or the Slack error (a string) that stopped it."""
        error = "unanswered"
        for _ in range(MAX_RETRIES):
            await pacer.acquire()
            try:
                response = await asyncio.wait_for(call(), CALL_TIMEOUT)
                return dict(response.data) if isinstance(response.data, dict) else {}
            except SlackApiError as e:
                status = e.response.status_code
                error = str(e.response.get("error") or status)
                if status == 429:
                    pacer.pause(max(1.0, retry_after(e.response.headers)))
                    continue
                if status >= 500:
                    pacer.pause(1.0)
                    continue
                if error == "missing_scope":
                    error = f"missing_scope: {e.response.get('needed') or 'users:read.email'}"
                return error
            except (SlackClientError, OSError, TimeoutError) as e:
                error = f"unreachable ({type(e).__name__})"
                pacer.pause(1.0)
        log.warning("Slack %s gave up after %d tries: %s", method, MAX_RETRIES, error)
        return error
