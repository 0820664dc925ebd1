"""`cohortbot import learners|completions FILE`: read the file, open DATABASE_URL, run the import.

A completions file is a CSV, or a JSON file of xAPI statements (an LMS or LRS export, `.json`):
those go through the same path as `POST /xapi/statements`, all or nothing. The report is in the
cohort's language; a file that cannot be read is said so before the database is opened (in the
current language).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.capabilities.completion.completion_import import import_completions
from bot.capabilities.completion.csv_rows import ImportReport
from bot.capabilities.completion.learner_import import import_learners
from bot.capabilities.completion.statement_import import import_statements
from bot.core.clock import SystemClock
from bot.core.i18n import _
from bot.core.settings import Settings
from bot.core.store import Store


def import_file(
    kind: str, path: Path, cohort_slug: str, settings: Settings, *, skip_bad: bool
) -> ImportReport:
    """What `cohortbot import learners|completions FILE` runs, against DATABASE_URL."""
    report = ImportReport(kind)
    try:
        text = path.read_bytes().decode("utf-8-sig")  # Excel writes a byte-order mark
    except OSError as e:
        report.problem = _("Cannot read {path}: {reason}.", path=str(path), reason=e.strerror)
        return report
    except UnicodeDecodeError:
        report.problem = _("{path} is not UTF-8 text: export the CSV as UTF-8.", path=str(path))
        return report
    importer = import_learners if kind == "learners" else import_completions
    if kind == "completions" and (path.suffix.lower() == ".json" or text.lstrip().startswith(("[", "{"))):
        importer = import_statements

    async def run() -> ImportReport:
        store = await Store.open(settings.database_url, schema="migrate")
        try:
            return await importer(store, settings, SystemClock().now(), cohort_slug, text, skip_bad=skip_bad)
        finally:
            await store.close()

    return asyncio.run(run())
