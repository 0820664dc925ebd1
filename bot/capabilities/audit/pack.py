"""Build a cohort's audit pack: everything an auditor asks for, in one signed ZIP.

Layout of the pack (see verify.py for how it is checked):

    attendance/    sheets per session and per half-day (CSV, PDF), and per learner
    hours/         hours attended per learner (CSV)
    certificates/  certificates of completion (PDF)
    follow-up/     the reminder log, absent and late learners and how they were followed up, dropouts
    surveys/       satisfaction per survey with the reminders that chased answers, and the answers
    evidence/      the latest signed checkpoint, the chains' verification against it, the public key
    README.txt     what the pack holds and how to check it; VERIFY.py: the reference checker
    MANIFEST.json  every file's SHA-256; MANIFEST.sig: its Ed25519 signature (hex)
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.attendance import checkpoints, exports
from bot.capabilities.attendance.keys import chain_secret, fingerprint, public_pem, signing_key
from bot.capabilities.attendance.sheets import cohort_sheets, learner_summaries
from bot.capabilities.attendance.verification import compare, summary, verify
from bot.capabilities.audit import followup
from bot.capabilities.audit import verify as verifier
from bot.capabilities.reports.certificates import Issuer, certificates, course_title, write_certificate
from bot.core import i18n
from bot.core.i18n import _
from bot.core.models import Activity, Cohort
from bot.core.settings import Settings

FORMAT = "cohortbot-audit-pack/1"


@dataclass(frozen=True)
class Pack:
    path: Path
    files: int
    key_fingerprint: str
    verification: str  # the chains' verification against the pack's checkpoint, in one line


async def as_of(session: AsyncSession, cohort: Cohort, now: datetime) -> datetime:
    """Now, or the cohort's last recorded activity if the database's clock ran ahead (the demo's)."""
    last = (await session.exec(select(func.max(Activity.at)).where(Activity.cohort_id == cohort.id))).one()
    return max(now, last) if last is not None else now


def csv_bytes(table: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(table)
    return out.getvalue().encode("utf-8")


async def build(
    session: AsyncSession,
    settings: Settings,
    cohort: Cohort,
    now: datetime,
    out: Path,
    course: str | None = None,
) -> Pack:
    """Write the pack of `cohort` to `out` (a .zip), signed with the evidence signing key; in the
    cohort's language, since its documents are for an auditor of that training."""
    with i18n.use(cohort.lang):
        return await _build(session, settings, cohort, now, out, course)


async def _build(
    session: AsyncSession,
    settings: Settings,
    cohort: Cohort,
    now: datetime,
    out: Path,
    course: str | None,
) -> Pack:
    key = signing_key(settings)
    files: dict[str, bytes] = {}
    sheets = await cohort_sheets(session, cohort)
    summaries = learner_summaries(sheets)
    issuer = Issuer(settings.provider_name, settings.provider_id)
    found = await certificates(session, cohort, now, issuer, course)
    slug = cohort.slug
    files[f"hours/{slug}-hours-by-learner.csv"] = csv_bytes(
        [
            [
                _("Learner"),
                _("Platform id"),
                _("Sessions held"),
                _("Sessions expected"),
                _("Attended"),
                _("Hours attended"),
            ],
            *(
                [
                    s.name,
                    s.platform_id,
                    str(s.held),
                    str(s.expected),
                    str(s.counts["present"] + s.counts["late"]),
                    f"{s.hours:.2f}",
                ]
                for s in summaries
            ),
        ]
    )
    files[f"follow-up/{slug}-reminder-log.csv"] = csv_bytes(await followup.reminder_log(session, cohort))
    files[f"follow-up/{slug}-absent-and-late-follow-up.csv"] = csv_bytes(
        await followup.absent_and_late(session, cohort, sheets)
    )
    files[f"follow-up/{slug}-dropouts.csv"] = csv_bytes(await followup.dropouts(session, cohort))
    table, answers = await followup.satisfaction(session, cohort)
    files[f"surveys/{slug}-satisfaction.csv"] = csv_bytes(table)
    files.update(
        {f"surveys/{slug}-{name}-answers.csv": text.encode("utf-8") for name, text in answers.items()}
    )

    latest = await checkpoints.latest(session)
    if latest is None:  # nothing signed yet: sign now, so the pack carries the state it was built from
        taken = await checkpoints.take(session, settings, now, "audit pack")
        assert taken is not None
        signed = taken[1]
    else:
        signed = checkpoints.signed_of(latest)
    result = await verify(session, chain_secret(settings))
    problems = [*result.problems, *compare(result, signed["checkpoint"])]
    report = [
        _(
            "{summary}, checked against the checkpoint of {at} at {now}",
            summary=summary(result, len(problems)),
            at=signed["checkpoint"]["at"],
            now=checkpoints.iso(now),
        ),
        *(_("FAIL {problem}", problem=p) for p in problems),
    ]
    files["evidence/checkpoint.json"] = checkpoints.file_bytes(signed)
    files["evidence/verification.txt"] = ("\n".join(report) + "\n").encode("utf-8")
    files[verifier.PACKED_KEY] = public_pem(key.public_key())
    files["README.txt"] = _readme(
        cohort, course or course_title(cohort), issuer, fingerprint(key.public_key())
    )
    files["VERIFY.py"] = await asyncio.to_thread(Path(verifier.__file__).read_bytes)

    manifest = {
        "format": FORMAT,
        "cohort": slug,
        "course": course or course_title(cohort),
        "issuer": {"name": issuer.name, "registration": issuer.registration},
        "created_at": checkpoints.iso(now),
        "key": fingerprint(key.public_key()),
        "files": {},
    }
    await asyncio.to_thread(_render_documents, files, sheets, summaries, found, cohort, now)
    manifest["files"] = {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}
    manifest_bytes = json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8")
    files[verifier.MANIFEST] = manifest_bytes
    files[verifier.SIGNATURE] = key.sign(manifest_bytes).hex().encode("ascii")
    await asyncio.to_thread(_write_zip, out, files)
    return Pack(out, len(files), str(manifest["key"]), report[0])


def _render_documents(
    files: dict[str, bytes],
    sheets: list[Any],
    summaries: list[Any],
    found: list[Any],
    cohort: Cohort,
    now: datetime,
) -> None:
    """The PDFs and the attendance CSVs, drawn in a worker thread (fpdf is CPU-bound)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for path in exports.export_cohort_sheets(sheets, cohort, folder / "attendance", now):
            files[f"attendance/{path.name}"] = path.read_bytes()
        for certificate in found:
            path = write_certificate(certificate, folder / "certificates", now)
            files[f"certificates/{path.name}"] = path.read_bytes()


def _write_zip(out: Path, files: dict[str, bytes]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as pack:
        for name, data in sorted(files.items()):
            pack.writestr(name, data)


def _readme(cohort: Cohort, course: str, issuer: Issuer, key: str) -> bytes:
    """What the pack holds and how to check it, in the cohort's language (the auditor's)."""
    text = _(
        """Audit pack of cohort {cohort}: {course}
Issued by {issuer},
registration {registration}.

attendance/    attendance sheets per session and per half-day (CSV and PDF), and per learner
hours/         hours attended per learner: the whole session when present, from the check-in
               to the end when late
certificates/  certificates of completion (PDF)
follow-up/     every reminder sent (or why not), each absence or late arrival and how it was
               followed up, and the learners who dropped out
surveys/       satisfaction per survey, with the reminders sent to those who had not answered,
               and the answers (anonymous surveys without names)
evidence/      the latest signed checkpoint of the attendance chains, their verification against
               it when the pack was built, and the organisation's public key

How to check this pack, offline:
  cohortbot audit verify THIS.zip --public-key organisation.pub.pem
or run VERIFY.py (Python with the `cryptography` package), or rewrite it: MANIFEST.json lists
every other file with its SHA-256; MANIFEST.sig is the Ed25519 signature (hex) of the exact bytes
of MANIFEST.json. Use the public key the organisation gave you; its SHA-256 fingerprint
(of the raw 32-byte key) is {key}.
""",
        cohort=cohort.slug,
        course=course,
        issuer=issuer.name or _("(PROVIDER_NAME not set)"),
        registration=issuer.registration or _("(PROVIDER_ID not set)"),
        key=key,
    )
    return text.encode("utf-8")
