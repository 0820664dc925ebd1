"""The Slack app manifest: `manifest/slack.yaml` as is (Socket Mode) or pointed at a public URL."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from adapters.slack.runtime import EVENTS_PATH

MANIFEST_FILE = Path(__file__).resolve().parents[2] / "manifest" / "slack.yaml"


def load() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(MANIFEST_FILE.read_text(encoding="utf-8"))
    return data


def for_mode(url: str | None = None) -> dict[str, Any]:
    """Socket Mode without a URL; HTTP mode with every request URL at `<url>/slack/events`."""
    manifest = copy.deepcopy(load())
    if url is None:
        return manifest
    endpoint = url.rstrip("/") + EVENTS_PATH
    settings = manifest["settings"]
    settings["socket_mode_enabled"] = False
    settings["event_subscriptions"]["request_url"] = endpoint
    settings["interactivity"]["request_url"] = endpoint
    for command in manifest["features"]["slash_commands"]:
        command["url"] = endpoint
    return manifest


def render(url: str | None = None) -> str:
    return yaml.safe_dump(for_mode(url), sort_keys=False, allow_unicode=True)
