"""The long-running process: inbound adapters, the scheduler and outbox delivery, together."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator

from bot.bootstrap import App, build
from bot.settings import Settings

log = logging.getLogger(__name__)

TICK_SECONDS = 30.0


async def run_scheduler(app: App) -> None:
    """Fire due events; a stand-in loop until the APScheduler runner takes over."""
    while True:
        try:
            await app.runner.tick()
        except Exception:
            log.exception("scheduler tick failed")
        await asyncio.sleep(TICK_SECONDS)


async def serve(settings: Settings, *, force_console: bool = False) -> None:
    if force_console or not (settings.slack_enabled or settings.teams_enabled):
        await serve_console(settings)
        return
    raise SystemExit("Slack and Teams adapters are not available in this build yet.")


async def serve_console(settings: Settings) -> None:
    from adapters.console.chat import USAGE, ConsoleChat, ConsoleSender, run_lines

    chat = ConsoleChat(out=sys.stdout)
    app = await build(settings, {"console": ConsoleSender(chat)})
    interactive = sys.stdin.isatty()
    if interactive:
        print(f"cohortbot console ({settings.database_url}). {USAGE}")
    scheduler = asyncio.create_task(run_scheduler(app))
    try:
        await run_lines(app.engine, chat, stdin_lines("> " if interactive else ""), app.worker.drain)
        await app.runner.tick()
        await app.worker.drain()
    finally:
        scheduler.cancel()
        await app.close()


async def stdin_lines(prompt: str) -> AsyncIterator[str]:
    """Lines from the terminal or a pipe, read off the event loop so the scheduler keeps running."""
    while True:
        if prompt:
            print(prompt, end="", flush=True)
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            return
        yield line
