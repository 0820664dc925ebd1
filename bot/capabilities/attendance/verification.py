"""Verify every attendance chain, alone or against a signed checkpoint kept elsewhere.

Alone, with the chain secret, it catches any edit, insertion or deletion inside a chain, a chain
rebuilt without the secret, a session moved or retitled, and personal fields blanked without an
erasure record. What only a checkpoint catches: records cut off the end of a chain (with its head
rolled back), a session deleted with its records and head, and anything rewritten by someone who
also holds the chain secret, as long as it happened before the checkpoint was taken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.attendance.evidence import (
    ERASURE_AUTH,
    GENESIS,
    PERSONAL_FIELDS,
    person_digest,
    record_hash,
    session_digest,
)
from bot.capabilities.attendance.keys import chain_secret, settings_of
from bot.capabilities.attendance.models import AttendanceRecord, AttendanceSessionState
from bot.core.i18n import N_, _, _n
from bot.core.models import Cohort, LiveSession

# What happened to a chain, as a verification report names it (capitals: it heads the line).
KINDS = {
    "edited": N_("EDITED"),
    "inserted": N_("INSERTED"),
    "deleted": N_("DELETED"),
    "rewritten": N_("REWRITTEN"),
    "session": N_("SESSION"),
    "erased": N_("ERASED"),
}


@dataclass(frozen=True)
class Problem:
    kind: str  # edited | inserted | deleted | rewritten | session | erased
    session_id: int
    record_id: int | None
    detail: str  # in the language being written in when the problem was found

    def __str__(self) -> str:
        where = (
            _("record {id}", id=self.record_id)
            if self.record_id is not None
            else _("session {id}", id=self.session_id)
        )
        kind = _(KINDS[self.kind]) if self.kind in KINDS else self.kind.upper()
        return _("{kind}: {where}: {detail}", kind=kind, where=where, detail=self.detail)


def records(n: int) -> str:
    return _n("{n} attendance record", "{n} attendance records", n)


def chains(n: int) -> str:
    return _n("{n} session chain", "{n} session chains", n)


def summary(result: Verification, problems: int) -> str:
    """A verification in one line: "OK: 3 attendance records in 1 session chain", or how many
    problems it found instead of OK (the language being written in)."""
    verdict = _("OK") if not problems else _n("{n} problem", "{n} problems", problems)
    return _(
        "{verdict}: {records} in {chains}",
        verdict=verdict,
        records=records(result.records),
        chains=chains(result.chains),
    )


@dataclass
class Verification:
    records: int = 0
    chains: int = 0
    problems: list[Problem] = field(default_factory=list)
    heads: dict[int, str] = field(default_factory=dict)  # session id -> head hash
    # session id -> the hash at each position (index 0 is seq 1), as found in the database
    hashes: dict[int, list[str]] = field(default_factory=dict)
    digests: dict[int, str] = field(default_factory=dict)  # session id -> digest of its details now

    @property
    def ok(self) -> bool:
        return not self.problems


async def verify(session: AsyncSession, secret: bytes | None = None) -> Verification:
    """Walk every session's chain and report, per chain, the first record that breaks it
    (`secret`: the chain secret, else found from the environment's settings)."""
    secret = secret if secret is not None else chain_secret(await settings_of(session))
    result = Verification()
    heads = {s.session_id: s for s in (await session.exec(select(AttendanceSessionState))).all()}
    rows = (
        await session.exec(
            select(AttendanceRecord).order_by(
                col(AttendanceRecord.session_id), col(AttendanceRecord.seq), col(AttendanceRecord.id)
            )
        )
    ).all()
    by_session: dict[int, list[AttendanceRecord]] = {}
    for row in rows:
        by_session.setdefault(row.session_id, []).append(row)
    result.records = len(rows)
    lives = {
        live.id or 0: (live, cohort)
        for live, cohort in (
            await session.exec(
                select(LiveSession, Cohort).join(Cohort, col(Cohort.id) == LiveSession.cohort_id)
            )
        ).all()
    }
    for live, cohort in lives.values():
        result.digests[live.id or 0] = session_digest(secret, cohort, live)
    for session_id in sorted(set(by_session) | {s for s, h in heads.items() if h.head_seq}):
        result.chains += 1
        head = heads.get(session_id)
        chain = by_session.get(session_id, [])
        if head is not None:
            result.heads[session_id] = head.head_hash
        result.hashes[session_id] = [r.hash for r in chain]
        problem = _check_chain(secret, session_id, chain, head) or _check_details(
            session_id, chain, result.digests.get(session_id)
        )
        if problem is None:
            problem = _check_personal(secret, session_id, chain)
        if problem is not None:
            result.problems.append(problem)
    return result


def _check_chain(
    secret: bytes, session_id: int, rows: list[AttendanceRecord], head: AttendanceSessionState | None
) -> Problem | None:
    head_seq = head.head_seq if head is not None else 0
    prev_hash, prev_id, expected = GENESIS, None, 1
    for i, row in enumerate(rows):
        later_id = rows[i + 1].id if i + 1 < len(rows) else None
        if row.seq < expected:
            return Problem(
                "inserted", session_id, row.id, _("it repeats position #{seq} of the chain", seq=row.seq)
            )
        if row.seq > head_seq:
            return Problem(
                "inserted",
                session_id,
                row.id,
                _("position #{seq} is past the chain head (#{head})", seq=row.seq, head=head_seq),
            )
        if row.seq > expected:
            gap = f"#{expected}" if row.seq == expected + 1 else f"#{expected}-#{row.seq - 1}"
            return Problem("deleted", session_id, row.id, _("record(s) {gap} before it are missing", gap=gap))
        if record_hash(secret, row) != row.hash:
            # Rows are appended in id order, so a row with a later id than its successor came afterwards.
            kind = "inserted" if later_id is not None and (row.id or 0) > later_id else "edited"
            return Problem(kind, session_id, row.id, _("its content does not match its hash"))
        if row.prev_hash != prev_hash:
            return Problem(
                "edited",
                session_id,
                prev_id if prev_id is not None else row.id,
                _("the next record ({id}) was chained to a different hash: it was rewritten", id=row.id),
            )
        prev_hash, prev_id, expected = row.hash, row.id, expected + 1
    last = expected - 1
    if head is None:
        return Problem("deleted", session_id, None, _("the chain head is missing")) if rows else None
    if head_seq > last:
        gap = f"#{last + 1}" if head_seq == last + 1 else f"#{last + 1}-#{head_seq}"
        return Problem("deleted", session_id, prev_id, _("record(s) {gap} after it are missing", gap=gap))
    if last and head.head_hash != prev_hash:
        return Problem("edited", session_id, prev_id, _("it no longer matches the chain head's hash"))
    return None


def _check_details(session_id: int, rows: list[AttendanceRecord], digest: str | None) -> Problem | None:
    """The session's cohort, title, start, end and place must be what its records were chained with."""
    if rows and digest is None:
        return Problem("deleted", session_id, None, _("the session itself is missing; its records remain"))
    for row in rows:
        if row.chain_version >= 2 and row.session_digest != digest:
            return Problem(
                "session",
                session_id,
                None,
                _(
                    "its cohort, title, start, end or place changed after record #{seq} was chained",
                    seq=row.seq,
                ),
            )
    return None


def _check_personal(secret: bytes, session_id: int, rows: list[AttendanceRecord]) -> Problem | None:
    """Personal fields match their digest, or were erased with an erasure record after them."""
    erased_people = {r.person_id for r in rows if r.auth == ERASURE_AUTH}
    for row in rows:
        if row.chain_version < 2:
            continue
        if row.erased:
            blank = all(not getattr(row, name) for name in PERSONAL_FIELDS)
            if not blank or row.person_id not in erased_people:
                return Problem(
                    "erased",
                    session_id,
                    row.id,
                    _("its personal fields were removed without an erasure record"),
                )
        elif person_digest(secret, row) != row.person_digest:
            return Problem("edited", session_id, row.id, _("its name, platform ids or reason were changed"))
    return None


def compare(result: Verification, checkpoint: dict[str, Any]) -> list[Problem]:
    """What the database lost or rewrote since a (signature-checked) checkpoint was taken."""
    problems = []
    taken = checkpoint["at"]
    for entry in checkpoint["chains"]:
        sid, seq, head = int(entry["session"]), int(entry["seq"]), entry["head"]
        hashes = result.hashes.get(sid, [])
        if not hashes:
            detail = _("the checkpoint of {at} holds {n} records; the database has none", at=taken, n=seq)
            problems.append(Problem("deleted", sid, None, detail))
        elif len(hashes) < seq:
            detail = _(
                "the checkpoint of {at} holds {n} records; the chain now has {now}",
                at=taken,
                n=seq,
                now=len(hashes),
            )
            problems.append(Problem("deleted", sid, None, detail))
        elif hashes[seq - 1] != head:
            detail = _(
                "record #{seq} differs from the checkpoint of {at}: the chain was rebuilt", seq=seq, at=taken
            )
            problems.append(Problem("rewritten", sid, None, detail))
        elif result.digests.get(sid) != entry["session_digest"]:
            detail = _(
                "its cohort, title, start, end or place changed since the checkpoint of {at}", at=taken
            )
            problems.append(Problem("session", sid, None, detail))
    return problems
