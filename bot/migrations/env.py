"""Alembic environment: runs on the connection the app hands over, or opens one from DATABASE_URL."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

from bot.app.plugins import load_all
from bot.core.models import UTCDateTime
from bot.core.store import async_url

load_all()  # every capability's and adapter's tables
target_metadata = SQLModel.metadata


def render_item(type_: str, obj: object, autogen_context: object) -> Any:
    # Migrations must not import model code: render our column type as what it stores.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        render_item=render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_url(url: str) -> None:
    engine = create_async_engine(async_url(url))
    async with engine.begin() as conn:
        await conn.run_sync(_configure_and_run)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    _configure_and_run(connection)
else:
    from bot.core.settings import Settings

    asyncio.run(_run_with_url(context.config.get_main_option("sqlalchemy.url") or Settings().database_url))
