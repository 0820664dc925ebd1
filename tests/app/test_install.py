"""The install the Dockerfile and the Makefile do, done for real: a fresh venv from
requirements.lock (hashes required), cohortbot installed from a copy of the source, then
`db upgrade`, `doctor` and `run` against a throwaway PostgreSQL.

It installs ~90 packages (from pip's cache or wheel directory when warm), which takes minutes on
two cores: it runs when COHORTBOT_INSTALL_TEST=1, as `.ci/run` does after `make test`."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.app.process import Running, environment

ROOT = Path(__file__).resolve().parents[2]
SOURCE_PARTS = (
    "bot",
    "adapters",
    "schedules",
    "manifest",
    "pyproject.toml",
    "README.md",
    "requirements.lock",
)

pytestmark = pytest.mark.skipif(
    os.environ.get("COHORTBOT_INSTALL_TEST") != "1", reason="set COHORTBOT_INSTALL_TEST=1 (run by .ci/run)"
)


async def step(*command: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 900)
    assert process.returncode == 0, f"{' '.join(command)} failed:\n{out.decode()[-3000:]}"
    return out.decode()


async def test_install_from_the_lock_and_run_on_postgres(tmp_path: Path, postgres_url: str) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for part in SOURCE_PARTS:
        origin = ROOT / part
        if origin.is_dir():
            shutil.copytree(origin, source / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(origin, source / part)
    venv = tmp_path / "venv"
    await step(sys.executable, "-m", "venv", str(venv), cwd=tmp_path)
    pip = str(venv / "bin" / "pip")
    await step(pip, "install", "-q", "--require-hashes", "--no-deps", "-r", "requirements.lock", cwd=source)
    await step(pip, "install", "-q", "--no-deps", "--no-build-isolation", "-e", ".", cwd=source)
    await step(pip, "check", cwd=source)  # the lock is complete: every requirement is met

    workdir = tmp_path / "run"
    workdir.mkdir()
    settings = {
        "DATABASE_URL": postgres_url,
        "ADMINS": "tina@acme.test",
        "XAPI_TOKEN": "x" * 40,
        "EVIDENCE_SECRET": "e" * 64,  # a server database refuses to start without one
    }
    env = {k: v for k, v in environment(workdir, **settings).items() if k != "PYTHONPATH"}
    cohortbot = str(venv / "bin" / "cohortbot")
    assert (await step(cohortbot, "db", "upgrade", cwd=workdir, env=env)).startswith("created the schema")
    doctor = await step(cohortbot, "doctor", cwd=workdir, env={**env, "SURVEY_SECRET": "s" * 40})
    assert doctor.splitlines()[0].startswith("✓ database:") and doctor.rstrip().endswith("all good")

    run = await Running.start(workdir, executable=cohortbot, **{**settings, "PYTHONPATH": ""})
    try:
        await run.wait_for_status("/healthz", 200, within=60)
        status, text = await run.get("/metrics")
        assert status == 200
        names = {family.name for family in text_string_to_metric_families(text)}
        assert {"cohortbot_outbox_messages", "cohortbot_sends"} <= names
    finally:
        assert await run.stop() == 0
    assert "Traceback" not in run.stderr
