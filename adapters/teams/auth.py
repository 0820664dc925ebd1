"""Bot Framework authentication around botbuilder 4.17.1, with its sharp edges filed off.

- Inbound: every activity's JWT is validated by botbuilder's own `ChannelValidation`; any failure
  (forged, expired, wrong audience, unknown key) is a 401, never a 500. Signing keys are fetched
  asynchronously with a timeout instead of botbuilder's blocking `requests.get` without one.
- Outbound: one `ConnectorClient` (and one set of credentials, hence one token cache) per service
  URL, instead of new msrest clients for every message (~22 ms of CPU each).
- Local mode (no app id): botbuilder's "authentication disabled"; requests without a token pass.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import aiohttp
import jwt
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    ChannelValidation,
    ClaimsIdentity,
    ConnectorFactory,
    JwtTokenExtractor,
    ServiceClientCredentialsFactory,
    UserTokenClient,
)
from botframework.connector.auth.jwt_token_extractor import _OpenIdMetadata

from bot.core.settings import Settings

log = logging.getLogger(__name__)

KEY_FETCH_TIMEOUT = 10.0
TOKEN_REFRESH_SECONDS = 240.0  # MSAL renews a token in its last 5 minutes: look more often than that


class Unauthorized(Exception):
    """The activity's token is missing or not valid for this bot."""


class AsyncOpenIdMetadata(_OpenIdMetadata):
    """botbuilder's signing-key cache, fetching over aiohttp with a timeout (off the loop's back).
    An unknown key id triggers at most one refresh an hour (botbuilder's own rule), so forged
    tokens cannot make us hammer the metadata endpoint."""

    def __init__(self, url: str, timeout: float = KEY_FETCH_TIMEOUT) -> None:
        super().__init__(url)
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._lock = asyncio.Lock()

    async def _refresh(self) -> None:
        async with self._lock:
            if self.last_updated > datetime.now() - timedelta(minutes=1):
                return  # a concurrent request just refreshed the keys
            await self._fetch()

    async def _fetch(self) -> None:
        async with aiohttp.ClientSession(timeout=self.timeout) as http:
            async with http.get(self.url) as response:
                response.raise_for_status()
                keys_url = (await response.json(content_type=None))["jwks_uri"]
            async with http.get(keys_url) as response:
                response.raise_for_status()
                self.keys = (await response.json(content_type=None))["keys"]
            self.last_updated = datetime.now()

    def _find(self, key_id: str) -> Any:
        if not any(k.get("kid") == key_id for k in self.keys):
            return None  # botbuilder raises IndexError here
        return super()._find(key_id)


def install_key_fetcher(metadata_url: str | None) -> str:
    """Make botbuilder's channel validation use `metadata_url` (default: the public Bot Framework
    endpoint) through `AsyncOpenIdMetadata`. Returns the URL in use."""
    url = metadata_url or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
    ChannelValidation.open_id_metadata_endpoint = url
    current = JwtTokenExtractor.metadataCache.get(url)
    if not isinstance(current, AsyncOpenIdMetadata):
        JwtTokenExtractor.metadataCache[url] = AsyncOpenIdMetadata(url)
    return url


TOKEN_PATH = "/oauth2/v2.0/token"


def bot_configuration(settings: Settings, openid_metadata_url: str | None = None) -> Any:
    """The configuration object botbuilder's `ConfigurationBotFrameworkAuthentication` reads: the
    app's credentials and the cloud's endpoints (botbuilder's "parameterized" form, so the public
    and the US Government clouds are both just settings)."""
    password = settings.microsoft_app_password.get_secret_value() if settings.microsoft_app_password else ""
    config = SimpleNamespace(
        APP_ID=settings.microsoft_app_id,
        APP_PASSWORD=password,
        APP_TYPE=settings.microsoft_app_type or "MultiTenant",
    )
    if settings.microsoft_app_id:  # local mode (no app id) validates nothing: botbuilder's default
        config.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = (
            openid_metadata_url or settings.microsoft_openid_metadata_url
        )
        config.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = settings.microsoft_token_issuer
        # botbuilder wants the authority the token endpoint belongs to.
        config.TO_CHANNEL_FROM_BOT_LOGIN_URL = settings.microsoft_token_endpoint.removesuffix(TOKEN_PATH)
        config.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = settings.microsoft_token_issuer
    if settings.microsoft_app_tenant_id:
        config.APP_TENANTID = settings.microsoft_app_tenant_id
    return config


