"""Requests exactly as Slack sends them to `POST /slack/events`: signed, form-encoded or JSON.

`SlackRequests` builds slash commands, `payload=` block_actions / view_submission and Events API
JSON, signs them with `v0=HMAC-SHA256(secret, "v0:{ts}:{body}")`, and posts them with one session.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp


def sign(secret: str, timestamp: int, body: str) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Signed:
    """One request ready to send (or to send again: a replay)."""

    body: str
    headers: dict[str, str]


@dataclass
class SlackRequests:
    url: str  # http://127.0.0.1:<port>/slack/events
    secret: str
    response_base: str  # where response_urls point (the Web API stand-in)
    team_id: str = "T0001"
    session: aiohttp.ClientSession | None = None
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    def signed(
        self, body: str, content_type: str, *, timestamp: int | None = None, secret: str | None = None
    ) -> Signed:
        ts = int(time.time()) if timestamp is None else timestamp
        return Signed(
            body,
            {
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": str(ts),
                "X-Slack-Signature": sign(secret or self.secret, ts, body),
            },
        )

    async def send(self, request: Signed, extra_headers: dict[str, str] | None = None) -> tuple[int, str]:
        if self.session is None:
            self.session = aiohttp.ClientSession()
        headers = {**request.headers, **(extra_headers or {})}
        async with self.session.post(self.url, data=request.body.encode(), headers=headers) as resp:
            return resp.status, await resp.text()

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()

    # -- builders ---------------------------------------------------------------------------------

    def command(
        self, user: str, text: str, *, channel: str = "D0USER", channel_name: str = "directmessage"
    ) -> Signed:
        form = self.command_payload(user, text, channel=channel, channel_name=channel_name)
        return self.signed(urlencode(form), "application/x-www-form-urlencoded")

    def command_payload(
        self, user: str, text: str, *, channel: str = "D0USER", channel_name: str = "directmessage"
    ) -> dict[str, str]:
        n = next(self.counter)
        return {
            "token": "legacy",
            "team_id": self.team_id,
            "team_domain": "acme",
            "channel_id": channel,
            "channel_name": channel_name,
            "user_id": user,
            "user_name": user.lower(),
            "command": "/cohort",
            "text": text,
            "api_app_id": "A0001",
            "response_url": f"{self.response_base}/response/cmd{n}",
            "trigger_id": f"trig.{n}",
        }

    def block_actions_payload(
        self,
        user: str,
        action: dict[str, Any],
        *,
        action_ts: str | None = None,
        channel: str = "D0USER",
        message_ts: str = "1700000000.000001",
        state: dict[str, Any] | None = None,
        container: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        n = next(self.counter)
        ts = action_ts or f"{time.time():.6f}"
        return {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "team_id": self.team_id},
            "api_app_id": "A0001",
            "team": {"id": self.team_id, "domain": "acme"},
            "container": container
            or {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": False},
            "trigger_id": f"trig.{n}",
            "channel": {"id": channel, "name": "directmessage"},
            "message": {"type": "message", "ts": message_ts, "text": "", "blocks": []},
            "state": {"values": state or {}},
            "response_url": f"{self.response_base}/response/act{n}",
            "actions": [{**action, "action_ts": ts, "block_id": action.get("block_id", "b0")}],
        }

    def interaction(self, payload: dict[str, Any], *, timestamp: int | None = None) -> Signed:
        body = urlencode({"payload": json.dumps(payload)})
        return self.signed(body, "application/x-www-form-urlencoded", timestamp=timestamp)

    def view_submission(self, user: str, view: dict[str, Any], text: str) -> Signed:
        """The user typed `text` in the modal `view` (as the app opened it) and pressed Send."""
        block = view["blocks"][0]
        values = {
            block["block_id"]: {block["element"]["action_id"]: {"type": "plain_text_input", "value": text}}
        }
        payload = {
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": "acme"},
            "user": {"id": user, "username": user.lower(), "team_id": self.team_id},
            "api_app_id": "A0001",
            "trigger_id": f"trig.{next(self.counter)}",
            "view": {
                **view,
                "id": "V0MODAL",
                "hash": "1700000000.abc",
                "team_id": self.team_id,
                "state": {"values": values},
            },
        }
        return self.interaction(payload)

    def event(self, event: dict[str, Any], *, event_id: str, timestamp: int | None = None) -> Signed:
        body = json.dumps(
            {
                "token": "legacy",
                "team_id": self.team_id,
                "api_app_id": "A0001",
                "event": event,
                "type": "event_callback",
                "event_id": event_id,
                "event_time": int(time.time()),
                "authorizations": [{"team_id": self.team_id, "user_id": "UBOT", "is_bot": True}],
            }
        )
        return self.signed(body, "application/json", timestamp=timestamp)
