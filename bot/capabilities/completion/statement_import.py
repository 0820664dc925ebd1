"""Importing a file of xAPI statements (a JSON list, as an LRS exports them) through the same
validation, storage and mappings as `POST /xapi/statements`."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlmodel import col, select

from bot.capabilities.completion.csv_rows import ImportReport, cohort_language
from bot.capabilities.completion.models import XapiStatement
from bot.capabilities.completion.statements import StatementError, parse_statements
from bot.capabilities.completion.xapi_body import BadBody, decode_json
from bot.capabilities.completion.xapi_store import CHUNK, StatementConflict, receive_statements
from bot.core import i18n
from bot.core.settings import Settings
from bot.core.store import Store


async def import_statements(
    store: Store, settings: Settings, now: datetime, cohort_slug: str, text: str, *, skip_bad: bool = False
) -> ImportReport:
    """Statements name their own activities, so `cohort_slug` is not needed (but the report is
    written in its language); a bad statement stops the whole file (as the statements resource
    does), whatever `skip_bad` says."""
    report = ImportReport("statements", lang=await cohort_language(store, cohort_slug))
    try:
        body = decode_json(text.encode("utf-8"))
        if isinstance(body, dict) and isinstance(body.get("statements"), list):
            body = body["statements"]  # a GET /statements result, as LRSs export
        statements = parse_statements(body, now)
        ids = await receive_statements(store, settings, now, statements)
    except (BadBody, StatementError, StatementConflict) as e:
        with i18n.use(report.lang or i18n.current()):
            report.problem = i18n.translated(e.args[0]) if e.args else str(e)
        return report
    report.rows = len(ids)
    report.imported = True
    report.counts = await _outcomes(store, ids)
    return report


async def _outcomes(store: Store, ids: list[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    async with store.transaction() as session:
        for start in range(0, len(ids), CHUNK):
            rows = await session.exec(
                select(XapiStatement.outcome).where(
                    col(XapiStatement.statement_id).in_(ids[start : start + CHUNK])
                )
            )
            for outcome in rows.all():
                label = outcome.split(":", 1)[0]  # recorded, unchanged, not used, waiting, voided <id>
                counts["voided" if label.startswith("voided") else label] += 1
    return counts
