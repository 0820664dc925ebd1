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


@programme_app.command("validate")
def programme_validate(
    files: list[Path] = typer.Argument(..., help="Programme files (YAML) to check."),
) -> None:
    """Check programme files; print every problem as FILE:LINE: where: what, exit 1 if any."""
    from bot.registry import PROGRAMME_SECTIONS, load_capabilities
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
    from bot.store import Store

    async def go() -> None:
        store = await Store.open(Settings().database_url, schema="migrate")
        await store.close()

    asyncio.run(go())
    typer.echo("database is up to date")


def main() -> None:
    try:
        app()
    except BrokenPipeError:  # e.g. `cohortbot demo | head`
        sys.exit(0)


if __name__ == "__main__":
    main()
