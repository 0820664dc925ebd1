"""Slack installations made through the OAuth flow, kept in cohortbot's database by slack_sdk's
`AsyncSQLAlchemyInstallationStore` (its own table layout, declared here too so our migrations
create it), and the Web API client to use for each workspace.

A workspace key is a team id, or an enterprise id for an org-wide install on Enterprise Grid
(its payloads may carry `team: null`; user ids are unique across the organisation).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from bot.core.delivery import PermanentFailure

INSTALLATIONS_TABLE = "slack_installations"
BOTS_TABLE = "slack_bots"
OAUTH_STATES_TABLE = "slack_oauth_states"
STATE_EXPIRY = 600  # seconds an install link stays valid
TOKEN_TTL = 300.0  # seconds a workspace's token is reused before it is read again

# The same tables the stores build, declared on our metadata: Alembic's branch `slack` creates them.
AsyncSQLAlchemyInstallationStore.build_installations_table(SQLModel.metadata, INSTALLATIONS_TABLE)
AsyncSQLAlchemyInstallationStore.build_bots_table(SQLModel.metadata, BOTS_TABLE)
AsyncSQLAlchemyOAuthStateStore.build_oauth_states_table(SQLModel.metadata, OAUTH_STATES_TABLE)


def installation_store(client_id: str, engine: AsyncEngine) -> AsyncSQLAlchemyInstallationStore:
    return AsyncSQLAlchemyInstallationStore(
        client_id, engine, bots_table_name=BOTS_TABLE, installations_table_name=INSTALLATIONS_TABLE
    )


def state_store(engine: AsyncEngine) -> AsyncSQLAlchemyOAuthStateStore:
    return AsyncSQLAlchemyOAuthStateStore(STATE_EXPIRY, engine, table_name=OAUTH_STATES_TABLE)


def _is_true(value: Any) -> bool:
    return value is True or str(value).lower() == "true"  # slash commands send "true" as text


def workspace_of(body: Mapping[str, Any]) -> str:
    """The workspace key of a payload (command, action, view submission or event)."""
    enterprise = body.get("enterprise")
    enterprise_id = (enterprise or {}).get("id") if isinstance(enterprise, dict) else None
    enterprise_id = enterprise_id or body.get("enterprise_id")
    if _is_true(body.get("is_enterprise_install")) and enterprise_id:
        return str(enterprise_id)
    user = body.get("user")
    team = body.get("team")
    team_id = (
        (user.get("team_id") if isinstance(user, dict) else None)
        or (team.get("id") if isinstance(team, dict) else None)
        or body.get("team_id")
    )
    return str(team_id or enterprise_id or "")


class WorkspaceClients:
    """The Web API client for a workspace. With one bot token (no OAuth) it is always the same
    client; with installations, a client per workspace token, all on one shared aiohttp session."""

    def __init__(
        self,
        default: AsyncWebClient,
        session: aiohttp.ClientSession | None = None,
        installations: AsyncSQLAlchemyInstallationStore | None = None,
        *,
        ttl: float = TOKEN_TTL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.default = default
        self.session = session
        self.installations = installations
        self.ttl = ttl
        self.monotonic = monotonic
        self._clients: dict[str, tuple[float, AsyncWebClient]] = {}

    async def client(self, workspace: str) -> AsyncWebClient:
        if self.installations is None:
            return self.default
        cached = self._clients.get(workspace)
        if cached is not None and cached[0] > self.monotonic():
            return cached[1]
        token = await self._token(workspace)
        if token is None:
            if self.default.token:
                return self.default  # a single-workspace token configured beside the installs
            raise PermanentFailure(f"cohortbot is not installed in the Slack workspace {workspace}")
        client = AsyncWebClient(token=token, base_url=self.default.base_url, session=self.session)
        self._clients[workspace] = (self.monotonic() + self.ttl, client)
        return client

    def forget(self, workspace: str) -> None:
        """Read the workspace's token again next time (it was refused: reinstalled or revoked)."""
        self._clients.pop(workspace, None)

    async def _token(self, workspace: str) -> str | None:
        assert self.installations is not None
        if workspace.startswith("E"):  # an org-wide install
            bot = await self.installations.async_find_bot(
                enterprise_id=workspace, team_id=None, is_enterprise_install=True
            )
        else:
            bot = await self.installations.async_find_bot(enterprise_id=None, team_id=workspace)
        return bot.bot_token if bot is not None else None
