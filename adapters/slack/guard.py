"""The door of `POST /slack/events`: refuses what is not a well-formed, signed Slack request before
Bolt parses it, so malformed input gets a 4xx and never a 500.

Bolt parses the body (JSON, or a form whose `payload` is JSON) before it checks the signature, and
reads the timestamp header as an integer: garbage there raised and answered 500. Here the order is
the safe one: timestamp well formed and signature valid (both 401 otherwise, like a forged request),
before Bolt parses anything. The body is parsed once, by Bolt (`parse_body`), which then verifies the
signature again, as it always does; what Bolt cannot read is answered 400 by the route
(`SIGNED_BUT_UNREADABLE` in runtime.py). Parsing it here as well cost a tenth of a click's CPU.
"""

from __future__ import annotations

import logging

from aiohttp import web
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)

MAX_BODY = 1_000_000  # bytes; Slack's payloads are far smaller


class SlackDoor:
    def __init__(self, signing_secret: str) -> None:
        self.verifier = SignatureVerifier(signing_secret)  # 5 minutes of clock skew, as Bolt

    async def refuse(self, request: web.Request) -> web.Response | None:
        """A 4xx answer for a request Bolt must not see, or None when it may go on."""
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413, text="request too large")
        try:
            raw = await request.read()
        except Exception:  # e.g. `Content-Encoding: gzip` on a body that is not: aiohttp cannot decode it
            return web.Response(status=400, text="unreadable body")
        if len(raw) > MAX_BODY:
            return web.Response(status=413, text="request too large")
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            log.info("Slack request refused: missing or malformed X-Slack-Request-Timestamp")
            return web.Response(status=401, text="missing or malformed X-Slack-Request-Timestamp")
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return web.Response(status=400, text="the body is not UTF-8")
        if not signature.isascii() or not self.verifier.is_valid(body, timestamp, signature):
            # Forged, stale (over 5 minutes) or signed with another app's secret.
            log.info("Slack request refused: invalid or stale signature")
            return web.Response(status=401, text="invalid signature")
        return None
