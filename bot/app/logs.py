"""Logging for the `cohortbot` command: plain lines or JSON, each with the inbound request id, and
libraries kept quiet at the default level (their INFO lines are per-glyph or per-job noise)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from bot.core.request_context import request_id

# Libraries whose INFO (or WARNING) lines say nothing an operator acts on.
QUIET_LIBRARIES: dict[str, int] = {
    "fontTools": logging.WARNING,  # ~40 `fontTools.subset` lines per PDF
    "matplotlib": logging.WARNING,
    "PIL": logging.WARNING,
    "alembic": logging.WARNING,  # a line per migration
    "apscheduler": logging.WARNING,  # a line per job added or run
    "aiohttp.access": logging.WARNING,  # a line per request (healthz probes, metrics scrapes)
    "msal": logging.WARNING,
    "msrest": logging.WARNING,
    "slack_sdk.socket_mode": logging.WARNING,  # reconnections are logged by the adapter, once each
}


class RequestIdFilter(logging.Filter):
    """Adds `request_id` (or "-") to every record, for both formats."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, and the error if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or "-",
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


def configure(level: str = "INFO", fmt: str = "text") -> None:
    """Set up the root logger once for the process (replacing any earlier set-up)."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    numeric = logging.getLevelName(level.upper())
    root.setLevel(numeric if isinstance(numeric, int) else logging.INFO)
    debugging = root.level <= logging.DEBUG
    for name, quiet in QUIET_LIBRARIES.items():
        logging.getLogger(name).setLevel(logging.NOTSET if debugging else quiet)
