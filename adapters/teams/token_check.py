"""Can the bot get its own Bot Framework token? The one outbound call every Teams send needs; its
failure means wrong app id, password or tenant (a `ConfigurationError` saying which setting), or
Microsoft's login service unreachable (`TeamsUnreachable`, retried)."""

from __future__ import annotations

import asyncio
import re

import requests
from botbuilder.integration.aiohttp import ConfigurationServiceClientCredentialFactory
from botframework.connector.auth import AuthenticationConstants, ServiceClientCredentialsFactory

from adapters.teams.auth import bot_configuration
from bot.core.errors import ConfigurationError
from bot.core.settings import Settings

GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# Azure AD error codes, and the setting each one points at.
AADSTS_SETTING = {
    "AADSTS7000215": "MICROSOFT_APP_PASSWORD (the client secret is wrong or expired)",
    "AADSTS7000222": "MICROSOFT_APP_PASSWORD (the client secret expired: create a new one)",
    "AADSTS700016": "MICROSOFT_APP_ID (no such application in that tenant)",
    "AADSTS90002": "MICROSOFT_APP_TENANT_ID (no such tenant)",
    "AADSTS900023": "MICROSOFT_APP_TENANT_ID (not a tenant id)",
}
CREDENTIALS_FIX = (
    "copy the Microsoft App ID and a current client secret from the Azure Bot's Configuration page "
    "(and the tenant id for a SingleTenant bot), see docs/deploy.md"
)


class TeamsUnreachable(Exception):
    """Microsoft's login service could not be reached: try again later."""


def settings_problem(settings: Settings) -> str | None:
    """What is wrong with the Teams settings before anything is asked of Microsoft, if anything."""
    if not GUID_RE.match(settings.microsoft_app_id):
        return f"MICROSOFT_APP_ID '{settings.microsoft_app_id}' is not an app id (a GUID)"
    if settings.microsoft_app_password is None or not settings.microsoft_app_password.get_secret_value():
        return "MICROSOFT_APP_PASSWORD is not set"
    if settings.microsoft_app_type.lower() == "singletenant" and not GUID_RE.match(
        settings.microsoft_app_tenant_id
    ):
        return "a SingleTenant bot needs MICROSOFT_APP_TENANT_ID (the directory's tenant GUID)"
    if settings.microsoft_app_type.lower() not in ("multitenant", "singletenant"):
        return f"MICROSOFT_APP_TYPE '{settings.microsoft_app_type}' is neither MultiTenant nor SingleTenant"
    return None


def credentials_factory(settings: Settings) -> ServiceClientCredentialsFactory:
    return ConfigurationServiceClientCredentialFactory(bot_configuration(settings))


async def fetch_bot_token(settings: Settings, factory: ServiceClientCredentialsFactory | None = None) -> None:
    """Get a token as the bot would before its first send; raise what a person must fix."""
    problem = settings_problem(settings)
    if problem is not None:
        raise ConfigurationError(f"Teams: {problem}: {CREDENTIALS_FIX}")
    factory = factory or credentials_factory(settings)
    credentials = await factory.create_credentials(
        settings.microsoft_app_id,
        AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
        AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL,
        True,
    )
    try:
        # MSAL's token call is synchronous (requests): keep it off the event loop.
        await asyncio.to_thread(credentials.get_access_token, True)
    except PermissionError as e:  # botbuilder's way of saying Azure AD refused the credentials
        raise ConfigurationError(
            f"Teams: Microsoft refused the bot's credentials: {_which(str(e))}"
        ) from None
    except (requests.ConnectionError, requests.Timeout, OSError) as e:
        raise TeamsUnreachable(type(e).__name__) from None


def _which(error: str) -> str:
    for code, setting in AADSTS_SETTING.items():
        if code in error:
            return f"{code}, check {setting}; {CREDENTIALS_FIX}"
    summary = error.split("error_description:")[0].strip().rstrip(",")
    return f"{summary}; {CREDENTIALS_FIX}"
