"""`cohortbot evidence ...` and `cohortbot audit ...`: keys, checkpoints, verification, audit packs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.errors import ConfigurationError, UserError
from bot.core.i18n import _
from bot.core.settings import Settings

T = TypeVar("T")

evidence_app = typer.Typer(
    help="Audit evidence: keys, signed checkpoints, and verifying the attendance chains.",
    no_args_is_help=True,
)


def _in_transaction(work: Callable[[AsyncSession, Settings], Awaitable[T]]) -> T:
    """Open the configured database (checked, not migrated), run `work` in one transaction, close it."""
    from bot.core.store import Store

    settings = Settings()

    async def go() -> T:
        store = await Store.open(settings.database_url, schema="check")
        try:
            async with store.transaction() as session:
                return await work(session, settings)
        finally:
            await store.close()

    try:
        return asyncio.run(go())
    except (ConfigurationError, UserError) as e:
        typer.echo(f"cohortbot: {getattr(e, 'message', e)}", err=True)
        raise typer.Exit(2) from None


@evidence_app.command("keygen")
def evidence_keygen(
    out: Path = typer.Option(
        Path("cohortbot-evidence-key.pem"), "--out", help="Private key file to create (never overwritten)."
    ),
) -> None:
    """Create the Ed25519 key that signs checkpoints and audit packs (and its public key beside it)."""
    from bot.capabilities.attendance.keys import fingerprint, generate_keypair, load_public_key

    if out.exists():
        typer.echo(f"{out} exists: a signing key is never overwritten (move it away first).", err=True)
        raise typer.Exit(2)
    private, public = generate_keypair(out)
    typer.echo(
        f"private key: {private} (mode 0600): set EVIDENCE_SIGNING_KEY={private}; "
        "keep it off the database host and its backups"
    )
    typer.echo(f"public key:  {public} (give it to auditors)")
    typer.echo(f"fingerprint: {fingerprint(load_public_key(public.read_bytes()))}")


@evidence_app.command("checkpoint")
def evidence_checkpoint(
    out: Path | None = typer.Option(None, "--out", help="Also copy the checkpoint file here."),
) -> None:
    """Sign every chain's head now; write the file (EXPORT_DIR/evidence/checkpoints/) and store a copy."""
    from bot.capabilities.attendance import checkpoints
    from bot.capabilities.attendance.verification import chains, records

    async def work(session: AsyncSession, settings: Settings) -> dict[str, Any]:
        from bot.core.clock import SystemClock

        taken = await checkpoints.take(session, settings, SystemClock().now(), "on demand")
        assert taken is not None
        return taken[1]

    signed = _in_transaction(work)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(checkpoints.file_bytes(signed))
    body = signed["checkpoint"]
    typer.echo(
        _(
            "checkpoint {at}: {chains}, {records}",
            at=body["at"],
            chains=chains(body["chain_count"]),
            records=records(body["records"]),
        )
    )
    typer.echo(_("sha256 {digest}; key {key}", digest=checkpoints.file_digest(signed), key=body["key"]))
    if out is not None:
        typer.echo(_("written to {path}", path=out))


@evidence_app.command("verify")
def evidence_verify(
    checkpoint: Path | None = typer.Option(
        None,
        "--checkpoint",
        help="A checkpoint file kept outside the database: also catch cut or rebuilt chains.",
    ),
    public_key: Path | None = typer.Option(
        None,
        "--public-key",
        help="Public key (PEM) the checkpoint must be signed with (default: the configured key's).",
    ),
) -> None:
    """Walk every attendance chain; name the first edited, inserted or deleted record of each."""
    from bot.capabilities.attendance import checkpoints
    from bot.capabilities.attendance.keys import chain_secret, load_public_key, signing_key
    from bot.capabilities.attendance.verification import chains, compare, summary, verify

    def expected_key(settings: Settings) -> Any:
        if public_key is not None:
            return load_public_key(public_key.read_bytes())
        return signing_key(settings).public_key()

    try:
        data = checkpoint.read_bytes() if checkpoint is not None else None
    except OSError as e:
        typer.echo(f"cohortbot: cannot read {checkpoint}: {e.strerror}", err=True)
        raise typer.Exit(2) from None

    async def work(session: AsyncSession, settings: Settings) -> tuple[Any, list[Any], dict[str, Any] | None]:
        body = None
        if data is not None:
            try:
                body = checkpoints.open_signed(data, expected_key(settings))
            except (OSError, ValueError) as e:
                raise UserError(_("checkpoint {path}: {error}", path=checkpoint, error=e)) from None
        result = await verify(session, chain_secret(settings))
        return result, compare(result, body) if body else [], body

    result, lost, body = _in_transaction(work)
    problems = [*result.problems, *lost]
    for problem in problems:
        typer.echo(_("FAIL {problem}", problem=problem))
    typer.echo(summary(result, len(problems)))
    if body is not None:
        typer.echo(
            _(
                "checked against the checkpoint of {at} ({chains}, signature valid)",
                at=body["at"],
                chains=chains(body["chain_count"]),
            )
        )
    else:
        typer.echo(
            _("without a checkpoint: records cut off a chain's end, or whole chains deleted, go unseen")
        )
    if problems:
        raise typer.Exit(1)


