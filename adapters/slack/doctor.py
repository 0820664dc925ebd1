"""`cohortbot doctor`'s Slack checks: the settings make one mode, the bot token is accepted and
carries the manifest's scopes, Socket Mode opens or the HTTP URL is usable, OAuth credentials work."""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.runtime import EVENTS_PATH, check_settings, open_connection
from adapters.slack.token_check import SlackUnreachable, inspect_token, missing, required_scopes
from bot.core.doctor import Checkup, Finding, bad, check, good
from bot.core.errors import ConfigurationError
from bot.core.settings import Settings

UNREACHABLE_FIX = "check the network, a proxy, or SLACK_API_URL"


@check("slack")
async def slack(checkup: Checkup) -> list[Finding]:
    settings = checkup.settings
    if not settings.slack_enabled:
        return good("slack", "not configured (no SLACK_* settings)")
    try:
        check_settings(settings)
    except ConfigurationError as e:
        return bad("slack settings", str(e), "set the missing settings (see docs/deploy.md, Slack)")
    async with aiohttp.ClientSession() as session:
        client = AsyncWebClient(base_url=settings.slack_api_url, session=session, timeout=10)
        findings = [Finding("slack settings", True, _mode(settings))]
        if settings.slack_oauth_enabled:
            findings += await _oauth(client, settings)
        if settings.slack_bot_token is not None and not settings.slack_oauth_enabled:
            findings += await _token(client, settings.slack_bot_token.get_secret_value(), settings)
        findings += await _connection(client, settings)
    return findings


def _mode(settings: Settings) -> str:
    mode = "Socket Mode" if settings.slack_app_token is not None else "HTTP mode"
    tokens = "one token per workspace (OAuth installs)" if settings.slack_oauth_enabled else "one bot token"
    return f"{mode}, {tokens}"


async def _token(client: AsyncWebClient, token: str, settings: Settings) -> list[Finding]:
    client.token = token
    try:
        info = await inspect_token(client)
    except SlackUnreachable as e:
        return bad("slack token", f"cannot reach Slack at {settings.slack_api_url} ({e})", UNREACHABLE_FIX)
    except ConfigurationError as e:
        what, _, fix = str(e).partition(": ")
        return bad("slack token", what, fix)
    findings = good("slack token", f"accepted for team {info.team_id} (bot user {info.user_id})")
    lacking = missing(required_scopes(), info.scopes)
    if lacking:
        findings += bad(
            "slack scopes",
            f"the token lacks {', '.join(lacking)}",
            "add them under OAuth & Permissions (or recreate the app from `cohortbot manifest slack`), "
            "then reinstall the app",
        )
    else:
        findings += good("slack scopes", f"all {len(required_scopes())} scopes of the manifest granted")
    return findings


async def _oauth(client: AsyncWebClient, settings: Settings) -> list[Finding]:
    """Slack tells a wrong client id or secret apart from a wrong code: exchange a code that cannot
    exist and read which of the two it refuses."""
    assert settings.slack_client_secret is not None
    try:
        await client.oauth_v2_access(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret.get_secret_value(),
            code="cohortbot-doctor-probe",
        )
    except SlackApiError as e:
        code = str(e.response.get("error", ""))
        if code in ("invalid_code", "invalid_grant_type", "code_already_used"):
            return good("slack oauth", "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET accepted")
        return bad(
            "slack oauth",
            f"Slack refused the client id or secret ({code})",
            "copy Client ID and Client Secret from your app's Basic Information page",
        )
    except (aiohttp.ClientError, TimeoutError, OSError, SlackClientError) as e:
        return bad("slack oauth", f"cannot reach Slack ({type(e).__name__})", UNREACHABLE_FIX)
    return bad("slack oauth", "Slack accepted a made-up install code", "check SLACK_API_URL")


async def _connection(client: AsyncWebClient, settings: Settings) -> list[Finding]:
    if settings.slack_app_token is not None:
        try:
            await open_connection(client, settings.slack_app_token.get_secret_value())
        except SlackUnreachable as e:
            return bad("slack socket mode", f"cannot reach Slack ({e})", UNREACHABLE_FIX)
        except ConfigurationError as e:
            what, _, fix = str(e).partition(": ")
            return bad("slack socket mode", what, fix)
        return good("slack socket mode", "Slack opened a Socket Mode connection for the app token")
    url = settings.public_url.rstrip("/")
    if not url.startswith("https://"):
        return bad(
            "slack http url",
            "HTTP mode needs the public https address Slack calls"
            + (f" (PUBLIC_URL={url} is not https)" if url else " (PUBLIC_URL is not set)"),
            "put cohortbot behind a TLS reverse proxy (docs/deploy.md), set PUBLIC_URL=https://your-host "
            "and recreate the app from `cohortbot manifest slack --url https://your-host`",
        )
    return good("slack http url", f"Slack's request URL is {url}{EVENTS_PATH}")
