"""Wiring the LRS sender into the running app when `XAPI_OUT_URL` is set."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import aiohttp

from adapters.lrs.client import LrsClient, LrsConfig
from adapters.lrs.sender import LrsSender

if TYPE_CHECKING:
    from bot.core.runtime import App


def config_of(app: App) -> LrsConfig:
    settings = app.settings
    secret = settings.xapi_out_secret.get_secret_value() if settings.xapi_out_secret else ""
    if not settings.xapi_out_url.startswith(("https://", "http://")):
        raise ValueError(
            f"XAPI_OUT_URL {settings.xapi_out_url!r} must be the LRS's statements URL (https://...)"
        )
    if not settings.xapi_out_key or not secret:
        raise ValueError(
            "XAPI_OUT_URL is set but XAPI_OUT_KEY or XAPI_OUT_SECRET is empty: "
            "set the LRS's Basic-auth key and secret"
        )
    return LrsConfig(settings.xapi_out_url, settings.xapi_out_key, secret)


async def attach(app: App, platform: str) -> Callable[[], Awaitable[None]]:
    """Deliver the outbox rows queued on `platform` to the LRS; returns the cleanup closing the
    HTTP session."""
    config = config_of(app)
    http = aiohttp.ClientSession()
    app.worker.senders = {**app.worker.senders, platform: LrsSender(LrsClient(config, http))}

    async def cleanup() -> None:
        await http.close()

    return cleanup
