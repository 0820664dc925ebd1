"""Where Teams can be reached proactively: conversation references kept per conversation and
per person, learned from every activity, installation and `membersAdded`.

People's references live on their Identity (the engine stores them); channel and group chat
references, which the engine has no place for, live in `teams_conversation`, keyed by tenant and
conversation id. Any reference from a tenant also gives its service URL and bot account, which
is what `create_conversation` needs to reach someone who never wrote to the bot.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.clock import Clock
from bot.core.context import EventContext
from bot.core.inbound import Profile
from bot.core.linking import announce, is_personal_chat
from bot.core.models import Identity, json_field, utc_field
from bot.core.people import upsert_profile
from bot.core.settings import Settings
from bot.core.store import Store


class TeamsConversation(SQLModel, table=True):
    """The last conversation reference seen for one Teams conversation (channel, group, personal)."""

    __tablename__ = "teams_conversation"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "conversation_id"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(index=True)
    conversation_id: str
    conversation_type: str = ""  # personal | channel | groupChat
    service_url: str
    reference: dict[str, Any] = json_field()
    updated_at: datetime = utc_field()


class ConversationBook:
    """Reads and writes references; remembers what it wrote so each activity costs no write."""

    def __init__(self, store: Store, clock: Clock, settings: Settings) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self._known: dict[tuple[str, str], dict[str, Any]] = {}

    async def remember(self, tenant_id: str, reference: dict[str, Any]) -> None:
        """Store the reference of a conversation, if it is new or changed."""
        conversation = reference.get("conversation") or {}
        conversation_id = conversation.get("id")
        if not tenant_id or not conversation_id:
            return
        key = (tenant_id, conversation_id)
        if self._known.get(key) == reference:
            return
        async with self.store.transaction() as session:
            row = await _find(session, tenant_id, conversation_id)
            if row is None:
                row = TeamsConversation(tenant_id=tenant_id, conversation_id=conversation_id, service_url="")
            row.conversation_type = conversation.get("conversationType") or ""
            row.service_url = reference.get("serviceUrl") or ""
            row.reference = reference
            row.updated_at = self.clock.now()
            session.add(row)
        self._known[key] = reference

    async def reference(self, tenant_id: str, conversation_id: str) -> dict[str, Any] | None:
        """The stored reference of one conversation (a channel a cohort posts to)."""
        cached = self._known.get((tenant_id, conversation_id))
        if cached is not None:
            return cached
        async with self.store.transaction() as session:
            row = await _find(session, tenant_id, conversation_id)
        if row is None:
            return None
        self._known[(tenant_id, conversation_id)] = row.reference
        return row.reference

    async def any_reference(self, tenant_id: str) -> dict[str, Any] | None:
        """The most recent reference of the tenant: its service URL and our bot account there."""
        for (tenant, _), reference in reversed(self._known.items()):
            if tenant == tenant_id:
                return reference
        async with self.store.transaction() as session:
            row = (
                await session.exec(
                    select(TeamsConversation)
                    .where(TeamsConversation.tenant_id == tenant_id)
                    .order_by(col(TeamsConversation.updated_at).desc())
                )
            ).first()
        return row.reference if row else None

    async def team_references(self) -> list[tuple[str, dict[str, Any]]]:
        """(tenant, reference) of every team channel the app is in: where rosters are read."""
        async with self.store.transaction() as session:
            rows = (
                await session.exec(
                    select(TeamsConversation).where(TeamsConversation.conversation_type == "channel")
                )
            ).all()
        return [(row.tenant_id, row.reference) for row in rows]

    async def installed(self, profile: Profile, reference: dict[str, Any], scope: str) -> None:
        """Someone installed the app or joined a conversation where it is: keep their reference
        so reminders reach them, and unblock them if they had uninstalled it before. Their
        profile's email links them to an enrolment made by email."""
        async with self.store.transaction() as session:
            links: list[int] = []
            person, identity = await upsert_profile(session, profile, self.clock.now(), links=links)
            ctx = EventContext(session=session, now=self.clock.now(), settings=self.settings)
            await announce(ctx, links, platform=profile.platform, source=f"{scope} install")
            was_blocked = identity.blocked_at is not None
            if is_personal_chat(identity.conversation_ref) and not is_personal_chat(reference):
                reference = identity.conversation_ref  # a personal chat beats a channel for DMs
            if identity.conversation_ref == reference and not was_blocked:
                return  # the installationUpdate and conversationUpdate of one install
            identity.conversation_ref = reference
            identity.blocked_at = None
            session.add(identity)
            await ctx.log("teams.installed", person_id=person.id, scope=scope, reinstalled=was_blocked)

    async def uninstalled(self, profile: Profile, scope: str) -> None:
        """The app was removed from someone's personal scope: record it; messages to them now fail
        as blocked instead of being retried."""
        async with self.store.transaction() as session:
            identity = (
                await session.exec(
                    select(Identity).where(
                        Identity.platform == profile.platform,
                        Identity.workspace == profile.workspace,
                        Identity.user_id == profile.user_id,
                    )
                )
            ).first()
            if identity is None:
                return
            identity.blocked_at = self.clock.now()
            session.add(identity)
            ctx = EventContext(session=session, now=self.clock.now(), settings=self.settings)
            await ctx.log("teams.uninstalled", person_id=identity.person_id, scope=scope)


async def _find(session: AsyncSession, tenant_id: str, conversation_id: str) -> TeamsConversation | None:
    query = select(TeamsConversation).where(
        TeamsConversation.tenant_id == tenant_id, TeamsConversation.conversation_id == conversation_id
    )
    return (await session.exec(query)).first()
