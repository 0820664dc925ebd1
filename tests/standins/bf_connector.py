"""A loopback stand-in for the Bot Framework as Teams uses it, speaking its wire protocol:

- the connector REST API (`/v3/conversations...`): records replies, proactive messages, updates
  and created conversations, answers member lookups, and can answer 429 / 403 / 5xx on demand;
- the OpenID metadata + JWKS endpoints botbuilder validates inbound tokens against, with an RSA
  key generated here, and `mint()` to sign tokens as the Bot Framework does;
- an AAD-like token endpoint for the bot's own outbound token (see `StandinCredentialsFactory`).

It runs in its own thread and event loop, like a remote service: botbuilder calls some of it
synchronously (`requests`), which would deadlock against a server on the caller's loop.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
import requests
from aiohttp import web
from botframework.connector.auth import (
    AppCredentials,
    AuthenticationConstants,
    ServiceClientCredentialsFactory,
)
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from msrest.authentication import Authentication


@dataclass
class Call:
    """One request the bot made to the connector."""

    method: str
    conversation_id: str
    activity_id: str | None
    body: dict[str, Any]
    authorization: str | None
    status: int

    @property
    def card(self) -> dict[str, Any] | None:
        for attachment in self.body.get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                return attachment["content"]  # type: ignore[no-any-return]
        return None

    def card_text(self) -> str:
        """Every text of the card (TextBlocks, facts, action titles), for assertions."""
        out: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for key in ("text", "title", "value"):
                    if isinstance(node.get(key), str):
                        out.append(node[key])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        walk(self.card or {})
        return "\n".join(out)


@dataclass
class Failure:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)


class TokenIssuer:
    """Signs JWTs the way the Bot Framework does for activities it sends to a bot."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "standin-" + secrets.token_hex(4)

    def jwks(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "endorsements": ["msteams"]}]}

    def mint(
        self, app_id: str, service_url: str, *, key: Any = None, kid: str | None = None, **claims: Any
    ) -> str:
        now = int(time.time())
        payload = {
            "iss": AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER,
            "aud": app_id,
            "serviceurl": service_url,
            "nbf": now - 10,
            "iat": now - 10,
            "exp": now + 3600,
            **claims,
        }
        return jwt.encode(payload, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid})


