"""A loopback stand-in for the Slack Web API (and response_url / file upload endpoints).

It speaks the wire protocol `slack_sdk` uses: `POST|GET /api/<method>` with form, JSON or query
arguments and a Bearer token, answering `{"ok": ...}` JSON. Every call is recorded. Tests script
failures (`fail(method, status=429, retry_after=1)`, 5xx, or a Slack error like `channel_not_found`).
Used by the Slack tests and `benchmarks/bench_slack_clicks.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None
    at: float = 0.0  # time.monotonic() when the stand-in received it


@dataclass
class Failure:
    status: int = 200
    error: str | None = None
    retry_after: float | None = None
    times: int = 1


@dataclass
class SlackUser:
    id: str
    name: str
    email: str | None = None
    tz: str = "Europe/Paris"
    locale: str = "en-US"  # users.info returns it only when asked with include_locale=true


@dataclass
class SlackApiStandIn:
    """Start with `await standin.start()`; `standin.api_url` is what SLACK_API_URL points at."""

    team_id: str = "T0001"
    bot_user_id: str = "UBOT"
    users: dict[str, SlackUser] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)  # bodies POSTed to response_urls
    uploads: dict[str, bytes] = field(default_factory=dict)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    record: bool = True
    delays: dict[str, float] = field(default_factory=dict)  # seconds a method takes to answer
    # Scopes granted to bot tokens (sent back in `x-oauth-scopes`, as Slack does); None: the manifest's.
    scopes: list[str] | None = None
    # Tokens Slack no longer accepts: every call with one answers `invalid_auth`.
    refused_tokens: set[str] = field(default_factory=set)
    # OAuth: the codes Slack would hand an installer, and the install each one yields.
    oauth_installs: dict[str, dict[str, Any]] = field(default_factory=dict)
    client_id: str = "1111.2222"
    client_secret: str = "oauth-client-secret"
    latency: float = 0.0  # seconds each Web API call takes (benchmarks)
    limits: PostLimits = field(default_factory=lambda: PostLimits())
    # While set and not released, response_url POSTs wait (counted in `answers_waiting`); one whose
    # sender is gone by the release (a crash) is dropped, as Slack never got the whole request.
    hold_answers: asyncio.Event | None = None
    answers_waiting: int = 0

    def __post_init__(self) -> None:
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._changed = asyncio.Event()
        self._sockets: list[web.WebSocketResponse] = []
        self.socket_acks: list[dict[str, Any]] = []  # what the app answered on Socket Mode

    # -- scripting --------------------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        name: str,
        email: str | None = None,
        tz: str = "Europe/Paris",
        locale: str = "en-US",
    ) -> None:
        self.users[user_id] = SlackUser(user_id, name, email, tz, locale)

    def fail(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: float | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls of `method` fail: an HTTP status (429, 5xx) or a Slack error."""
        self.failures.setdefault(method, []).append(Failure(status, error, retry_after, times))

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def response_url(self, name: str = "r") -> str:
        return f"{self.base_url}/response/{name}"

    async def wait_for(self, predicate: Any, within: float = 5.0) -> None:
        """Wait until `predicate()` is true (calls and responses arrive asynchronously after an ack)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError("the stand-in did not receive what was expected in time")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=min(remaining, 0.2))

    # -- server -----------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def add_install(
        self,
        code: str,
        *,
        team_id: str | None,
        token: str,
        enterprise_id: str | None = None,
        installer: str = "UINSTALLER",
    ) -> None:
        """Slack will answer `oauth.v2.access` for `code` with this install: a workspace one, or an
        org-wide one on Enterprise Grid (`team_id=None`, `enterprise_id` set)."""
        self.oauth_installs[code] = {
            "ok": True,
            "app_id": "A0001",
            "authed_user": {"id": installer},
            "scope": ",".join(self.granted_scopes()),
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": "UBOT",
            "team": {"id": team_id, "name": f"Team {team_id}"} if team_id else None,
            "enterprise": {"id": enterprise_id, "name": f"Org {enterprise_id}"} if enterprise_id else None,
            "is_enterprise_install": team_id is None,
        }

    def granted_scopes(self) -> list[str]:
        if self.scopes is not None:
            return self.scopes
        from adapters.slack.token_check import required_scopes

        return sorted(required_scopes())

    async def start(self, port: int = 0) -> SlackApiStandIn:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{name}", self._response)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/link", self._socket_link)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def push(self, envelope: dict[str, Any]) -> None:
        """Send a Socket Mode envelope to the connected app (as Slack's WebSocket does)."""
        await self.wait_for(lambda: self._sockets)
        for ws in self._sockets:
            await ws.send_json(envelope)

    async def stop(self) -> None:
        for ws in self._sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                args.update(await request.json())
            else:
                args.update(dict(await request.post()))
        return args

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if self.latency:
            await asyncio.sleep(self.latency)
        args = await self._args(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") or args.get("token")
        if self.record:
            self.calls.append(Call(method, args, token, time.monotonic()))
        self._changed.set()
        if self.delays.get(method):
            await asyncio.sleep(self.delays[method])
        limited = self.limits.check(method, args)
        if limited is not None:
            return limited
        scripted = self.failures.get(method)
        if scripted:
            failure = scripted[0]
            failure.times -= 1
            if failure.times <= 0:
                scripted.pop(0)
            headers = (
                {"Retry-After": str(int(failure.retry_after))} if failure.retry_after is not None else {}
            )
            if failure.status != 200:
                body = {"ok": False, "error": "ratelimited" if failure.status == 429 else "fatal_error"}
                return web.json_response(body, status=failure.status, headers=headers)
            return web.json_response({"ok": False, "error": failure.error})
        if token in self.refused_tokens:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if method == "oauth.v2.access":
            return self._oauth_v2_access(request, args)
        answer = getattr(self, "_" + method.replace(".", "_"), None)
        body = {"ok": True} if answer is None else answer(args)
        headers = {}
        if token and token.startswith("xoxb-"):  # Slack tells every answer which scopes the token has
            headers["x-oauth-scopes"] = ",".join(self.granted_scopes())
        return web.json_response(body, headers=headers)

    def _oauth_v2_access(self, request: web.Request, args: dict[str, Any]) -> web.Response:
        """Exchange an install code for the workspace's token; the app authenticates with its
        client id and secret (HTTP Basic, as slack_sdk sends them, or form fields)."""
        import base64

        basic = request.headers.get("Authorization", "").removeprefix("Basic ")
        client_id, _, secret = base64.b64decode(basic).decode().partition(":") if basic else ("", "", "")
        client_id = client_id or str(args.get("client_id", ""))
        secret = secret or str(args.get("client_secret", ""))
        if (client_id, secret) != (self.client_id, self.client_secret):
            return web.json_response({"ok": False, "error": "invalid_client_id"})
        install = self.oauth_installs.pop(str(args.get("code")), None)
        if install is None:
            return web.json_response({"ok": False, "error": "invalid_code"})
        return web.json_response(install)

    async def _response(self, request: web.Request) -> web.Response:
        # `fail("response_url", status=404, error="expired_url")`: Slack answers a used-up or
        # expired response_url with a 404 and that word; an outage with a 5xx.
        scripted = self.failures.get("response_url")
        if scripted:
            failure = scripted[0]
            failure.times -= 1
            if failure.times <= 0:
                scripted.pop(0)
            return web.Response(status=failure.status, text=failure.error or "server_error")
        body = await request.json()
        if self.hold_answers is not None and not self.hold_answers.is_set():
            self.answers_waiting += 1
            self._changed.set()
            await self.hold_answers.wait()
            if request.transport is None or request.transport.is_closing():
                return web.Response(status=499, text="client gone")
        body["_url"] = request.match_info["name"]
        self.responses.append(body)
        self._changed.set()
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["file_id"]] = await request.read()
        self._changed.set()
        return web.Response(text="OK")

    async def _socket_link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0001"}})
        self._sockets.append(ws)
        self._changed.set()
        async for message in ws:
            if message.type == web.WSMsgType.TEXT:
                self.socket_acks.append(json.loads(message.data))
                self._changed.set()
        self._sockets.remove(ws)
        return ws

    # -- method answers ---------------------------------------------------------------------------

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "team_id": self.team_id, "user_id": self.bot_user_id, "bot_id": "BBOT"}

    def _apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link"}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        profile = {"display_name": user.name, "real_name": user.name.title()}
        if user.email:
            profile["email"] = user.email
        answer = {"id": user.id, "name": user.name, "tz": user.tz, "profile": profile}
        if str(args.get("include_locale")).lower() in ("true", "1"):
            answer["locale"] = user.locale
        return {"ok": True, "user": answer}

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel"))
        if channel[:1] in "UW":  # a user id: Slack posts in (and returns) the app's DM with them
            channel = "D" + channel[1:]
        ts = f"{int(time.time())}.{next(self._ts):06d}"  # Slack's ts: epoch seconds, unique per channel
        self.limits.remember(channel, ts, args)
        return {"ok": True, "channel": channel, "ts": ts}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "view": {"id": f"V{next(self._ts)}"}}

    _views_publish = _views_open

    def _files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._ts)}"
        return {"ok": True, "file_id": file_id, "upload_url": f"{self.base_url}/upload/{file_id}"}

    def _files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files")
        if isinstance(files, str):
            files = json.loads(files)
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files or []]}

    # -- people directory (issue 12: identity by email) ----------------------------------------------
    # users.lookupByEmail and paged users.list as Slack answers them, the `users:read.email` scope
    # (among `scopes`, above),
    # deactivated accounts, and per-method tier limits answered with 429 + Retry-After.

    deactivated: set[str] = field(default_factory=set)  # user ids whose account is deactivated
    tier_limits: dict[str, int] = field(default_factory=dict)  # method -> calls allowed per window
    tier_window: float = 60.0
    rate_limited: dict[str, int] = field(default_factory=dict)  # method -> 429s answered
    tier_calls: dict[str, list[float]] = field(default_factory=dict)  # method -> recent call times

    def limit_tiers(self, *, lookup: int = 50, listing: int = 20, window: float = 60.0) -> None:
        """Slack's published tiers: users.lookupByEmail is Tier 3 (50+/min), users.list Tier 2 (20+/min)."""
        self.tier_limits.update({"users.lookupByEmail": lookup, "users.list": listing})
        self.tier_window = window

    def _within_tier(self, method: str) -> None:
        """Answer 429 with Retry-After once a method used its calls of the current window."""
        limit = self.tier_limits.get(method)
        if limit is None:
            return
        now = asyncio.get_running_loop().time()
        recent = [t for t in self.tier_calls.get(method, []) if t > now - self.tier_window]
        if len(recent) >= limit:
            self.rate_limited[method] = self.rate_limited.get(method, 0) + 1
            wait = max(1, int(recent[0] + self.tier_window - now + 0.999))
            raise web.HTTPTooManyRequests(
                text=json.dumps({"ok": False, "error": "ratelimited"}),
                content_type="application/json",
                headers={"Retry-After": str(wait)},
            )
        recent.append(now)
        self.tier_calls[method] = recent

    def _member(self, user: SlackUser) -> dict[str, Any]:
        profile: dict[str, Any] = {"display_name": user.name, "real_name": user.name.title()}
        if user.email and "users:read.email" in self.granted_scopes():
            profile["email"] = user.email
        return {
            "id": user.id,
            "team_id": self.team_id,
            "name": user.name,
            "real_name": user.name.title(),
            "deleted": user.id in self.deactivated,
            "is_bot": False,
            "tz": user.tz,
            "profile": profile,
        }

    def _missing_scope(self, needed: str) -> dict[str, Any] | None:
        if needed in self.granted_scopes():
            return None
        return {
            "ok": False,
            "error": "missing_scope",
            "needed": needed,
            "provided": ",".join(self.granted_scopes()),
        }

    def _users_lookupByEmail(self, args: dict[str, Any]) -> dict[str, Any]:
        self._within_tier("users.lookupByEmail")
        refused = self._missing_scope("users:read.email")
        if refused is not None:
            return refused
        email = str(args.get("email") or "").lower()
        for user in self.users.values():
            if user.email and user.email.lower() == email:
                return {"ok": True, "user": self._member(user)}
        return {"ok": False, "error": "users_not_found"}

    def _users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        self._within_tier("users.list")
        refused = self._missing_scope("users:read")
        if refused is not None:
            return refused
        limit = min(int(args.get("limit") or 0) or 1000, 1000)  # Slack: 0 means "as many as it likes"
        cursor = str(args.get("cursor") or "")
        start = int(cursor.removeprefix("dXNlcjo")) if cursor.startswith("dXNlcjo") else 0
        people = list(self.users.values())
        page = people[start : start + limit]
        after = start + len(page)
        next_cursor = f"dXNlcjo{after}" if after < len(people) else ""
        return {
            "ok": True,
            "members": [self._member(u) for u in page],
            "cache_ts": 1700000000,
            "response_metadata": {"next_cursor": next_cursor},
        }


