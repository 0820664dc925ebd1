"""The long-running process: inbound adapters, the scheduler and outbox delivery, together.

Adapters plug in through `attach(app, web)` functions: they add their routes to the shared
aiohttp application (one HTTP server on PORT), register their outbox Sender, and may start
background tasks (Socket Mode). They return an async cleanup callable.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.app.bootstrap import App, build
from bot.capabilities.attendance.keys import chain_secret
from bot.core.errors import ConfigurationError
from bot.core.models import FiredEvent, OutboxMessage
from bot.core.request_context import new_request_id
from bot.core.settings import Settings

log = logging.getLogger(__name__)

Cleanup = Callable[[], Awaitable[None]]
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed")


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


PLATFORM_OF_PATH = {"/slack/": "slack", "/api/messages": "teams", "/xapi/": "xapi"}
SHUTDOWN_GRACE = 30.0  # seconds in-flight sends get to finish at shutdown


def _platform(path: str) -> str | None:
    for prefix, platform in PLATFORM_OF_PATH.items():
        if path.startswith(prefix):
            return platform
    return None


def web_application(app: App) -> web.Application:
    """The HTTP application every adapter adds its routes to, with `/healthz` (200 once every part
    is ready, else 503 and why) and `/metrics` (Prometheus text)."""

    @web.middleware
    async def per_request(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        new_request_id(request.headers.get("X-Request-Id"))
        platform = _platform(request.path)
        started = time.perf_counter()
        try:
            return await handler(request)
        finally:
            if platform is not None:
                app.metrics.inbound_latency.labels(platform).observe(time.perf_counter() - started)

    webapp = web.Application(middlewares=[per_request])

    async def healthz(_: web.Request) -> web.Response:
        problems = app.health.problems
        if problems:
            return web.json_response({"status": "unavailable", "reasons": problems}, status=503)
        return web.json_response({"status": "ok"})

    async def metrics(_: web.Request) -> web.Response:
        await read_gauges(app)
        return web.Response(body=app.metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    webapp.router.add_get("/healthz", healthz)
    webapp.router.add_get("/metrics", metrics)
    return webapp


async def read_gauges(app: App) -> None:
    """Outbox depth by status, and how late the last planned event fired, read at scrape time."""
    outbox, fired = OutboxMessage.__table__, FiredEvent.__table__  # type: ignore[attr-defined]
    async with app.store.transaction() as session:
        conn = await session.connection()
        counts: dict[str, int] = dict(
            (await conn.execute(sa.select(outbox.c.status, sa.func.count()).group_by(outbox.c.status))).all()
        )
        last = (
            await conn.execute(
                sa.select(fired.c.due_at, fired.c.fired_at).order_by(fired.c.fired_at.desc()).limit(1)
            )
        ).first()
    for status in OUTBOX_STATUSES:
        app.metrics.outbox_depth.labels(status).set(counts.get(status, 0))
    lag = (last.fired_at - last.due_at).total_seconds() if last is not None else 0.0
    app.metrics.scheduler_lag.set(max(0.0, lag))


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


async def serve(
    settings: Settings, *, force_console: bool = False, stop: asyncio.Event | None = None
) -> None:
    """Run until `stop` is set (or SIGTERM / SIGINT): HTTP first, so `/healthz` answers while the
    platforms are being reached; a configuration problem found then stops the process."""
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
    runner = web.AppRunner(webapp, access_log=None)
    await runner.setup()
    steady_heap()
    tasks: list[asyncio.Task[None]] = []  # background work stopped at once at shutdown
    delivery: asyncio.Task[None] | None = None  # given time to finish its sends
    try:
        try:
            await web.TCPSite(runner, "0.0.0.0", settings.port).start()
        except OSError as e:
            raise ConfigurationError(
                f"cannot listen on port {settings.port} ({e.strerror}): another process uses it; "
                "stop that process or set PORT to a free port"
            ) from None
        log.info("cohortbot listening on port %s", settings.port)
        app.health.ready("process")
        starters = [asyncio.create_task(_start(app, name, starter)) for name, starter in app.health.starters]
        tasks = [
            asyncio.create_task(run_scheduler(app)),
            start_identity_lookups(app),
            asyncio.create_task(purge_regularly(app)),
        ]
        delivery = await start_delivery(app)
        stopped = asyncio.create_task((stop or _signalled()).wait())
        # A starter ends normally once connected; one that raises (a refused token) ends the run.
        pending: set[asyncio.Task[Any]] = {stopped, *starters}
        while stopped in pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stopped and task.exception() is not None:
                    stopped.cancel()
                    for other in pending:
                        other.cancel()
                    raise task.exception()  # type: ignore[misc]
        for task in pending:
            task.cancel()
    finally:
        await shut_down(app, tasks, delivery, cleanups, runner)


# Young objects collected after this many allocations (Python's default: 700). Clicks allocate
# thousands of short-lived objects each; collecting them less often saves ~4 % of a click's CPU.
GC_YOUNG_THRESHOLD = 10_000


def steady_heap() -> None:
    """Called once everything is imported and built: the objects alive now (modules, classes, the
    ORM's metadata, Bolt's listeners) live as long as the process, so they are moved out of the
    garbage collector's reach. Otherwise each full collection walks them all: pauses of ~80 ms
    that set the click's p99 (`python -m benchmarks.bench_slack_clicks`: 118 -> 33 ms)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 20)


async def _start(app: App, component: str, starter: Callable[[], Awaitable[None]]) -> None:
    await starter()
    app.health.ready(component)


async def run_starters(app: App) -> None:
    """Run every adapter's starter to its end (tests and harnesses serving in-process)."""
    app.health.ready("process")
    for component, starter in app.health.starters:
        await _start(app, component, starter)


def _signalled() -> asyncio.Event:
    """An event set by SIGTERM (systemd, docker stop) or SIGINT (Ctrl-C)."""
    event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, event.set)
    return event


async def shut_down(
    app: App,
    tasks: list[asyncio.Task[None]],
    delivery: asyncio.Task[None] | None,
    cleanups: list[Cleanup],
    runner: web.AppRunner,
) -> None:
    """Stop taking work, let the sends in flight finish and be recorded (the rest stay pending
    for the next start), then close the adapters and the database."""
    app.health.not_ready("process", "shutting down")
    app.worker.stop()
    for task in tasks:
        task.cancel()
    if delivery is not None:
        try:
            await asyncio.wait_for(asyncio.shield(delivery), SHUTDOWN_GRACE)
        except (TimeoutError, asyncio.CancelledError):
            delivery.cancel()
    # Let them unwind out of any database call before the engine is disposed under them.
    await asyncio.gather(*tasks, *([delivery] if delivery else []), return_exceptions=True)
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
