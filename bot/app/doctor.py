"""The checks of `cohortbot doctor` that belong to no adapter: the database and its migrations,
the xAPI token, the export directory, the survey secret and the admins. Loading this module also
loads the adapters' own checks (the composition root is the one place that knows them)."""

from __future__ import annotations

import asyncio
import re
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.core.database_check import DatabaseProblem, describe, require_current, schema_version
from bot.core.doctor import Checkup, Finding, bad, check, good

MIN_SECRET_LENGTH = 16
NEW_SECRET = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PLATFORM_ID_RE = re.compile(r"^([UW][A-Z0-9]{6,}|29:[\w-]+|[0-9a-f]{8}-[0-9a-f-]{27})$", re.IGNORECASE)


def load_all_checks() -> None:
    """Import every module that registers checks: the adapters' (in the order they print), and
    the capabilities' (a capability adds one with `@check` in any module it loads)."""
    import adapters.slack.doctor
    import adapters.teams.doctor  # noqa: F401
    from bot.app.plugins import load_all

    load_all()


@check("database")
async def database(checkup: Checkup) -> list[Finding]:
    from bot.core.store import Store

    url = checkup.settings.database_url
    store = await Store.open(url, schema="none")
    try:
        version = await schema_version(store.engine, url)
        require_current(version, url)
    except DatabaseProblem as e:
        what, _, fix = str(e).partition(": ")
        return bad("database", what, fix or str(e))
    finally:
        await store.close()
    where = make_url(url).render_as_string(hide_password=True)
    return good("database", f"{where}, schema up to date ({describe(version.current)})")


@check("xapi token")
async def xapi_token(checkup: Checkup) -> list[Finding]:
    token = checkup.settings.xapi_token
    if token is None:
        return good("xapi token", "not set: POST /xapi/statements is off")
    if len(token.get_secret_value()) < MIN_SECRET_LENGTH:
        return bad(
            "xapi token",
            f"XAPI_TOKEN is shorter than {MIN_SECRET_LENGTH} characters: LMSs authenticate with it",
            f"set XAPI_TOKEN to a long random value ({NEW_SECRET}) and give it to the LMS",
        )
    return good("xapi token", "set: POST /xapi/statements accepts statements carrying it")


@check("export dir")
async def export_dir(checkup: Checkup) -> list[Finding]:
    path, problem = await asyncio.to_thread(_try_writing, checkup.settings.export_dir)
    if problem is not None:
        return bad(
            "export dir",
            f"cannot write to {path} ({problem})",
            "create it and give the user cohortbot runs as write access, or set EXPORT_DIR",
        )
    return good("export dir", f"{path} is writable")


def _try_writing(directory: str) -> tuple[Path, str | None]:
    path = Path(directory).resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".doctor-"):
            pass
    except OSError as e:
        return path, e.strerror or type(e).__name__
    return path, None


@check("survey secret")
async def survey_secret(checkup: Checkup) -> list[Finding]:
    settings = checkup.settings
    secret = settings.survey_secret
    if secret is not None:
        if len(secret.get_secret_value()) < MIN_SECRET_LENGTH:
            return bad(
                "survey secret",
                f"SURVEY_SECRET is shorter than {MIN_SECRET_LENGTH} characters",
                f"set a long random SURVEY_SECRET ({NEW_SECRET}) before the first anonymous survey",
            )
        return good("survey secret", "SURVEY_SECRET is set (keep it out of database backups)")
    if make_url(settings.database_url).drivername.startswith("sqlite"):
        return good("survey secret", "not set: a random one is kept beside the SQLite file")
    return bad(
        "survey secret",
        "SURVEY_SECRET is not set: anonymous ballots are keyed from a platform secret, so rotating "
        "that secret would unlink them",
        f"set SURVEY_SECRET ({NEW_SECRET}) before the first anonymous survey, and keep it",
    )


@check("admins")
async def admins(checkup: Checkup) -> list[Finding]:
    settings = checkup.settings
    listed = settings.admin_list
    if not listed:
        return bad(
            "admins",
            "ADMINS is empty: anyone may create cohorts",
            "set ADMINS to the training managers' emails or platform user ids, comma-separated",
        )
    on_a_platform = settings.slack_enabled or settings.teams_enabled
    unmatched = [a for a in listed if not (EMAIL_RE.match(a) or PLATFORM_ID_RE.match(a))]
    if on_a_platform and unmatched:
        return bad(
            "admins",
            f"{', '.join(unmatched)}: neither an email nor a Slack or Teams user id, so never matched "
            "(display names are not trusted)",
            "list admins by email or by platform user id",
        )
    return good("admins", f"{len(listed)} listed")


@check("training provider")
async def training_provider(checkup: Checkup) -> list[Finding]:
    """The organisation certificates of completion and audit packs name: both settings or neither
    (half an identity prints a certificate an auditor refuses)."""
    name, registration = checkup.settings.provider_name.strip(), checkup.settings.provider_id.strip()
    if name and registration:
        return good("training provider", f"{name}, registration number {registration}")
    if not name and not registration:
        return good(
            "training provider",
            "not set: certificates and audit packs say '(set PROVIDER_NAME)' where the organisation "
            "goes (set PROVIDER_NAME and PROVIDER_ID before issuing any)",
        )
    missing = "PROVIDER_ID" if name else "PROVIDER_NAME"
    return bad(
        "training provider",
        f"{missing} is not set: certificates and audit packs would name half an organisation",
        "set PROVIDER_NAME to the organisation's legal name and PROVIDER_ID to its registration "
        "number (in France, the numéro de déclaration d'activité)",
    )
