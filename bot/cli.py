"""The `cohortbot` command line: run the bot, run the demo, manage the database."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from pathlib import Path

import typer

from bot.settings import Settings

app = typer.Typer(
    help="cohortbot: keeps training cohorts engaged in Slack, Teams and the console.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
# Command groups capabilities add their commands to.
manifest_app = typer.Typer(help="Print or build the Slack and Teams app manifests.", no_args_is_help=True)
programme_app = typer.Typer(help="Cohort programme files.", no_args_is_help=True)
evidence_app = typer.Typer(help="Audit evidence: verify the attendance hash chain.", no_args_is_help=True)
import_app = typer.Typer(help="Import learners and completions from an LMS.", no_args_is_help=True)
export_app = typer.Typer(help="Export attendance, surveys, completion and KPIs.", no_args_is_help=True)
app.add_typer(manifest_app, name="manifest")
app.add_typer(programme_app, name="programme")
app.add_typer(evidence_app, name="evidence")
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")


@app.command()
def demo(
    db: Path = typer.Option(Path("cohortbot-demo.db"), help="SQLite file to create (replaced if it exists)."),
    seed: int = typer.Option(7, help="Random seed for the simulated learners."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show every message in full."),
) -> None:
    """Run a six-week cohort with 30 simulated learners on a simulated clock, in seconds."""
    from bot.demo import Demo

    started = time.perf_counter()
    asyncio.run(Demo(db, seed=seed, verbose=verbose).run())
    typer.echo(f"\ndemo finished in {time.perf_counter() - started:.1f}s")


@app.command()
def run(
    console: bool = typer.Option(
        False, "--console", help="Use the console even if Slack or Teams are configured."
    ),
) -> None:
    """Run cohortbot: Slack and/or Teams when their credentials are set, else the console chat."""
    settings = Settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from bot.serve import serve

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(settings, force_console=console))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the database schema at DATABASE_URL."""
    from bot.store import Store

    async def go() -> None:
        store = await Store.open(Settings().database_url, schema="migrate")
        await store.close()

    asyncio.run(go())
    typer.echo("database is up to date")


@evidence_app.command("verify")
def evidence_verify() -> None:
    """Walk every session's attendance hash chain; name the first edited, inserted or deleted record."""
    from bot.attendance.evidence import verify
    from bot.store import Store

    async def go() -> bool:
        store = await Store.open(Settings().database_url, schema="none")
        try:
            async with store.transaction() as session:
                result = await verify(session)
        finally:
            await store.close()
        for problem in result.problems:
            typer.echo(f"FAIL {problem}")
        verdict = "OK" if result.ok else f"{len(result.problems)} broken chain(s)"
        typer.echo(f"{verdict}: {result.records} attendance records in {result.chains} session chains")
        typer.echo(f"chain digest (write it down to compare later): {result.digest}")
        return result.ok

    if not asyncio.run(go()):
        raise typer.Exit(1)


@export_app.command("attendance")
def export_attendance(
    cohort: str = typer.Argument(..., help="Cohort name."),
    session: int | None = typer.Option(None, help="Only this session id."),
    out: Path | None = typer.Option(None, help="Directory for the files (default: EXPORT_DIR/<cohort>)."),
) -> None:
    """Attendance sheets as CSV and PDF: per session, per half-day, and per learner."""
    from sqlmodel import select

    from bot.attendance.exports import export_cohort
    from bot.clock import SystemClock
    from bot.models import Cohort
    from bot.store import Store

    settings = Settings()
    target = out or Path(settings.export_dir) / cohort.lower()

    async def go() -> list[Path] | None:
        store = await Store.open(settings.database_url, schema="none")
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
