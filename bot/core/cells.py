"""Spreadsheet cells that stay text: one guard for every CSV and XLSX export.

A spreadsheet treats a cell starting with `=`, `+`, `-` or `@` (and, in some, a tab or carriage
return) as a formula, and openpyxl stores `=...` as a live one: a learner named `=HYPERLINK(...)`
or a free-text answer could run in the trainer's spreadsheet. Such text gets a leading apostrophe
(OWASP's advice), which spreadsheets show as text. Numbers are left alone: they are no formula.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`value`, neutralised if it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in row]


def safe_rows(rows: Iterable[Iterable[Any]]) -> list[list[Any]]:
    return [safe_row(r) for r in rows]