def audit(
    target: str = typer.Argument(..., help="A cohort's name to build its pack, or `verify` to check one."),
    pack: Path | None = typer.Argument(None, help="With `verify`: the pack (.zip) to check."),
    out: Path | None = typer.Option(
        None, "--out", help="Where to write the pack (default: EXPORT_DIR/<cohort>/audit/)."
    ),
    course: str | None = typer.Option(
        None, "--course", help="The course title (default: the programme's title)."
    ),
    at: str | None = typer.Option(
        None,
        "--at",
        help="Build as of this UTC time (YYYY-MM-DD[THH:MM]); default now, or the last activity.",
    ),
    public_key: Path | None = typer.Option(
        None, "--public-key", help="With `verify`: the organisation's public key (PEM)."
    ),
) -> None:
    """`audit <cohort> --out pack.zip` builds a cohort's signed audit pack; `audit verify pack.zip`
    checks one offline (a cohort cannot be named `verify`)."""
    if target == "verify":
        _audit_verify(pack, public_key)
    else:
        _audit_build(target, out, course, at)


def _audit_build(slug: str, out: Path | None, course: str | None, at: str | None) -> None:
    from sqlmodel import select

    from bot.app.cli import _as_of
    from bot.capabilities.audit.pack import Pack, as_of, build
    from bot.core.clock import SystemClock
    from bot.core.exports import cohort_folder
    from bot.core.models import Cohort

    as_of_time = _as_of(at)

    async def work(session: AsyncSession, settings: Settings) -> Pack:
        cohort = (await session.exec(select(Cohort).where(Cohort.slug == slug.lower()))).first()
        if cohort is None:
            raise UserError(_("there is no cohort '{name}'", name=slug))
        now = as_of_time or await as_of(session, cohort, SystemClock().now())
        target = out or cohort_folder(settings.export_dir, cohort.slug, "audit") / (
            f"{cohort.slug}-audit-{now:%Y%m%d-%H%M%S}.zip"
        )
        return await build(session, settings, cohort, now, target, course)

    made = _in_transaction(work)
    typer.echo(
        _(
            "wrote {path}: {files} files, signed by key {key}",
            path=made.path,
            files=made.files,
            key=made.key_fingerprint,
        )
    )
    typer.echo(_("evidence: {verification}", verification=made.verification))


def _audit_verify(pack: Path | None, public_key: Path | None) -> None:
    from bot.capabilities.attendance.keys import public_pem, signing_key
    from bot.capabilities.audit.verify import verify_pack

    if pack is None:
        typer.echo("Usage: cohortbot audit verify PACK.zip [--public-key KEY.pem]", err=True)
        raise typer.Exit(2)
    if public_key is not None:
        try:
            key_pem: bytes | None = public_key.read_bytes()
        except OSError as e:
            typer.echo(f"cohortbot: cannot read {public_key}: {e.strerror}", err=True)
            raise typer.Exit(2) from None
    else:
        try:  # the organisation's own key, when run where it is configured
            key_pem = (
                public_pem(signing_key(Settings()).public_key()) if Settings().evidence_signing_key else None
            )
        except ConfigurationError:
            key_pem = None
    result = verify_pack(pack, key_pem)
    for problem in result.problems:
        typer.echo(f"FAIL {problem}")
    if result.ok:
        typer.echo(f"OK: {result.files} files, exactly as signed")
    if result.key_from_pack:
        typer.echo(
            "note: checked with the key inside the pack (integrity only): pass --public-key to prove origin"
        )
    if not result.ok:
        raise typer.Exit(1)
