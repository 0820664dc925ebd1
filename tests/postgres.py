"""A throwaway PostgreSQL server for tests, started from the machine's PostgreSQL binaries.

Tests that use it are skipped when no PostgreSQL server binaries are installed.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(args: list[str]) -> list[str]:
    # initdb refuses to run as root: run the server as the postgres user when we are root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Start a server on a free loopback port; yields its base URL (no database name)."""
    try:
        server = throwaway_postgres()
        url = next(server)
    except RuntimeError as e:
        pytest.skip(str(e))
    yield url
    next(server, None)


def throwaway_postgres() -> Iterator[str]:
    """The server as a plain generator (benchmarks use it too): yields the URL, stops on resume.
    Raises RuntimeError when no server can be started here."""
    bin_dir = _bin_dir()
    if bin_dir is None or (os.geteuid() == 0 and shutil.which("runuser") is None):
        raise RuntimeError("no PostgreSQL server binaries on this machine")
    workdir = Path(tempfile.mkdtemp(prefix="cohortbot-pg-"))
    os.chmod(workdir, 0o777)
    data = workdir / "data"
    port = _free_port()
    try:
        subprocess.run(
            _as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]),
            check=True,
            capture_output=True,
            timeout=120,
        )
        options = f"-p {port} -c listen_addresses=127.0.0.1 -k {workdir} -c fsync=off"
        subprocess.run(
            _as_postgres(
                [
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-o",
                    options,
                    "-w",
                    "start",
                    "-l",
                    str(workdir / "log"),
                ]
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )
    except (subprocess.CalledProcessError, FileNotFoundError, subprocess.TimeoutExpired) as e:
        shutil.rmtree(workdir, ignore_errors=True)
        raise RuntimeError(f"could not start PostgreSQL: {e}") from e
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(workdir, ignore_errors=True)


_counter = iter(range(1, 10_000))


@pytest.fixture
async def postgres_url(postgres_server: str) -> str:
    """A fresh, empty database on the throwaway server."""
    import asyncpg

    name = f"t{os.getpid()}_{next(_counter)}"
    conn = await asyncpg.connect(f"{postgres_server}/postgres")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"{postgres_server}/{name}"
