"""Signed checkpoints: every chain's head, its record count and the time, signed with Ed25519.

A checkpoint is only as good as the copy kept outside the database: each one is written as a file
(`EXPORT_DIR/evidence/checkpoints/`), its SHA-256 is sent to the trainers, and the audit pack carries
the latest. `evidence verify --checkpoint FILE` then shows what was cut off or rebuilt since.

The file is `{"checkpoint": BODY, "signature": HEX}`, where the signature is Ed25519 over the
canonical JSON of BODY (sorted keys, no spaces, UTF-8).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.attendance.evidence import canonical, session_digest
from bot.capabilities.attendance.keys import chain_secret, fingerprint, signing_key
from bot.capabilities.attendance.models import AttendanceSessionState, EvidenceCheckpoint
from bot.core.models import Cohort, LiveSession
from bot.core.settings import Settings

FORMAT = "cohortbot-checkpoint/1"


class InvalidCheckpoint(ValueError):
    """The file is not a checkpoint, or its signature does not match the public key."""


def iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def chain_heads(session: AsyncSession, secret: bytes) -> list[dict[str, Any]]:
    """Every non-empty chain: its session, cohort, the digest of its details, head position and hash."""
    rows = (
        await session.exec(
            select(AttendanceSessionState, LiveSession, Cohort)
            .join(LiveSession, col(LiveSession.id) == AttendanceSessionState.session_id)
            .join(Cohort, col(Cohort.id) == LiveSession.cohort_id)
            .where(AttendanceSessionState.head_seq > 0)
            .order_by(col(AttendanceSessionState.session_id))
        )
    ).all()
    return [
        {
            "session": state.session_id,
            "cohort": cohort.slug,
            "session_digest": session_digest(secret, cohort, live),
            "seq": state.head_seq,
            "head": state.head_hash,
            "records": state.head_seq,  # one record per position: the count the chain must keep
        }
        for state, live, cohort in rows
    ]


def sign(body: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    return {"checkpoint": body, "signature": key.sign(canonical(body)).hex()}


def file_bytes(signed: dict[str, Any]) -> bytes:
    return json.dumps(signed, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8") + b"\n"


def file_digest(signed: dict[str, Any]) -> str:
    """SHA-256 of the checkpoint's file: what the trainers are told, to recognise the file later."""
    return hashlib.sha256(file_bytes(signed)).hexdigest()


def open_signed(data: bytes, public_key: Ed25519PublicKey) -> dict[str, Any]:
    """The checkpoint's body, once its signature is checked against `public_key`."""
    try:
        signed = json.loads(data)
        body, signature = signed["checkpoint"], bytes.fromhex(signed["signature"])
        if body.get("format") != FORMAT:
            raise InvalidCheckpoint(f"unknown format {body.get('format')!r}")
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise InvalidCheckpoint(f"not a cohortbot checkpoint ({e})") from None
    try:
        public_key.verify(signature, canonical(body))
    except InvalidSignature:
        raise InvalidCheckpoint("its signature does not match the public key: it was altered") from None
    return dict(body)


async def take(
    session: AsyncSession, settings: Settings, now: datetime, reason: str, *, only_if_changed: bool = False
) -> tuple[EvidenceCheckpoint, dict[str, Any]] | None:
    """Sign the current heads, store a copy and write the file; None if unchanged (when asked)."""
    secret, key = chain_secret(settings), signing_key(settings)
    chains = await chain_heads(session, secret)
    previous = await latest(session)
    if only_if_changed and previous is not None and json.loads(previous.body)["chains"] == chains:
        return None
    body = {
        "format": FORMAT,
        "at": iso(now),
        "reason": reason,
        "chains": chains,
        "chain_count": len(chains),
        "records": sum(c["records"] for c in chains),
        "key": fingerprint(key.public_key()),
    }
    signed = sign(body, key)
    row = EvidenceCheckpoint(
        at=now,
        reason=reason,
        chains=len(chains),
        records=body["records"],
        body=canonical(body).decode("utf-8"),
        signature=signed["signature"],
        key_fingerprint=body["key"],
    )
    session.add(row)
    await session.flush()
    await asyncio.to_thread(write_file, signed, Path(settings.export_dir) / "evidence" / "checkpoints")
    return row, signed


def write_file(signed: dict[str, Any], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = signed["checkpoint"]["at"].replace(":", "").replace("-", "")
    path = folder / f"checkpoint-{stamp}.json"
    path.write_bytes(file_bytes(signed))
    return path


async def latest(session: AsyncSession) -> EvidenceCheckpoint | None:
    query = select(EvidenceCheckpoint).order_by(col(EvidenceCheckpoint.id).desc()).limit(1)
    return (await session.exec(query)).first()


def signed_of(row: EvidenceCheckpoint) -> dict[str, Any]:
    return {"checkpoint": json.loads(row.body), "signature": row.signature}