class BotConnectorStandIn:
    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.calls: list[Call] = []
        self.created: list[dict[str, Any]] = []
        self.failures: list[Failure] = []  # answered, in order, to the next message POSTs
        self.blocked: set[str] = set()  # conversation ids answering 403 MessageWritesBlocked
        self.members: dict[str, dict[str, Any]] = {}  # member lookups: id -> TeamsChannelAccount
        self.rosters: dict[str, list[dict[str, Any]]] = {}  # team / channel id -> its members
        self.roster_pages = 0
        self.member_lookups = 0
        self.issuer = TokenIssuer()
        self.issued_tokens: list[str] = []
        self.key_fetches = 0
        # The AAD token endpoint: when set, only these app credentials get a token (else any do).
        self.registered_apps: dict[str, str] = {}
        self.tenants: set[str] = {"botframework.com"}
        self._lock = threading.Lock()
        self._counter = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> BotConnectorStandIn:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self._serve())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup() if self._runner else asyncio.sleep(0))
            loop.close()

        self._thread = threading.Thread(target=run, name="bf-connector-standin", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create_conversation)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._send)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._update)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        app.router.add_get("/v3/conversations/{conversation}/pagedmembers", self._paged_members)
        app.router.add_get("/openid/.well-known/openid-configuration", self._openid)
        app.router.add_get("/openid/keys", self._keys)
        app.router.add_post("/aad/{tenant}/token", self._token)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/"

    @property
    def openid_metadata_url(self) -> str:
        return self.url + "openid/.well-known/openid-configuration"

    # -- what tests read ---------------------------------------------------------------------

    def messages(self, conversation_id: str | None = None) -> list[Call]:
        """Messages the bot sent (replies and proactive), in order, optionally in one conversation."""
        with self._lock:
            return [
                c
                for c in self.calls
                if c.method == "POST" and c.status < 300 and conversation_id in (None, c.conversation_id)
            ]

    def updates(self) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == "PUT" and c.status < 300]

    def fail_next(
        self, status: int, count: int = 1, retry_after: float | None = None, code: str = ""
    ) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        body = {"error": {"code": code or str(status), "message": "stand-in failure"}}
        self.failures.extend(Failure(status, headers, body) for _ in range(count))

    # -- handlers ----------------------------------------------------------------------------

    def _next_id(self, prefix: str) -> str:
        with self._lock:
            self._counter += 1
            return f"{prefix}{self._counter}"

    async def _record(self, request: web.Request, method: str, status: int) -> tuple[Call, dict[str, Any]]:
        body = await request.json() if request.can_read_body else {}
        call = Call(
            method,
            request.match_info.get("conversation", ""),
            request.match_info.get("activity"),
            body,
            request.headers.get("Authorization"),
            status,
        )
        with self._lock:
            self.calls.append(call)
        return call, body

    async def _send(self, request: web.Request) -> web.Response:
        if self.latency:
            await asyncio.sleep(self.latency)
        conversation = request.match_info["conversation"]
        if conversation in self.blocked:
            await self._record(request, "POST", 403)
            error = {"error": {"code": "ConversationBlockedByUser", "message": "MessageWritesBlocked"}}
            return web.json_response(error, status=403)
        if self.failures:
            failure = self.failures.pop(0)
            await self._record(request, "POST", failure.status)
            return web.json_response(failure.body, status=failure.status, headers=failure.headers)
        await self._record(request, "POST", 201)
        return web.json_response({"id": self._next_id("msg-")}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        await self._record(request, "PUT", 200)
        return web.json_response({"id": request.match_info["activity"]})

    async def _create_conversation(self, request: web.Request) -> web.Response:
        if self.latency:
            await asyncio.sleep(self.latency)
        body = await request.json()
        with self._lock:
            self.created.append(body)
        member = body["members"][0]["id"]
        # Teams answers the existing 1:1 chat for the same user: make the id stable per member.
        return web.json_response({"id": f"a:personal-{member}"}, status=201)

    async def _member(self, request: web.Request) -> web.Response:
        self.member_lookups += 1
        member = self.members.get(request.match_info["member"])
        if member is None:
            return web.json_response({"error": {"code": "MemberNotFoundInConversation"}}, status=404)
        return web.json_response(member)

    # -- team rosters (issue 12: reach members who never installed the app) ---------------------

    def add_to_team(self, team_id: str, account: dict[str, Any], email: str) -> None:
        """A team member as `get_paged_members` / `get_member` return them: email, UPN, AAD id."""
        member = {
            **account,
            "email": email,
            "userPrincipalName": email,
            "givenName": account.get("name", ""),
            "tenantId": self.tenant_of_rosters,
            "userRole": "user",
        }
        self.rosters.setdefault(team_id, []).append(member)
        self.members[account["id"]] = member

    tenant_of_rosters = "72f988bf-86f1-41af-91ab-2d7cd011db47"

    async def _paged_members(self, request: web.Request) -> web.Response:
        """GET .../pagedmembers?pageSize=&continuationToken= (Teams caps a page at 500)."""
        members = self.rosters.get(request.match_info["conversation"])
        if members is None:
            return web.json_response({"error": {"code": "ConversationNotFound"}}, status=404)
        size = min(int(request.query.get("pageSize") or 200), 500)
        token = request.query.get("continuationToken") or "0"
        start = int(token) if token.isdigit() else 0
        page = members[start : start + size]
        with self._lock:
            self.roster_pages += 1
        body: dict[str, Any] = {"members": page}
        if start + size < len(members):
            body["continuationToken"] = str(start + size)
        return web.json_response(body)

    async def _openid(self, _: web.Request) -> web.Response:
        self.key_fetches += 1
        return web.json_response(
            {
                "issuer": AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER,
                "jwks_uri": self.url + "openid/keys",
            }
        )

    async def _keys(self, _: web.Request) -> web.Response:
        return web.json_response(self.issuer.jwks())

    async def _token(self, request: web.Request) -> web.Response:
        """Azure AD's client-credentials grant, with its error shapes (AADSTS codes)."""
        form = await request.post()
        if request.match_info["tenant"] not in self.tenants:
            return _aad_error(400, "invalid_request", "AADSTS90002: Tenant not found.")
        app_id, secret = str(form.get("client_id") or ""), str(form.get("client_secret") or "")
        if form.get("grant_type") != "client_credentials" or not secret:
            return _aad_error(401, "invalid_client", "AADSTS7000216: client_secret is missing.")
        if self.registered_apps and app_id not in self.registered_apps:
            return _aad_error(400, "unauthorized_client", f"AADSTS700016: Application {app_id} not found.")
        if self.registered_apps and self.registered_apps[app_id] != secret:
            return _aad_error(401, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
        token = "aad-" + secrets.token_hex(8)
        self.issued_tokens.append(token)
        return web.json_response({"access_token": token, "token_type": "Bearer", "expires_in": 3600})


def _aad_error(status: int, error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


class StandinAppCredentials(AppCredentials):
    """The bot's outbound credentials, fetching its token from the stand-in's AAD endpoint
    (botbuilder's MSAL path insists on an https authority and instance discovery on the internet)."""

    def __init__(self, app_id: str, password: str, token_url: str) -> None:
        super().__init__(app_id=app_id)
        self.password = password
        self.token_url = token_url
        self._token: str | None = None
        self.fetched_in: list[str] = []  # thread names: the bot must not fetch on its event loop

    def get_access_token(self, force_refresh: bool = False) -> str:
        if self._token is None or force_refresh:
            self.fetched_in.append(threading.current_thread().name)
            response = requests.post(
                self.token_url,
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.microsoft_app_id,
                    "client_secret": self.password,
                },
                timeout=5,
            )
            answer = response.json()
            if "access_token" not in answer:  # what botbuilder's MSAL credentials raise
                raise PermissionError(
                    f"Failed to get access token with error: {answer.get('error')}, "
                    f"error_description: {answer.get('error_description')}"
                )
            self._token = answer["access_token"]
        return self._token


class StandinCredentialsFactory(ServiceClientCredentialsFactory):
    def __init__(
        self, app_id: str, password: str, standin: BotConnectorStandIn, tenant: str | None = None
    ) -> None:
        self.app_id = app_id
        self.password = password
        self.standin = standin
        self.tenant = tenant or "botframework.com"  # a SingleTenant bot asks its own tenant

    async def is_valid_app_id(self, app_id: str) -> bool:
        return app_id == self.app_id

    async def is_authentication_disabled(self) -> bool:
        return not self.app_id

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Authentication:
        return StandinAppCredentials(app_id, self.password, f"{self.standin.url}aad/{self.tenant}/token")


def main() -> None:
    """Serve the stand-in in its own process (benchmarks): prints its URL, runs until killed."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to each send")
    args = parser.parse_args()
    standin = BotConnectorStandIn(latency=args.latency).start()
    print(standin.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        standin.stop()


if __name__ == "__main__":
    main()
