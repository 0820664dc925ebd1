"""The two keys of the evidence, both kept outside the database: the chain secret and the signing key.

- The **chain secret** keys every attendance record's hash (HMAC-SHA256), so someone who can write
  the database but not read the server's configuration cannot recompute a chain. In order:
  `EVIDENCE_SECRET`; else derived from `SURVEY_SECRET` (with its own label, so it reveals nothing of
  it); else, on SQLite only (console, demo, tests), a random secret generated once into
  `<db file>.evidence-secret` (mode 0600). PostgreSQL without either is refused: a production
  database needs a secret its writers cannot read.
- The **signing key** (Ed25519) signs checkpoints and audit packs. `EVIDENCE_SIGNING_KEY` is the path
  of its PEM file (`cohortbot evidence keygen` writes one); else, on SQLite, `<db file>.evidence-key.pem`
  is generated once. Auditors only need the public key (`<key>.pub.pem`) or its fingerprint.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.engine import make_url
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.errors import ConfigurationError
from bot.core.settings import Settings

_LABEL = b"cohortbot attendance evidence v2"
_CACHE: dict[tuple[str, str], bytes] = {}  # read once per process: no file I/O on every click


def _sqlite_file(database_url: str) -> Path | None:
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite") or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


async def settings_of(session: AsyncSession) -> Settings:
    """The environment's settings, for the database `session` is connected to (callers without a
    Settings object: a SQLite database's generated secret and key sit beside its file)."""
    url = (await session.connection()).engine.url
    return Settings(database_url=url.render_as_string(hide_password=False))


def chain_secret(settings: Settings) -> bytes:
    """The HMAC key of the attendance chains (see the module's docstring for where it comes from)."""
    if settings.evidence_secret is not None:
        return settings.evidence_secret.get_secret_value().encode()
    if settings.survey_secret is not None:
        return hmac.new(settings.survey_secret.get_secret_value().encode(), _LABEL, hashlib.sha256).digest()
    cache_key = ("secret", settings.database_url)
    if cache_key in _CACHE:
        return _CACHE[cache_key]
    db_file = _sqlite_file(settings.database_url)
    if db_file is None:
        raise ConfigurationError(
            "attendance evidence needs EVIDENCE_SECRET (or SURVEY_SECRET) on a server database: "
            "set it outside the database, e.g. `openssl rand -hex 32`"
        )
    path = db_file.with_name(db_file.name + ".evidence-secret")
    if not path.exists():
        _write_private(path, secrets.token_hex(32).encode())
    _CACHE[cache_key] = path.read_text().strip().encode()
    return _CACHE[cache_key]


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def signing_key_path(settings: Settings) -> Path | None:
    """Where the signing key is (configured, or beside a SQLite file); None when there is none."""
    if settings.evidence_signing_key:
        return Path(settings.evidence_signing_key)
    db_file = _sqlite_file(settings.database_url)
    return None if db_file is None else db_file.with_name(db_file.name + ".evidence-key.pem")


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The Ed25519 key that signs checkpoints and packs (generated once beside a SQLite database)."""
    path = signing_key_path(settings)
    if path is None:
        raise ConfigurationError(
            "signed checkpoints need EVIDENCE_SIGNING_KEY: create one with `cohortbot evidence keygen`"
        )
    if not path.exists():
        if settings.evidence_signing_key:  # a configured path must exist: never invent a new key
            raise ConfigurationError(f"EVIDENCE_SIGNING_KEY: there is no key file at {path}")
        generate_keypair(path)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError(f"{path} is not an Ed25519 private key")
    return key


def generate_keypair(path: Path) -> tuple[Path, Path]:
    """Write a new Ed25519 private key (PEM, mode 0600) at `path` and its public key beside it."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write_private(path, private)
    public = public_key_path(path)
    public.write_bytes(public_pem(key.public_key()))
    return path, public


def public_key_path(private_path: Path) -> Path:
    return private_path.with_name(private_path.name.removesuffix(".pem") + ".pub.pem")


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key, in hex: short enough to read out over the phone."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()
