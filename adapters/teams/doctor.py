"""`cohortbot doctor`'s Teams checks: app id, password and tenant, then a real token request."""

from __future__ import annotations

from adapters.teams.token_check import CREDENTIALS_FIX, TeamsUnreachable, fetch_bot_token, settings_problem
from bot.core.doctor import Checkup, Finding, bad, check, good
from bot.core.errors import ConfigurationError


@check("teams")
async def teams(checkup: Checkup) -> list[Finding]:
    settings = checkup.settings
    if settings.teams_local:
        return bad(
            "teams",
            "TEAMS_LOCAL=1: /api/messages accepts activities without authentication",
            "unset TEAMS_LOCAL outside the Bot Framework Emulator and tests",
        )
    if not settings.teams_enabled:
        return good("teams", "not configured (no MICROSOFT_APP_* settings)")
    problem = settings_problem(settings)
    if problem is not None:
        return bad("teams settings", problem, CREDENTIALS_FIX)
    kind = settings.microsoft_app_type
    tenant = f" in tenant {settings.microsoft_app_tenant_id}" if kind.lower() == "singletenant" else ""
    findings = good("teams settings", f"{kind} app {settings.microsoft_app_id}{tenant}")
    try:
        await fetch_bot_token(settings, checkup.options.get("teams_credentials"))
    except TeamsUnreachable as e:
        return findings + bad(
            "teams token", f"cannot reach Microsoft's login service ({e})", "check the network or proxy"
        )
    except ConfigurationError as e:
        return findings + bad("teams token", str(e).removeprefix("Teams: "), CREDENTIALS_FIX)
    return findings + good("teams token", "the Bot Framework issued the bot a token")
