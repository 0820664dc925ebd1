"""Signed, expiring links to the report page, each naming one viewer and what they may see.

A link is `<payload>.<signature>`: the payload (cohort id, person id, scope, expiry) in URL-safe
base64 JSON, the signature an HMAC-SHA256 of it. Nothing else is trusted from the URL: the page
re-reads the viewer's rights from the database, so a link stops working when they are lost.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Literal

from bot.core.settings import Settings

Scope = Literal["staff", "manager"]
SCOPES: tuple[Scope, ...] = ("staff", "manager")
PATH_PREFIX = "/reports/"
MAX_TOKEN = 400  # a real link is ~150 characters: longer is refused before any decoding


@dataclass(frozen=True)
class ReportGrant:
    cohort_id: int
    person_id: int
    scope: Scope
    expires: datetime


class BadLink(ValueError):
    """A link that was tampered with, is malformed, or has expired."""


@cache
def _process_key() -> bytes:
    # No secret configured: links work until this process stops, and never leak a guessable key.
    return secrets.token_bytes(32)


def link_key(settings: Settings) -> bytes:
    for secret in (settings.report_link_secret, settings.evidence_secret, settings.survey_secret):
        if secret is not None and secret.get_secret_value():
            # Derived, so a link never reveals anything about the evidence or survey key.
            return hmac.new(secret.get_secret_value().encode(), b"cohortbot report links", "sha256").digest()
    return _process_key()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())


def sign(settings: Settings, grant: ReportGrant) -> str:
    body = {"c": grant.cohort_id, "p": grant.person_id, "s": grant.scope, "e": int(grant.expires.timestamp())}
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload}.{_sign(link_key(settings), payload)}"


def grant_for(settings: Settings, cohort_id: int, person_id: int, scope: Scope, now: datetime) -> ReportGrant:
    expires = now + timedelta(hours=settings.report_link_hours)
    return ReportGrant(cohort_id, person_id, scope, expires.replace(microsecond=0))


def page_url(settings: Settings, token: str) -> str:
    base = settings.public_url or f"http://localhost:{settings.port}"
    return base.rstrip("/") + PATH_PREFIX + token


def verify(settings: Settings, token: str, now: datetime) -> ReportGrant:
    """The grant a link carries; `BadLink` when forged, altered, malformed or expired."""
    if len(token) > MAX_TOKEN or token.count(".") != 1:
        raise BadLink("malformed")
    payload, signature = token.split(".")
    if not hmac.compare_digest(signature, _sign(link_key(settings), payload)):
        raise BadLink("bad signature")
    try:
        body = json.loads(_unb64(payload))
        cohort_id, person_id, scope, expires = int(body["c"]), int(body["p"]), body["s"], int(body["e"])
    except (ValueError, KeyError, TypeError) as e:
        raise BadLink("malformed") from e
    if scope not in SCOPES:
        raise BadLink("malformed")
    try:
        when = datetime.fromtimestamp(expires, tz=now.tzinfo)
    except (OverflowError, OSError, ValueError) as e:  # a time no calendar holds
        raise BadLink("malformed") from e
    if when <= now:
        raise BadLink("expired")
    return ReportGrant(cohort_id, person_id, scope, when)


def person_link(settings: Settings, cohort_id: int, person_id: int, scope: Scope, now: datetime) -> str:
    """A private report-page link for one person (the page re-checks their rights when opened)."""
    return page_url(settings, sign(settings, grant_for(settings, cohort_id, person_id, scope, now)))
