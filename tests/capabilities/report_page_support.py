"""The report page served for real: cohortbot's aiohttp application on a loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from bot.app.serve import web_application
from bot.capabilities.reports.web import attach
from bot.core.messages import Link, Reply
from bot.core.runtime import App
from tests.conftest import Chat


@asynccontextmanager
async def served(app: App) -> AsyncIterator[str]:
    """Serve the report pages on 127.0.0.1 (a free port); yields the base URL links point to."""
    webapp = web_application(app)
    await attach(app, webapp)
    runner = web.AppRunner(webapp)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"
    app.settings.public_url = base
    try:
        yield base
    finally:
        await runner.cleanup()


def link_in(reply: Reply | None) -> str:
    assert reply is not None
    (link,) = [b for b in reply.message.blocks if isinstance(b, Link)]
    return link.url


async def report_link(chat: Chat, who: str, cohort: str = "spoc") -> tuple[Reply, str]:
    reply = await chat.reply(who, f"report {cohort}")
    return reply, link_in(reply)  # type: ignore[return-value]
