"""Answers through an interaction's `response_url`: the body Slack takes, and what its refusals mean
for the outbox (retry later, post to the person instead, or give up)."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack import blockkit
from bot.core.delivery import PermanentFailure, RetryLater
from bot.core.messages import Message


class ReplyExpired(Exception):
    """The URL takes no more answers (Slack answers 404 after 30 minutes or 5 uses)."""


def webhook_logger() -> logging.Logger:
    """slack_sdk's webhook client formats every request body and response for a debug line unless
    its logger has a level of its own (it tests `logger.level`, not `isEnabledFor`): a tenth of a
    click's CPU. Give it the level logging has now (DEBUG when the operator debugs)."""
    logger = logging.getLogger("slack_sdk.webhook.async_client")
    logger.setLevel(logger.getEffectiveLevel())
    return logger


def answer_body(message: Message, visibility: str, *, can_replace: bool) -> dict[str, Any]:
    """In place of the clicked message, only to the caller (ephemeral), or to the channel."""
    body: dict[str, Any] = {"text": blockkit.summary_text(message), "blocks": blockkit.render(message)}
    if visibility == "replace" and can_replace:
        body["replace_original"] = True
    else:
        body["replace_original"] = False
        body["response_type"] = "in_channel" if visibility == "public" else "ephemeral"
    return body


async def post_answer(
    session: aiohttp.ClientSession, url: str, body: dict[str, Any], *, seconds: int, logger: logging.Logger
) -> None:
    """POST `body` to `url` within `seconds`; raises ReplyExpired, RetryLater (outage, 429) or
    PermanentFailure."""
    webhook = AsyncWebhookClient(url, session=session, timeout=seconds, logger=logger)
    try:
        response = await webhook.send_dict(body)
    except (aiohttp.ClientError, TimeoutError) as e:
        raise RetryLater(f"response_url: {type(e).__name__}: {e}") from e
    status = response.status_code
    if status == 200:
        return
    said = f"response_url answered {status} {response.body}"
    if status == 404:
        raise ReplyExpired(said)
    if status == 429:
        headers = response.headers or {}
        retry_after = headers.get("Retry-After") or headers.get("retry-after")
        raise RetryLater(said, retry_after=float(retry_after) if retry_after else 1.0, status=429)
    if status >= 500:
        raise RetryLater(said, status=status)
    raise PermanentFailure(said)