class _CachingConnectorFactory(ConnectorFactory):
    def __init__(
        self, owner: CachingBotFrameworkAuthentication, inner: ConnectorFactory, app_id: str
    ) -> None:
        self._owner = owner
        self._inner = inner
        self._app_id = app_id

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        # Proactive sends pass no audience, replies pass the default one: the same client.
        key = (self._app_id, service_url, audience or self._owner.get_originating_audience())
        client = self._owner.clients.get(key)
        if client is None:
            client = await self._inner.create(service_url, audience)
            client.config.connection.timeout = self._owner.request_timeout
            await warm_token(client)
            self._owner.clients[key] = client
        return client


class CachingBotFrameworkAuthentication(ConfigurationBotFrameworkAuthentication):
    """`ConfigurationBotFrameworkAuthentication` that reuses connector and token clients."""

    def __init__(
        self,
        settings: Settings,
        *,
        credentials_factory: ServiceClientCredentialsFactory | None = None,
        request_timeout: float = 30.0,
        openid_metadata_url: str | None = None,
    ) -> None:
        super().__init__(
            bot_configuration(settings, openid_metadata_url), credentials_factory=credentials_factory
        )
        self.token_issuer = settings.microsoft_token_issuer
        self.app_id = settings.microsoft_app_id
        self.local = not (settings.microsoft_app_id and settings.microsoft_app_password)
        self.request_timeout = request_timeout
        self.clients: dict[tuple[str, str, str], ConnectorClient] = {}
        self._token_clients: dict[str, UserTokenClient] = {}

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        app_id = _app_id(claims_identity)
        return _CachingConnectorFactory(self, super().create_connector_factory(claims_identity), app_id)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        app_id = _app_id(claims_identity)
        client = self._token_clients.get(app_id)
        if client is None:
            client = await super().create_user_token_client(claims_identity)
            self._token_clients[app_id] = client
        return client

    async def keep_tokens_fresh(self, every: float = TOKEN_REFRESH_SECONDS) -> None:
        """Run forever: refresh every client's token before MSAL would do it on the loop."""
        while True:
            await asyncio.sleep(every)
            for client in list(self.clients.values()):
                await warm_token(client)

    async def authenticate(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        """Validate the activity's token; any failure is `Unauthorized` (a 401 for the caller)."""
        if self.local and not auth_header:
            result = await self.authenticate_request(activity, "")
        else:
            _check_issuer(auth_header, self.token_issuer)
            try:
                result = await self.authenticate_request(activity, auth_header)
            except Exception as e:
                raise Unauthorized(f"{type(e).__name__}: {e}") from None
        app_id = _app_id(result.claims_identity)
        if result.connector_factory is not None:
            result.connector_factory = _CachingConnectorFactory(self, result.connector_factory, app_id)
        return result


async def warm_token(client: ConnectorClient) -> None:
    """Fetch or refresh the bot's own token in a thread. msrest signs each request synchronously on
    the event loop, and MSAL goes to the network when its token is missing or about to expire:
    keeping it fresh from here means the loop only ever reads MSAL's in-memory cache."""
    credentials = client.config.credentials
    if credentials is None or not getattr(credentials, "microsoft_app_id", None):
        return  # local mode: no token
    try:
        await asyncio.to_thread(credentials.get_access_token)
    except Exception as e:  # the send will fail and be retried; say why here
        log.warning("could not get the bot's token: %s", type(e).__name__)


def _app_id(claims_identity: ClaimsIdentity) -> str:
    claims = claims_identity.claims if claims_identity else {}
    return str(
        claims.get(AuthenticationConstants.AUDIENCE_CLAIM)
        or claims.get(AuthenticationConstants.APP_ID_CLAIM)
        or ""
    )


def _check_issuer(auth_header: str, expected: str) -> None:
    """Teams only sends tokens issued by the Bot Framework: refuse anything else before botbuilder
    wanders off to other (emulator, skill) key endpoints for it."""
    scheme, _, token = (auth_header or "").partition(" ")
    if scheme != "Bearer" or not token:
        raise Unauthorized("no bearer token")
    try:
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError as e:
        raise Unauthorized(f"malformed token: {e}") from None
    if issuer != expected:
        raise Unauthorized("token not issued by the Bot Framework")
