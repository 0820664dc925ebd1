"""Rotating check-in codes: a six-digit HMAC of a per-session secret and the time step, like a TOTP.

A code is valid during its own step and the next one, so a code read out just before it
rotates still works for one more step; a code from longer ago, or a guess, does not.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

DIGITS = 6
MAX_FAILURES = 5


def new_secret() -> str:
    return secrets.token_hex(20)


def _step(when: datetime, step: timedelta) -> int:
    return int(when.timestamp() // step.total_seconds())


def code_for_step(secret: str, index: int) -> str:
    digest = hmac.new(bytes.fromhex(secret), index.to_bytes(8, "big"), hashlib.sha256).digest()
    offset = digest[-1] & 0x0F  # dynamic truncation, as in RFC 4226
    number = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return str(number % 10**DIGITS).zfill(DIGITS)


def current_code(secret: str, when: datetime, step: timedelta) -> str:
    return code_for_step(secret, _step(when, step))


def rotates_at(when: datetime, step: timedelta) -> datetime:
    index = _step(when, step) + 1
    return datetime.fromtimestamp(index * step.total_seconds(), tz=when.tzinfo)


def code_is_valid(secret: str, typed: str, when: datetime, step: timedelta) -> bool:
    """True for the current code and the previous step's, compared in constant time."""
    typed = "".join(typed.split())
    index = _step(when, step)
    return any(hmac.compare_digest(code_for_step(secret, i), typed) for i in (index, index - 1))
