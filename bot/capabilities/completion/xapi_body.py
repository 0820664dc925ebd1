"""Decoding an xAPI request body: JSON (strict: no NaN, no infinite numbers, no JSON bombs), or
`multipart/mixed` with the statements first and one part per attachment, checked by its SHA-256.

Pure: `decode_body(content_type, raw)` returns the decoded statements, or raises `BadBody`.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import json
import math
from typing import Any

from bot.core.i18n import L_


class BadBody(ValueError):
    """The body cannot be read as xAPI statements; the message says why (answered 400, in English;
    `L_` where a file's content is read too: `cohortbot import completions`)."""


def decode_body(content_type: str, raw: bytes) -> Any:
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "multipart/mixed":
        body, hashes = _multipart(content_type, raw)
        _check_attachments(body, hashes)
        return body
    body = decode_json(raw)
    _check_attachments(body, set())
    return body


def decode_json(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadBody(L_("the body is not UTF-8 text")) from None
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise BadBody(L_("the body nests too deep to be xAPI statements")) from None
    except ValueError as e:  # JSONDecodeError, an infinite number, an integer too long to read
        raise BadBody(L_("the body is not valid JSON: {error}", error=str(e))) from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} is out of range")
    return value


def _multipart(content_type: str, raw: bytes) -> tuple[Any, set[str]]:
    """The statements (first part, application/json) and the SHA-256 of every attachment part."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n" + raw
    )
    if not message.is_multipart():
        raise BadBody("multipart/mixed body without parts (is the boundary right?)")
    parts = list(message.iter_parts())  # type: ignore[attr-defined]
    if not parts:
        raise BadBody("multipart/mixed body without parts (is the boundary right?)")
    first = parts[0]
    if first.get_content_type() != "application/json":
        raise BadBody("the first part of a multipart/mixed body must be the statements, as application/json")
    body = decode_json(first.get_payload(decode=True) or b"")
    hashes = set()
    for part in parts[1:]:
        declared = str(part.get("X-Experience-API-Hash", "")).strip().lower()
        if not declared:
            raise BadBody("every attachment part needs an X-Experience-API-Hash header")
        if hashlib.sha256(part.get_payload(decode=True) or b"").hexdigest() != declared:
            raise BadBody(f"the attachment part {declared[:12]}... does not match its X-Experience-API-Hash")
        hashes.add(declared)
    return body, hashes


def _check_attachments(body: Any, hashes: set[str]) -> None:
    """Every attachment without a fileUrl must come as a part of the request (xAPI 1.0.3, 2.4.11)."""
    statements = body if isinstance(body, list) else [body]
    for statement in statements:
        attachments = statement.get("attachments") if isinstance(statement, dict) else None
        for attachment in attachments if isinstance(attachments, list) else []:
            if not isinstance(attachment, dict) or "fileUrl" in attachment:
                continue
            sha2 = attachment.get("sha2")
            if isinstance(sha2, str) and sha2.lower() not in hashes:
                raise BadBody(
                    f"attachment {sha2[:12]}... has no fileUrl and no part in the request: "
                    "send it as multipart/mixed"
                )
