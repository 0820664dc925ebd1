"""Opaque dedupe keys: remember that a click was handled without storing who clicked what.

A click's natural id (user + action id + time) would sit in `processed_inbound` next to nothing
else, yet pair each person with the button they pressed: for a survey, their anonymous answer.
The key is an HMAC of those parts under a secret that is not in the database, so a copy of the
database cannot recompute it for a guessed person and answer.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from bot.core.settings import Settings

_LABEL = b"cohortbot dedupe keys v1"
_PROCESS_SECRET = secrets.token_bytes(32)  # no platform secret at all (console, tests): this process


def dedupe_secret(settings: Settings) -> bytes:
    """A secret kept outside the database: derived (with its own label, so it reveals nothing of
    them) from the first secret configured, the same on every instance of one deployment."""
    for candidate in (
        settings.survey_secret,
        settings.slack_signing_secret,
        settings.slack_bot_token,
        settings.microsoft_app_password,
    ):
        if candidate is not None:
            return hmac.new(candidate.get_secret_value().encode(), _LABEL, hashlib.sha256).digest()
    return _PROCESS_SECRET


def opaque_key(prefix: str, secret: bytes, *parts: object) -> str:
    """`prefix` + a keyed hash of `parts`: equal for a retried delivery, unlinkable without `secret`."""
    message = "\x1f".join(str(p) for p in parts).encode()
    return prefix + hmac.new(secret, message, hashlib.sha256).hexdigest()[:40]
