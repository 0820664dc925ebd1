"""Running `cohortbot` as a real process (python -m bot.app.cli) with a chosen environment."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
# Settings a developer's shell or .env could carry into the child: each test sets its own.
SETTINGS_PREFIXES = ("SLACK_", "MICROSOFT_", "TEAMS_", "XAPI_", "SURVEY_", "DATABASE_", "ADMINS", "LOG_")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(cwd: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETTINGS_PREFIXES)}
    return {**env, "PYTHONPATH": str(ROOT), "EXPORT_DIR": str(cwd / "exports"), **settings}


@dataclass
class Finished:
    code: int
    stdout: str
    stderr: str


async def run_cli(cwd: Path, *args: str, within: float = 60, **settings: str) -> Finished:
    """Run one command to its end."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.app.cli",
        *args,
        cwd=cwd,
        env=environment(cwd, **settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), within)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    return Finished(int(process.returncode or 0), out.decode(), err.decode())


class Running:
    """`cohortbot run` in the background: its stderr is collected while it runs."""

    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.port = port
        self.stderr = ""
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, cwd: Path, *, executable: str | None = None, **settings: str) -> Running:
        """`cohortbot run` from this source tree, or as the `executable` an install made."""
        port = free_port()
        command = [executable] if executable else [sys.executable, "-m", "bot.app.cli"]
        process = await asyncio.create_subprocess_exec(
            *command,
            "run",
            cwd=cwd,
            env=environment(cwd, PORT=str(port), **settings),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(process, port)

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for line in self.process.stderr:
            self.stderr += line.decode()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def get(self, path: str) -> tuple[int, str]:
        async with aiohttp.ClientSession() as http, http.get(self.url + path) as response:
            return response.status, await response.text()

    async def wait_for_status(self, path: str, status: int, within: float = 30) -> str:
        """Poll until `path` answers `status`; returns the body."""
        deadline = asyncio.get_running_loop().time() + within
        while asyncio.get_running_loop().time() < deadline:
            if self.process.returncode is not None:
                raise AssertionError(f"cohortbot exited {self.process.returncode}: {self.stderr}")
            try:
                got, body = await self.get(path)
                if got == status:
                    return body
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
        raise AssertionError(f"{path} never answered {status}; stderr: {self.stderr}")

    async def wait_for_log(self, text: str, within: float = 30) -> None:
        deadline = asyncio.get_running_loop().time() + within
        while text not in self.stderr:
            if asyncio.get_running_loop().time() > deadline or self.process.returncode is not None:
                raise AssertionError(f"never logged {text!r}: {self.stderr}")
            await asyncio.sleep(0.1)

    async def exit_code(self, within: float = 30) -> int:
        code = await asyncio.wait_for(self.process.wait(), within)
        await self._reader
        return code

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return await self.exit_code()
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise
