"""The long-running process: inbound adapters, the scheduler and outbox delivery, together.

Adapters plug in through `attach(app, web)` functions: they add their routes to the shared
aiohttp application (one HTTP server on PORT), register their outbox Sender, and may start
background tasks (Socket Mode). They return an async cleanup callable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from bot.app.bootstrap import App, build
from bot.capabilities.attendance.keys import chain_secret
from bot.core.settings import Settings

log = logging.getLogger(__name__)

Cleanup = Callable[[], Awaitable[None]]
READY = web.AppKey("ready", bool)


async def run_scheduler(app: App) -> None:
    """Fire planned events on time: the APScheduler runner (one job per cohort event)."""
    from schedules.runner import run

    await run(app.runner)


def start_identity_lookups(app: App) -> asyncio.Task[None]:
    """Resolve people enrolled by email on every attached platform, now and then periodically."""
    from bot.capabilities.reach.resolver import IdentityResolver

    resolver = IdentityResolver(app.store, app.clock, app.settings, app.directories)
    return asyncio.create_task(resolver.run_forever(app.settings.identity_lookup_every))


async def start_delivery(app: App) -> asyncio.Task[None]:
    """Deliver the outbox in the background; on SQLite (one instance) first resend what a crash
    left half-sent, without waiting for the lease."""
    if app.store.is_sqlite:
        recovered = await app.worker.recover()
        if recovered:
            log.warning(
                "%d outbox rows were being sent when the process stopped: sending them again", recovered
            )
    return asyncio.create_task(app.worker.run_forever())


PURGE_EVERY = 3600.0  # seconds between two retention purges


async def purge_regularly(app: App, every: float = PURGE_EVERY) -> None:
    """Apply RETENTION_DAYS now and every hour (several instances may all run it: it is idempotent)."""
    from bot.core.privacy import purge_expired

    while app.settings.retention_days:
        try:
            purged = await purge_expired(app.store, app.settings, app.clock.now())
            if any(purged.values()):
                log.info("retention purge: %s", purged)
        except Exception:  # a busy or unreachable database: next time
            log.exception("retention purge failed")
        await asyncio.sleep(every)


def web_application(app: App) -> web.Application:
    """The HTTP application every adapter adds its routes to; `/healthz` answers once all are attached."""
    webapp = web.Application()
    webapp[READY] = False

    async def healthz(_: web.Request) -> web.Response:
        if not webapp[READY]:
            return web.json_response({"status": "starting"}, status=503)
        return web.json_response({"status": "ok"})

    webapp.router.add_get("/healthz", healthz)
    return webapp


async def attach_adapters(app: App, webapp: web.Application) -> list[Cleanup]:
    """Attach every adapter whose settings are present."""
    cleanups: list[Cleanup] = []
    settings = app.settings
    if settings.slack_enabled:
        from adapters.slack.runtime import attach as attach_slack

        cleanups.append(await attach_slack(app, webapp))
    if settings.teams_enabled:
        from adapters.teams.runtime import attach as attach_teams

        cleanups.append(await attach_teams(app, webapp))
    if settings.xapi_token is not None:
        from bot.capabilities.completion.xapi import attach as attach_xapi

        cleanups.append(await attach_xapi(app, webapp))
    # The report page: links to it are handed out in chat, so it is served whenever HTTP is.
    from bot.capabilities.reports.web import attach as attach_report_pages

    cleanups.append(await attach_report_pages(app, webapp))
    if settings.xapi_out_url:
        from adapters.lrs.runtime import attach as attach_lrs
        from bot.capabilities.completion.xapi_out import PLATFORM as XAPI_OUT

        cleanups.append(await attach_lrs(app, XAPI_OUT))
    return cleanups


async def serve(settings: Settings, *, force_console: bool = False) -> None:
    # Refuse to start, rather than fail on the first check-in, without the evidence secret
    # (a server database with neither EVIDENCE_SECRET nor SURVEY_SECRET).
    chain_secret(settings)
    if force_console or not (
        settings.slack_enabled or settings.teams_enabled or settings.xapi_token is not None
    ):
        await serve_console(settings)
        return
    app = await build(settings, {})
    webapp = web_application(app)
    cleanups = await attach_adapters(app, webapp)
    runner = web.AppRunner(webapp)
    await runner.setup()
    await web.TCPSite(runner, "0.0.0.0", settings.port).start()
    webapp[READY] = True
    log.info("cohortbot listening on port %s", settings.port)
    tasks = [
        asyncio.create_task(run_scheduler(app)),
        await start_delivery(app),
        start_identity_lookups(app),
        asyncio.create_task(purge_regularly(app)),
    ]
    try:
        await asyncio.Event().wait()
    finally:
        for task in tasks:
            task.cancel()
        # Let them unwind out of any database call before the engine is disposed under them.
        await asyncio.gather(*tasks, return_exceptions=True)
        for cleanup in cleanups:
            with contextlib.suppress(Exception):
                await cleanup()
        await runner.cleanup()
        await app.close()


async def serve_console(settings: Settings) -> None:
    from adapters.console.chat import USAGE, ConsoleChat, ConsoleSender, run_lines, stored_messages

    chat = ConsoleChat(out=sys.stdout)
    app = await build(settings, {"console": ConsoleSender(chat)})
    chat.stored = stored_messages(app.store)  # buttons keep their numbers across restarts
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
        await asyncio.gather(scheduler, return_exceptions=True)
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
