"""On PostgreSQL, several delivery workers claim side by side (FOR UPDATE SKIP LOCKED): each
message goes out once, order per learner is kept. Runs against a throwaway local cluster when
PostgreSQL's binaries are installed; skipped otherwise."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app.bootstrap import build
from bot.core.clock import SimulatedClock
from bot.core.delivery import SendResult, Target, claim_query
from bot.core.messages import Message
from bot.core.settings import Settings
from tests.conftest import START
from tests.core.test_delivery_crash import LEARNERS, queue_messages


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(candidates[-1]) if candidates else None


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL is not installed")
    # Not under pytest's own temp folder: the postgres user must be able to reach it.
    base = Path(tempfile.mkdtemp(prefix="cohortbot-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        if not shutil.which("runuser"):
            pytest.skip("running as root without runuser")
        shutil.chown(base, user="postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = str(54000 + os.getpid() % 900)
    data = base / "data"
    try:
        subprocess.run(
            [*as_user, initdb, "-D", str(data), "-A", "trust", "-U", "cohort"],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                *as_user,
                pg_ctl,
                "-D",
                str(data),
                "-w",
                "-l",
                str(base / "log"),
                "-o",
                f"-k {base} -p {port} -c listen_addresses=''",
                "start",
            ],
            check=True,
            capture_output=True,
        )
    except (subprocess.CalledProcessError, OSError) as e:
        pytest.skip(f"cannot start a PostgreSQL cluster: {e}")
    yield f"postgresql://cohort@/postgres?host={base}&port={port}"
    subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
    shutil.rmtree(base, ignore_errors=True)


class SlowPlatform:
    def __init__(self, name: str, accepted: list[tuple[str, str]]) -> None:
        self.name, self.accepted = name, accepted

    async def send(self, target: Target, message: Message) -> SendResult:
        await asyncio.sleep(0.002)
        self.accepted.append((self.name, target.key))
        return SendResult(message_id=target.key)

    async def update(
        self, target: Target, message_id: str, channel_id: str | None, message: Message
    ) -> SendResult:
        return SendResult(message_id=message_id)


async def test_two_workers_share_the_outbox_without_doubles(postgres_url: str) -> None:
    clock = SimulatedClock(START)
    accepted: list[tuple[str, str]] = []
    app = await build(
        Settings(database_url=postgres_url), {"console": SlowPlatform("a", accepted)}, clock
    )  # migrations
    keys = await queue_messages(app)
    other = await build(
        Settings(database_url=postgres_url), {"console": SlowPlatform("b", accepted)}, clock, schema="none"
    )
    app.worker.batch = other.worker.batch = 7  # small claims, so the two workers interleave
    app.worker._claim_query = other.worker._claim_query = claim_query(7)
    await asyncio.gather(app.worker.drain(), other.worker.drain())
    delivered = [key for _, key in accepted]
    assert sorted(delivered) == sorted(keys)
    assert not [k for k, n in Counter(delivered).items() if n > 1]
    assert {worker for worker, _ in accepted} == {"a", "b"}
    for name in LEARNERS:
        mine = [k for k in delivered if k.startswith(f"msg:{name}:")]
        assert mine == sorted(mine)
    await other.close()
    await app.close()


async def test_reminders_plan_and_fan_out_on_postgres(postgres_url: str) -> None:
    from datetime import timedelta

    from tests.conftest import Chat, RecordingSender

    clock = SimulatedClock(START)
    sender = RecordingSender()
    app = await build(Settings(database_url=postgres_url), {"console": sender}, clock, schema="none")
    chat = Chat(app)
    await chat.say("tina", "create pg tz=Europe/Paris")
    await chat.say("tina", "enroll pg l00 l01 l02")
    await chat.say("tina", 'session pg "On Postgres" 2027-03-03 14:00 60m')
    clock.advance(timedelta(days=1, hours=6))  # Tuesday 13:00 UTC: the day-before reminder is due
    assert [outcome for _, outcome in await app.runner.tick()] == ["fired"]
    await app.worker.drain()
    assert [m.summary for m in sender.to("l01")][-1].startswith("Reminder: *On Postgres*")
    assert "sent" in await chat.say("tina", "reminders pg")
    await app.close()


async def test_only_one_instance_runs_the_scheduler(postgres_url: str) -> None:
    from schedules.runner import run

    clock = SimulatedClock(START)
    first = await build(Settings(database_url=postgres_url), {}, clock, schema="none")
    second = await build(Settings(database_url=postgres_url), {}, clock, schema="none")
    elected: list[str] = []
    task_a = asyncio.create_task(
        run(first.runner, resync_seconds=0.1, on_elected=lambda _: elected.append("a"))
    )
    for _ in range(100):
        if elected:
            break
        await asyncio.sleep(0.02)
    task_b = asyncio.create_task(
        run(second.runner, resync_seconds=0.1, on_elected=lambda _: elected.append("b"))
    )
    await asyncio.sleep(0.5)
    assert elected == ["a"]  # b waits: a job store must not be shared
    task_a.cancel()  # instance a dies: its connection, and so its lock, go away
    await asyncio.gather(task_a, return_exceptions=True)
    for _ in range(100):
        if len(elected) == 2:
            break
        await asyncio.sleep(0.02)
    assert elected == ["a", "b"]
    task_b.cancel()
    await asyncio.gather(task_b, return_exceptions=True)
    await first.close()
    await second.close()
