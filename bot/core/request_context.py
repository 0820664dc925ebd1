"""The id of the inbound event being handled, for every log line written while handling it."""

from __future__ import annotations

import uuid
from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def new_request_id(given: str | None = None) -> str:
    """Use the caller's id (a proxy's X-Request-Id, Slack's envelope id) or make one; set it for
    the current task and the tasks it starts."""
    rid = given if given and len(given) <= 200 else uuid.uuid4().hex[:16]
    request_id.set(rid)
    return rid
