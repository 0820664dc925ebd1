"""Read every row of every table, to prove a refused command changed nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlmodel import SQLModel

from bot.app.bootstrap import App

IGNORED = {"processed_inbound"}  # a refused command's event id is still remembered, on purpose


async def snapshot(app: App) -> dict[str, list[tuple[Any, ...]]]:
    rows: dict[str, list[tuple[Any, ...]]] = {}
    async with app.store.engine.connect() as conn:
        for name in sorted(SQLModel.metadata.tables):
            if name in IGNORED:
                continue
            result = await conn.execute(text(f'SELECT * FROM "{name}"'))
            rows[name] = sorted(tuple(r) for r in result.all())
    return rows
