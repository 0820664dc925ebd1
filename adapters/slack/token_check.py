"""Is the Slack bot token good? `auth.test` answers who it is, and the `x-oauth-scopes` header of
any Web API answer lists the scopes it was granted: both checked against `manifest/slack.yaml`.

A refusal (revoked token, missing scopes) is a `ConfigurationError` a person must fix; Slack being
unreachable is `SlackUnreachable`, which the caller retries.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.errors import ConfigurationError

# Slack's answers meaning the token itself is wrong (not a passing failure).
REFUSALS = {
    "invalid_auth": "Slack does not recognise it",
    "not_authed": "no token was sent",
    "account_inactive": "its workspace or user was deactivated",
    "token_revoked": "it was revoked (the app was uninstalled or the token regenerated)",
    "token_expired": "it expired (token rotation is on: turn it off or install through OAuth)",
    "not_allowed_token_type": "it is not a bot token (xoxb-)",
    "invalid_token": "it is malformed",
    "ekm_access_denied": "the workspace's key management denied it",
    "team_access_not_granted": "the organisation has not granted the app to this workspace",
}


class SlackUnreachable(Exception):
    """Slack could not be reached or answered 5xx / 429: try again later."""


@dataclass(frozen=True)
class TokenInfo:
    team_id: str
    user_id: str
    enterprise_id: str | None
    scopes: frozenset[str]


@functools.cache
def required_scopes() -> frozenset[str]:
    """The bot scopes the manifest asks for: what the code relies on (read once)."""
    from adapters.slack.manifest import load  # the manifest module needs runtime's paths

    return frozenset(load()["oauth_config"]["scopes"]["bot"])


def granted_scopes(header: str | None) -> frozenset[str]:
    return frozenset(s.strip() for s in (header or "").split(",") if s.strip())


def missing(required: Iterable[str], granted: frozenset[str]) -> list[str]:
    return sorted(set(required) - granted)


async def inspect_token(client: AsyncWebClient, name: str = "SLACK_BOT_TOKEN") -> TokenInfo:
    """`auth.test` with the client's token: who it is and what it may do."""
    try:
        response = await client.auth_test()
    except SlackApiError as e:
        status = getattr(e.response, "status_code", 200)
        if status == 429 or status >= 500:
            raise SlackUnreachable(f"Slack answered {status}") from None
        code = str(e.response.get("error", "unknown_error"))
        why = REFUSALS.get(code, "Slack refused it")
        raise ConfigurationError(
            f"Slack refused {name} ({code}: {why}): copy the Bot User OAuth Token (xoxb-...) from "
            "your app's OAuth & Permissions page, or reinstall the app to the workspace"
        ) from None
    except (aiohttp.ClientError, TimeoutError, OSError, SlackClientError) as e:
        raise SlackUnreachable(f"{type(e).__name__}: {e}") from None
    headers = {k.lower(): v for k, v in (response.headers or {}).items()}
    header = headers.get("x-oauth-scopes")
    return TokenInfo(
        team_id=str(response.get("team_id") or ""),
        user_id=str(response.get("user_id") or ""),
        enterprise_id=response.get("enterprise_id") or None,
        scopes=granted_scopes(header if isinstance(header, str) else None),
    )


def require_scopes(info: TokenInfo, name: str = "SLACK_BOT_TOKEN") -> None:
    lacking = missing(required_scopes(), info.scopes)
    if lacking:
        raise ConfigurationError(
            f"{name} lacks the scopes {', '.join(lacking)} that cohortbot needs: add them under "
            "OAuth & Permissions (or recreate the app from `cohortbot manifest slack`) and reinstall it"
        )


async def verify_bot_token(client: AsyncWebClient) -> TokenInfo:
    """The token works and carries every scope of the manifest, or a `ConfigurationError` says
    what to fix; `SlackUnreachable` when Slack could not tell."""
    info = await inspect_token(client)
    require_scopes(info)
    return info
