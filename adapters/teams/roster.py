"""Teams' people directory: team rosters and 1:1 conversations, so people enrolled by email are
reached without installing anything.

A user id is per bot and Teams offers no lookup by email, so the way in is a team the app is in:
page through its members (`get_paged_members`, which carries `email` / `userPrincipalName`), and
for each enrolled one open the bot's 1:1 chat (`create_conversation` with the tenant id) and keep
its reference. Runs when the app is added to a team, and for the identity resolver (`resolve`).
Calls go through the sender's pacer (creating conversations counts against Teams' limits).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import ChannelAccount, ConversationParameters, ConversationReference
from msrest.exceptions import ClientRequestError, HttpOperationError
from sqlmodel import col, select

from adapters.teams.conversations import ConversationBook
from adapters.teams.pacing import Pacer
from adapters.teams.translate import PLATFORM
from bot.core.clock import Clock
from bot.core.context import EventContext
from bot.core.directory import NOT_INSTALLED, Found, Lookup
from bot.core.inbound import Profile
from bot.core.linking import is_personal_chat, link_found
from bot.core.models import Identity, Person
from bot.core.settings import Settings
from bot.core.store import Store

log = logging.getLogger(__name__)

PAGE_SIZE = 200  # Teams allows up to 500 per page; 200 keeps each answer small


class TeamsRoster:
    platform = PLATFORM

    def __init__(
        self,
        adapter: CloudAdapter,
        app_id: str,
        book: ConversationBook,
        pacer: Pacer,
        store: Store,
        clock: Clock,
        settings: Settings,
    ) -> None:
        self.adapter = adapter
        self.app_id = app_id
        self.book = book
        self.pacer = pacer
        self.store = store
        self.clock = clock
        self.settings = settings

    # -- the identity resolver's Directory -----------------------------------------------------------

    async def resolve(self, emails: Sequence[str]) -> Lookup:
        wanted = {e.lower() for e in emails}
        result = Lookup()
        unanswered = False
        for tenant, reference in await self.book.team_references():
            if not wanted:
                break
            try:
                members = await self.members(reference)
            except (HttpOperationError, ClientRequestError) as e:
                log.warning("Teams roster of %s unavailable: %s", reference["conversation"]["id"], e)
                unanswered = True
                continue
            for member in members:
                email = email_of(member)
                if email not in wanted:
                    continue
                chat = await self._open_chat(tenant, reference, member)
                if chat is None:
                    result.pending.append(email)
                else:
                    result.found.append(Found(email, _profile(member, tenant, email), chat))
                wanted.discard(email)
        if unanswered:
            result.pending.extend(wanted)
            result.error = "a team roster could not be read"
        else:
            result.missing.update(dict.fromkeys(wanted, NOT_INSTALLED))
        return result

    # -- the app was added to a team -------------------------------------------------------------------

    async def sync_team(self, tenant: str, reference: dict[str, Any]) -> int:
        """Link every enrolled member of the team (by email) and open their 1:1 chat; returns how many."""
        members = await self.members(reference)
        by_email = {email: m for m in members if (email := email_of(m))}
        linked = 0
        needing = await self._without_chat(list(by_email))
        for email in needing:
            member = by_email[email]
            chat = await self._open_chat(tenant, reference, member)
            if chat is None:
                continue  # rate limited or refused: the resolver tries again later
            async with self.store.transaction() as session:
                ctx = EventContext(session=session, now=self.clock.now(), settings=self.settings)
                await link_found(
                    ctx, Found(email, _profile(member, tenant, email), chat), source="team roster"
                )
            linked += 1
        return linked

    async def _without_chat(self, emails: list[str]) -> list[str]:
        """Of these emails, those of people known here who have no personal Teams chat yet."""
        async with self.store.transaction() as session:
            people = (
                await session.exec(select(Person.id, Person.email).where(col(Person.email).in_(emails)))
            ).all()
            ids = {pid: email for pid, email in people if email}
            chats = (
                await session.exec(
                    select(Identity.person_id, Identity.conversation_ref).where(
                        Identity.platform == PLATFORM, col(Identity.person_id).in_(list(ids))
                    )
                )
            ).all()
        reached = {pid for pid, ref in chats if is_personal_chat(ref)}
        return sorted(email for pid, email in ids.items() if pid not in reached)

    # -- connector calls -----------------------------------------------------------------------------

    async def members(self, reference: dict[str, Any]) -> list[Any]:
        """Every member of the team or group chat of `reference`, page by page."""
        collected: list[Any] = []

        conversation = reference["conversation"]["id"]

        async def page_through(turn: TurnContext) -> None:
            # The connector's own call: TeamsInfo's wrapper needs an activity's channelData,
            # which a proactive turn does not have.
            client = turn.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
            token: str | None = None
            while True:
                page = await client.conversations.get_teams_conversation_paged_members(
                    conversation, PAGE_SIZE, token
                )
                collected.extend(page.members or [])
                token = page.continuation_token
                if not token:
                    return

        ref = ConversationReference().deserialize(reference)
        await self.adapter.continue_conversation(ref, page_through, bot_app_id=self.app_id)
        return collected

    async def _open_chat(self, tenant: str, reference: dict[str, Any], member: Any) -> dict[str, Any] | None:
        """Create (or get: Teams answers the existing one) the bot's 1:1 chat with `member`;
        its conversation reference, or None when Teams refused for now."""
        bot = reference.get("bot") or {"id": f"28:{self.app_id}"}
        parameters = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=bot["id"], name=bot.get("name")),
            members=[ChannelAccount(id=member.id)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}},
        )
        created: list[str] = []

        async def create(turn: TurnContext) -> None:
            client = turn.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
            response = await client.conversations.create_conversation(parameters)
            created.append(response.id)

        await self.pacer.acquire(tenant, f"create:{member.id}")
        try:
            ref = ConversationReference().deserialize(reference)
            await self.adapter.continue_conversation(ref, create, bot_app_id=self.app_id)
        except HttpOperationError as e:
            response = getattr(e, "response", None)
            if getattr(response, "status_code", 0) == 429:  # the tenant's budget: everyone waits
                retry_after = (getattr(response, "headers", None) or {}).get("Retry-After")
                self.pacer.pause(tenant, None, float(retry_after) if _number(retry_after) else 1.0)
            log.info("Teams refused a 1:1 chat with %s for now: %s", member.id, e)
            return None
        except ClientRequestError as e:
            log.info("Teams unreachable while opening a 1:1 chat with %s: %s", member.id, e)
            return None
        return {
            "bot": bot,
            "user": {"id": member.id, "name": member.name, "aadObjectId": member.aad_object_id},
            "conversation": {"id": created[0], "conversationType": "personal", "tenantId": tenant},
            "channelId": reference.get("channelId") or "msteams",
            "serviceUrl": reference["serviceUrl"],
        }


def email_of(member: Any) -> str:
    """The member's email as Teams vouches for it (email, else the UPN when it is an address)."""
    for value in (getattr(member, "email", None), getattr(member, "user_principal_name", None)):
        if value and "@" in value:
            return str(value).lower()
    return ""


def _number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _profile(member: Any, tenant: str, email: str) -> Profile:
    return Profile(PLATFORM, tenant, member.id, member.name or None, email)
