"""The `cohortbot` command line: run the bot, run the demo, manage the database."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from typer.core import TyperGroup

from bot.app.evidence_cli import audit, evidence_app
from bot.core.errors import ConfigurationError
from bot.core.exports import cohort_folder
from bot.core.settings import Settings


class ExplainedFailures(TyperGroup):
    """A configuration problem in any command ends as one line on stderr and exit code 2, never a
    traceback: the line says what failed and what to do."""

    def invoke(self, ctx: Any) -> Any:  # typer vendors its own click: its Context type
        try:
            return super().invoke(ctx)
        except ConfigurationError as e:
            typer.echo(f"cohortbot: {e}", err=True)
            raise typer.Exit(2) from None


def load_settings() -> Settings:
    """The settings, or a `ConfigurationError` naming the bad one (e.g. PORT=abc)."""
    try:
        return Settings()
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in e.errors()
        )
        raise ConfigurationError(f"invalid setting ({problems}): fix it in the environment or .env") from None


app = typer.Typer(
    cls=ExplainedFailures,
    help="cohortbot: keeps training cohorts engaged in Slack, Teams and the console.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
# Command groups capabilities add their commands to.
manifest_app = typer.Typer(help="Print or build the Slack and Teams app manifests.", no_args_is_help=True)
programme_app = typer.Typer(help="Cohort programme files.", no_args_is_help=True)
import_app = typer.Typer(help="Import learners and completions from an LMS.", no_args_is_help=True)
export_app = typer.Typer(help="Export attendance, surveys, completion and KPIs.", no_args_is_help=True)
privacy_app = typer.Typer(
    help="Data rights: export or erase what is held about a person.", no_args_is_help=True
)
app.add_typer(manifest_app, name="manifest")
app.add_typer(programme_app, name="programme")
app.add_typer(evidence_app, name="evidence")
app.command("audit")(audit)
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
app.add_typer(privacy_app, name="privacy")


@app.callback()
def _logging() -> None:
    """Every command logs the same way (LOG_LEVEL, LOG_FORMAT, libraries quiet at INFO), and writes
    in DEFAULT_LANGUAGE what it writes through the catalogue (a document takes its cohort's)."""
    from bot.app.logs import configure
    from bot.core import i18n

    settings = load_settings()
    configure(settings.log_level, settings.log_format)
    i18n.set_language(settings.default_language)


@app.command()
def demo(
    db: Path = typer.Option(Path("cohortbot-demo.db"), help="SQLite file to create (replaced if it exists)."),
    seed: int = typer.Option(7, help="Random seed for the simulated learners."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show every message in full."),
    lang: str = typer.Option("en", "--lang", help="The language of the cohort and its people: en or fr."),
) -> None:
    """Run a six-week cohort with 30 simulated learners on a simulated clock, in seconds."""
    from bot.app.demo import Demo
    from bot.core import i18n
    from bot.core.i18n import LANGUAGES

    if lang not in LANGUAGES:
        raise typer.BadParameter(f"'{lang}' is not one of {', '.join(LANGUAGES)}", param_hint="--lang")
    started = time.perf_counter()
    asyncio.run(Demo(db, seed=seed, verbose=verbose, lang=lang).run())
    with i18n.use(lang):
        seconds = i18n.number(round(time.perf_counter() - started, 1))
        typer.echo("\n" + i18n._("demo finished in {seconds}s", seconds=seconds))


@app.command()
def run(
    console: bool = typer.Option(
        False, "--console", help="Use the console even if Slack or Teams are configured."
    ),
) -> None:
    """Run cohortbot: Slack and/or Teams when their credentials are set, else the console chat."""
    settings = load_settings()
    from bot.app.serve import serve

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(settings, force_console=console))


@app.command()
def doctor() -> None:
    """Check the configuration end to end: ✓ or ✗ for each part, with the fix for each ✗."""
    from bot.app.doctor import load_all_checks
    from bot.core.doctor import Checkup, render
    from bot.core.doctor import run as run_checks

    load_all_checks()
    findings = asyncio.run(run_checks(Checkup(load_settings())))
    typer.echo(render(findings))
    if not all(f.ok for f in findings):
        raise typer.Exit(1)


@manifest_app.command("slack")
def manifest_slack(
    url: str = typer.Option(
        None, "--url", help="Public base URL for HTTP mode, e.g. https://bot.example.com (else Socket Mode)."
    ),
) -> None:
    """Print the Slack app manifest (YAML) to paste into api.slack.com/apps."""
    from adapters.slack.manifest import render

    if url is not None and not url.startswith("https://"):
        typer.echo("Slack only calls https:// URLs: give --url https://your-host", err=True)
        raise typer.Exit(2)
    typer.echo(render(url), nl=False)


@manifest_app.command("teams")
def manifest_teams(
    app_id: str = typer.Option(
        ..., "--app-id", help="The bot's Microsoft App ID (a GUID), from its Azure Bot registration."
    ),
    out: Path = typer.Option(Path("cohortbot-teams.zip"), "--out", help="Where to write the app package."),
    version: str | None = typer.Option(
        None, "--version", help="App version MAJOR.MINOR.PATCH (bump it on every change)."
    ),
    domain: list[str] = typer.Option(
        [], "--domain", help="Add a validDomains entry (host name); repeatable."
    ),
    developer_name: str = typer.Option(
        None, "--developer-name", help="Your organisation, shown as the publisher [TEAMS_DEVELOPER_NAME]."
    ),
    website_url: str = typer.Option(None, "--website-url", help="Your https home page [TEAMS_WEBSITE_URL]."),
    privacy_url: str = typer.Option(
        None, "--privacy-url", help="Your https privacy statement [TEAMS_PRIVACY_URL]."
    ),
    terms_url: str = typer.Option(None, "--terms-url", help="Your https terms of use [TEAMS_TERMS_URL]."),
) -> None:
    """Build the Teams app package (manifest.json + icons, zipped) for a Teams admin to upload."""
    from adapters.teams.manifest import Developer, ManifestError, build_package

    settings = load_settings()
    developer = Developer(
        name=developer_name or settings.teams_developer_name,
        website_url=website_url or settings.teams_website_url,
        privacy_url=privacy_url or settings.teams_privacy_url,
        terms_url=terms_url or settings.teams_terms_url,
    )
    try:
        manifest = build_package(app_id, out, version=version, domains=tuple(domain), developer=developer)
    except ManifestError as e:
        typer.echo(f"Cannot build the Teams package: {e}", err=True)
        raise typer.Exit(2) from None
    if not developer.complete:
        typer.echo(
            "note: the publisher name and URLs not given are cohortbot's project pages; give your own "
            "with --developer-name, --website-url, --privacy-url and --terms-url",
            err=True,
        )
    commands = sum(len(c["commands"]) for c in manifest["bots"][0]["commandLists"])
    typer.echo(
        f"wrote {out} (version {manifest['version']}, {commands} menu commands): "
        "upload it in the Teams admin centre"
    )


@programme_app.command("validate")
def programme_validate(
    files: list[Path] = typer.Argument(..., help="Programme files (YAML) to check."),
) -> None:
    """Check programme files; print every problem as FILE:LINE: where: what, exit 1 if any."""
    from bot.core.registry import PROGRAMME_SECTIONS, load_capabilities
    from schedules.programme import validate

    load_capabilities()
    failed = False
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            typer.echo(f"{path}: cannot read it: {e.strerror}", err=True)
            failed = True
            continue
        data, problems = validate(text, PROGRAMME_SECTIONS, str(path))
        for problem in problems:
            line, _, rest = problem.removeprefix("line ").partition(": ")
            typer.echo(f"{path}:{line}: {rest}")
        if problems:
            failed = True
        else:
            sessions, modules = len(data.get("sessions") or []), len(data.get("modules") or [])
            typer.echo(f"{path}: valid ({sessions} session entries, {modules} modules)")
    if failed:
        raise typer.Exit(1)


@programme_app.command("list")
def programme_list() -> None:
    """The programmes shipped with cohortbot (use them as `create <cohort> programme=<name>`)."""
    import yaml

    from schedules.programme import EXAMPLES_DIR

    for path in sorted(EXAMPLES_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        typer.echo(f"{path.stem:<18} {data.get('kind', ''):<5} {data.get('title', '')}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the database schema at DATABASE_URL."""
    from bot.core.database_check import describe
    from bot.core.store import Store

    url = load_settings().database_url

    async def go() -> str:
        store = await Store.open(url, schema="migrate")
        found = store.found
        await store.close()
        assert found is not None
        if found.empty:
            return f"created the schema ({describe(found.heads)}) in an empty database"
        if found.up_to_date:
            return f"database is up to date ({describe(found.current)})"
        return f"upgraded the database from {describe(found.current)} to {describe(found.heads)}"

    typer.echo(asyncio.run(go()))


@export_app.command("surveys")
def export_surveys(
    cohort: str = typer.Argument(..., help="Cohort name."),
    survey: int | None = typer.Option(None, help="Only this survey number (see `survey <cohort> list`)."),
    out: Path | None = typer.Option(
        None, help="Directory for the CSV files (default: EXPORT_DIR/<cohort>/surveys)."
    ),
) -> None:
    """Write a cohort's survey answers as CSV, one file per survey (anonymous ones without names)."""
    from bot.capabilities.surveys.results import export_cohort
    from bot.core.errors import UserError
    from bot.core.store import Store

    settings = Settings()

    async def go() -> list[Path]:
        store = await Store.open(settings.database_url, schema="check")
        try:
            folder = out or cohort_folder(settings.export_dir, cohort, "surveys")
            return await export_cohort(store, cohort, survey, folder)
        finally:
            await store.close()

    try:
        paths = asyncio.run(go())
    except UserError as e:
        typer.echo(e.message, err=True)
        raise typer.Exit(1) from None
    for path in paths:
        typer.echo(str(path))
    if not paths:
        typer.echo(f"'{cohort}' has sent no surveys yet.")


def _import_csv(kind: str, file: Path, cohort: str, skip_bad: bool) -> None:
    from bot.capabilities.completion.csv_import import import_file

    report = import_file(kind, file, cohort, Settings(), skip_bad=skip_bad)
    typer.echo(report.render())
    if not report.imported:
        raise typer.Exit(1)


@import_app.command("learners")
def import_learners(
    file: Path = typer.Argument(..., help="CSV: email,name,manager_email,team,site,department,seniority,tz"),
    cohort: str = typer.Option(..., "--cohort", help="The cohort to enroll them in."),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="Import the good rows even if some are bad."),
) -> None:
    """Import learners (people, their managers, site, department, seniority) into a cohort."""
    _import_csv("learners", file, cohort, skip_bad)


@import_app.command("completions")
def import_completions(
    file: Path = typer.Argument(..., help="CSV: email,module,status,score,completed_at"),
    cohort: str = typer.Option(..., "--cohort", help="The cohort whose modules they are."),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="Import the good rows even if some are bad."),
) -> None:
    """Import module completions exported from an LMS."""
    _import_csv("completions", file, cohort, skip_bad)


def _as_of(at: str | None) -> Any:
    """`--at` as an aware UTC datetime (a date means its midnight UTC); None means now."""
    from datetime import UTC, datetime

    if at is None:
        return None
    try:
        parsed = datetime.fromisoformat(at)
    except ValueError:
        raise typer.BadParameter(
            f"'{at}' is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM", param_hint="--at"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _with_cohort(slug: str, at: str | None, work: Any) -> list[Path]:
    """Open the database without migrating it, find the cohort, run `work(session, cohort, as_of)`."""
    from sqlmodel import select

    from bot.core.clock import SystemClock
    from bot.core.models import Cohort
    from bot.core.store import Store

    as_of = _as_of(at)

    async def go() -> list[Path]:
        store = await Store.open(Settings().database_url, schema="check")
        try:
            async with store.transaction() as session:
                cohort = (await session.exec(select(Cohort).where(Cohort.slug == slug.lower()))).first()
                if cohort is None:
                    raise typer.BadParameter(f"there is no cohort '{slug}'", param_hint="--cohort")
                return list(await work(session, cohort, as_of or SystemClock().now()))
        finally:
            await store.close()

    return asyncio.run(go())


@export_app.command("report")
def export_report(
    cohort: str = typer.Option(..., help="The cohort's name (slug)."),
    format: str = typer.Option("csv", help="csv (one file per table) or xlsx (one sheet per table)."),
    out: Path | None = typer.Option(
        None, help="Directory to write to (default: EXPORT_DIR/<cohort>/report; created if needed)."
    ),
    at: str | None = typer.Option(
        None, help="Compute as of this UTC time (YYYY-MM-DD[THH:MM]); default now."
    ),
) -> None:
    """Export the training report: learners, modules, sessions, segments and at-risk tables."""
    if format not in ("csv", "xlsx"):
        raise typer.BadParameter(f"'{format}' is not a format: use csv or xlsx", param_hint="--format")
    from bot.capabilities.reports.service import export_report as write

    folder = out or cohort_folder(Settings().export_dir, cohort, "report")
    files = _with_cohort(cohort, at, lambda session, row, now: write(session, row, now, format, folder))
    for path in files:
        typer.echo(str(path))


@export_app.command("certificates")
def export_certificates(
    cohort: str = typer.Option(..., help="The cohort's name (slug)."),
    out: Path | None = typer.Option(
        None, help="Directory to write the PDFs to (default: EXPORT_DIR/<cohort>/certificates)."
    ),
    at: str | None = typer.Option(None, help="Issue as of this UTC time (YYYY-MM-DD[THH:MM]); default now."),
) -> None:
    """Write a certificate of completion (PDF) for each learner who completed every module."""
    from bot.capabilities.reports.certificates import Issuer
    from bot.capabilities.reports.service import export_certificates as write

    settings = Settings()
    issuer = Issuer(settings.provider_name, settings.provider_id)
    folder = out or cohort_folder(settings.export_dir, cohort, "certificates")
    files = _with_cohort(cohort, at, lambda session, row, now: write(session, row, now, folder, issuer))
    for path in files:
        typer.echo(str(path))
    typer.echo(f"{len(files)} certificates written to {folder}")


@export_app.command("attendance")
def export_attendance(
    cohort: str = typer.Argument(..., help="Cohort name."),
    session: int | None = typer.Option(None, help="Only this session id."),
    out: Path | None = typer.Option(
        None, help="Directory for the files (default: EXPORT_DIR/<cohort>/attendance)."
    ),
) -> None:
    """Attendance sheets as CSV and PDF: per session, per half-day, and per learner."""
    from sqlmodel import select

    from bot.capabilities.attendance.exports import export_cohort
    from bot.core.clock import SystemClock
    from bot.core.models import Cohort
    from bot.core.store import Store

    settings = Settings()
    target = out or cohort_folder(settings.export_dir, cohort, "attendance")

    async def go() -> list[Path] | None:
        store = await Store.open(settings.database_url, schema="check")
        try:
            async with store.transaction() as db:
                row = (await db.exec(select(Cohort).where(Cohort.slug == cohort.lower()))).first()
                if row is None:
                    return None
                return await export_cohort(db, row, target, SystemClock().now(), session_id=session)
        finally:
            await store.close()

    paths = asyncio.run(go())
    if paths is None:
        typer.echo(f"There is no cohort '{cohort}'.", err=True)
        raise typer.Exit(2)
    for path in paths:
        typer.echo(str(path))
    typer.echo(f"{len(paths)} files written to {target}")


def main() -> None:
    try:
        app()
    except BrokenPipeError:  # e.g. `cohortbot demo | head`
        sys.exit(0)


if __name__ == "__main__":
    main()


PERSON_HELP = "The person: #id, an email, or platform:user_id (e.g. slack:U0123ABCD, console:alice)."


def _privacy(work: Any) -> Any:
    """Run `work(store, settings)` against DATABASE_URL; a person not found is a clear error."""
    from bot.core.errors import UserError
    from bot.core.store import Store

    settings = Settings()

    async def go() -> Any:
        store = await Store.open(settings.database_url, schema="none")
        try:
            return await work(store, settings)
        finally:
            await store.close()

    try:
        return asyncio.run(go())
    except UserError as e:
        typer.echo(e.render(), err=True)
        raise typer.Exit(2) from None


@privacy_app.command("export")
def privacy_export(
    person: str = typer.Argument(..., help=PERSON_HELP),
    out: Path | None = typer.Option(None, help="Write the JSON to this file (default: print it)."),
) -> None:
    """Everything held about a person, as JSON (their right of access and portability)."""
    import json

    from bot.core.privacy import export_person

    data = _privacy(lambda store, settings: export_person(store, settings, person))
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"wrote {out}")


@privacy_app.command("erase")
def privacy_erase(
    person: str = typer.Argument(..., help=PERSON_HELP),
    yes: bool = typer.Option(False, "--yes", help="Do it (without it, nothing is changed)."),
) -> None:
    """Erase a person's personal data (name, email, platform ids, free text); counts and reports
    keep their figures. Cannot be undone."""
    from bot.core.clock import SystemClock
    from bot.core.privacy import erase_person

    if not yes:
        typer.echo(f"This erases {person}'s personal data for good. Run again with --yes to do it.", err=True)
        raise typer.Exit(1)
    erased = _privacy(lambda store, settings: erase_person(store, settings, person, SystemClock().now()))
    typer.echo("erased: " + ", ".join(f"{what} {count}" for what, count in erased.items() if count))