# -- delivery at scale: Slack's rate limits on chat.postMessage, metadata and history ----------------
#
# Slack documents about one chat.postMessage per second per channel, plus a workspace-wide limit it
# does not publish; past either it answers HTTP 429 with an integer `Retry-After` (seconds) and
# `{"ok": false, "error": "ratelimited"}`. Messages posted with `metadata` return it from
# `conversations.history` only when asked with `include_all_metadata=true`.


def _as_dict(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


@dataclass
class PostLimits:
    """chat.postMessage limits (off unless set) and each channel's posted messages, newest last."""

    channel_interval: float | None = None  # seconds between two posts to one channel (Slack: 1)
    workspace_per_second: int | None = None  # posts per rolling second, workspace-wide
    clock: Any = time.monotonic
    limited: int = 0  # 429 answers given
    accepted: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)  # (at, channel, metadata)
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    on_accept: Any = None  # called with the number of posts accepted so far (e.g. to kill a process)
    _recent: deque[float] = field(default_factory=deque)
    _channel_last: dict[str, float] = field(default_factory=dict)

    def check(self, method: str, args: dict[str, Any]) -> web.Response | None:
        """A 429 when this post would break a limit; None when it may go (and it is counted)."""
        if method != "chat.postMessage":
            return None
        now = self.clock()
        channel = str(args.get("channel"))
        channel = "D" + channel[1:] if channel[:1] in "UW" else channel
        if self.workspace_per_second is not None:
            while self._recent and self._recent[0] <= now - 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.workspace_per_second:
                return self._too_many()
        last = self._channel_last.get(channel)
        if self.channel_interval is not None and last is not None and now - last < self.channel_interval:
            return self._too_many()
        self._recent.append(now)
        self._channel_last[channel] = now
        return None

    def _too_many(self) -> web.Response:
        self.limited += 1
        return web.json_response(
            {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"}
        )

    def remember(self, channel: str, ts: str, args: dict[str, Any]) -> None:
        metadata = _as_dict(args.get("metadata")) or {}
        self.accepted.append((self.clock(), channel, metadata))
        message = {"type": "message", "ts": ts, "text": args.get("text", ""), "bot_id": "BBOT"}
        if metadata:
            message["metadata"] = metadata
        self.history.setdefault(channel, []).append(message)
        if self.on_accept is not None:
            self.on_accept(len(self.accepted))

    def keys_delivered(self) -> list[str]:
        """The outbox key carried by each accepted post, in order (duplicates show up twice)."""
        return [str((m.get("event_payload") or {}).get("key")) for _, _, m in self.accepted if m]


def _conversations_history(self: SlackApiStandIn, args: dict[str, Any]) -> dict[str, Any]:
    channel = str(args.get("channel"))
    if channel not in self.limits.history and channel[:1] != "D":
        return {"ok": False, "error": "channel_not_found"}
    with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
    oldest = float(args.get("oldest") or 0)
    limit = int(args.get("limit") or 100)
    found = [m for m in reversed(self.limits.history.get(channel, [])) if float(m["ts"]) > oldest][:limit]
    if not with_metadata:
        found = [{k: v for k, v in m.items() if k != "metadata"} for m in found]
    return {"ok": True, "messages": found, "has_more": False}


def _conversations_open(self: SlackApiStandIn, args: dict[str, Any]) -> dict[str, Any]:
    users = str(args.get("users") or "")
    if not users:
        return {"ok": False, "error": "users_list_not_supplied"}
    return {"ok": True, "channel": {"id": "D" + users.split(",")[0][1:]}}


SlackApiStandIn._conversations_history = _conversations_history  # type: ignore[attr-defined]
SlackApiStandIn._conversations_open = _conversations_open  # type: ignore[attr-defined]
