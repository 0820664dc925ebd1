"""One export folder layout, for every file cohortbot writes under `EXPORT_DIR`.

EXPORT_DIR/<cohort>/attendance/    sheets per session and half-day, per learner (CSV, PDF)
EXPORT_DIR/<cohort>/surveys/       survey answers (CSV)
EXPORT_DIR/<cohort>/report/        the training report's tables (CSV, XLSX)
EXPORT_DIR/<cohort>/charts/        report charts (PNG)
EXPORT_DIR/<cohort>/certificates/  certificates of completion (PDF)
EXPORT_DIR/<cohort>/audit/         audit packs (ZIP)
EXPORT_DIR/evidence/checkpoints/   signed evidence checkpoints (JSON), for the whole database
"""

from __future__ import annotations

from pathlib import Path

KINDS = ("attendance", "surveys", "report", "charts", "certificates", "audit")


def cohort_folder(export_dir: str | Path, cohort: str, kind: str) -> Path:
    """Where a cohort's files of one kind go."""
    if kind not in KINDS:
        raise ValueError(f"unknown export kind {kind!r}")
    return Path(export_dir) / cohort.lower() / kind
