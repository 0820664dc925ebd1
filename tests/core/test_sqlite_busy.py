"""Another process holding SQLite's write lock does not freeze the event loop: the wait happens
off the loop (other work, such as `/healthz`, goes on), the command completes once the lock is
released, and a lock held too long ends in a clear error instead of a 30-second stall."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot.core import sqlite_inline
from tests.conftest import Chat
from tests.core.sqlite_lock_support import longest_stall, write_lock_held


def _db(chat: Chat) -> Path:
    return Path(chat.app.settings.database_url.removeprefix("sqlite:///"))


async def test_a_locked_database_is_waited_for_off_the_loop(chat: Chat) -> None:
    await chat.say("tina", "list")  # the schema and tina exist
    with write_lock_held(_db(chat), 2.0):
        started = time.perf_counter()
        work = asyncio.create_task(chat.say("tina", "create spoc"))
        stall = await longest_stall(work)
        answer, took = await work, time.perf_counter() - started
    assert "Created cohort *spoc*" in answer
    assert took > 1.0  # it did wait for the other process
    assert stall < 0.5, f"the event loop froze for {stall:.2f} s"


async def test_a_lock_held_too_long_fails_with_a_clear_error(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    await chat.say("tina", "list")
    monkeypatch.setattr(sqlite_inline, "BUSY_WAIT", 0.5)
    with write_lock_held(_db(chat), 2.0):
        work = asyncio.create_task(chat.say("tina", "create spoc"))
        stall = await longest_stall(work)
        assert "Nothing was changed: try again in a minute" in await work
    assert stall < 0.5
    assert "Created cohort" in await chat.say("tina", "create spoc")  # and all is well afterwards
