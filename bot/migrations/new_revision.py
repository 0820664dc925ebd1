"""Write a new migration by comparing the models with a database upgraded to the current heads.

Usage: python -m bot.migrations.new_revision <rev_id> "<message>" [--branch <label>] [--base <rev>]
A capability starts its own branch from the core revision (--branch attendance --base 0001_core),
so capabilities developed side by side never fight over one linear history; the app upgrades "heads".
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy.engine import Connection

from bot.core.store import Store, alembic_config


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rev_id")
    parser.add_argument("message")
    parser.add_argument("--branch", default=None)
    parser.add_argument("--base", default=None, help="revision to branch from (with --branch)")
    args = parser.parse_args()

    async def go() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            store = await Store.open(f"sqlite:///{Path(tmp) / 'scratch.db'}", schema="migrate")

            def write(connection: Connection) -> None:
                cfg = alembic_config(connection)
                command.revision(
                    cfg,
                    message=args.message,
                    autogenerate=True,
                    rev_id=args.rev_id,
                    head=f"{args.base}" if args.base else "head",
                    branch_label=args.branch,
                    splice=bool(args.base),
                )

            async with store.engine.begin() as conn:
                await conn.run_sync(write)
            await store.close()

    asyncio.run(go())


if __name__ == "__main__":
    main()
