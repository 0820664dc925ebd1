"""A throwaway local PostgreSQL server for benchmarks, from the machine's PostgreSQL binaries
(Debian's), with its default durability (fsync on), so its figures compare fairly with SQLite's.

    async with postgres_database() as url:  # None when no PostgreSQL binaries are installed
        ...
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.postgres import _as_postgres, _bin_dir, _free_port


@asynccontextmanager
async def postgres_database(name: str = "bench") -> AsyncIterator[str | None]:
    """A new server on a free loopback port and an empty database on it; its URL, or None."""
    import asyncpg

    bin_dir = _bin_dir()
    if bin_dir is None or (os.geteuid() == 0 and shutil.which("runuser") is None):
        yield None
        return
    workdir = Path(tempfile.mkdtemp(prefix="cohortbot-bench-pg-"))
    os.chmod(workdir, 0o777)
    data, port = workdir / "data", _free_port()
    pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data)]
    try:
        await _run([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"])
        options = f"-p {port} -c listen_addresses=127.0.0.1 -k {workdir}"
        await _run([*pg_ctl, "-o", options, "-w", "start", "-l", str(workdir / "log")])
        server = f"postgresql://postgres@127.0.0.1:{port}"
        conn = await asyncpg.connect(f"{server}/postgres")
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        yield f"{server}/{name}"
    finally:
        await _run([*pg_ctl, "-m", "fast", "stop"], check=False)
        shutil.rmtree(workdir, ignore_errors=True)


async def _run(args: list[str], *, check: bool = True) -> None:
    """Run a PostgreSQL tool as the postgres user, off the event loop."""
    await asyncio.to_thread(subprocess.run, _as_postgres(args), check=check, capture_output=True, timeout=120)
