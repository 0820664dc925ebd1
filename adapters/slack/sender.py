"""Outbox delivery to Slack through `AsyncWebClient`: post, update, upload charts, map errors.

DMs are posted to the user id (Slack opens the app's DM and returns its channel id, which the
delivery worker stores); `conversations.open` is never called per message. Each post waits for
the pacer; a 429 becomes `RetryLater(Retry-After)`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import blockkit
from adapters.slack.installations import WorkspaceClients
from adapters.slack.pacing import Pacer
from adapters.slack.response_url import ReplyExpired, answer_body, post_answer, webhook_logger
from bot.core.delivery import PermanentFailure, RetryLater, SendResult, Target
from bot.core.messages import Message

log = logging.getLogger(__name__)

# Slack errors after which the same call can never succeed. True: the person cannot be reached.
PERMANENT_ERRORS: dict[str, bool] = {
    "user_not_found": True,
    "account_inactive": True,
    "user_disabled": True,
    "cannot_dm_bot": True,
    "messages_tab_disabled": True,
    "channel_not_found": False,
    "is_archived": False,
    "not_in_channel": False,
    "restricted_action": False,
    "msg_too_long": False,
    "invalid_blocks": False,
    "invalid_blocks_format": False,
    "no_text": False,
    "message_not_found": False,
    "cant_update_message": False,
    "edit_window_closed": False,
}


def _header(headers: Any, name: str) -> str | None:
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == name.lower():
            return str(value[0] if isinstance(value, list) else value)
    return None


def classify(error: SlackApiError) -> Exception:
    """The delivery outcome of a failed Web API call: retry later, or give up (and why)."""
    response = error.response
    status = getattr(response, "status_code", 200)
    if status == 429:
        retry_after = _header(getattr(response, "headers", None), "Retry-After")
        return RetryLater(
            "rate limited (429)", retry_after=float(retry_after) if retry_after else 1.0, status=429
        )
    if status >= 500:
        return RetryLater(f"Slack answered {status}", status=status)
    code = str(response.get("error", "unknown_error"))
    if code in PERMANENT_ERRORS:
        return PermanentFailure(code, blocked=PERMANENT_ERRORS[code])
    # Token or configuration problems (invalid_auth, missing_scope...) are fixed by a person: keep the row.
    return RetryLater(code)


METADATA_EVENT = "cohortbot_outbox"  # Slack metadata event_type: what carries the outbox key
HISTORY_SLACK = timedelta(minutes=5)  # look back this far before the row was queued (clock skew)
HISTORY_LIMIT = 100  # the few messages the bot posted in that DM since: one page is enough


def outbox_metadata(key: str) -> dict[str, Any]:
    return {"event_type": METADATA_EVENT, "event_payload": {"key": key}}


def key_in(message: dict[str, Any]) -> str | None:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != METADATA_EVENT:
        return None
    key = (metadata.get("event_payload") or {}).get("key")
    return str(key) if key is not None else None


class SlackSender:
    """The `Sender` the delivery worker uses for rows whose platform is "slack"."""

    def __init__(self, client: AsyncWebClient, pacer: Pacer, clients: WorkspaceClients | None = None) -> None:
        self.client = client
        self.pacer = pacer
        self.clients = clients or WorkspaceClients(client)  # each workspace's own token
        self.webhook_log = webhook_logger()

    async def send(self, target: Target, message: Message) -> SendResult:
        if target.reply_to:
            try:
                return await self._answer_in_place(target, message)
            except ReplyExpired as e:  # posted to the person instead, once (the row's key)
                log.info("%s: %s; posted to the person instead", target.key, e)
        client = await self.clients.client(target.workspace)
        if target.in_doubt:
            found = await self.already_posted(client, target)
            if found is not None:
                return found
        await self.pacer.wait(target.workspace, target.address)
        response = await self._call(
            client.chat_postMessage,
            target,
            channel=target.address,
            text=blockkit.summary_text(message),
            blocks=blockkit.render(message),
            unfurl_links=False,
            metadata=outbox_metadata(target.key),
        )
        channel = str(response["channel"])
        for image in blockkit.local_images(message):
            await self._upload(client, target, channel, image)
        return SendResult(message_id=str(response["ts"]), channel_id=channel)

    async def _answer_in_place(self, target: Target, message: Message) -> SendResult:
        """Through the interaction's response_url. Answering twice (a row in doubt after a crash)
        replaces the card with the same content again: nothing to look up first."""
        assert target.reply_to is not None
        body = answer_body(message, target.visibility, can_replace=True)
        session, seconds = self.client.session, int(self.client.timeout)
        await post_answer(session, target.reply_to, body, seconds=seconds, logger=self.webhook_log)
        return SendResult()

    async def already_posted(self, client: AsyncWebClient, target: Target) -> SendResult | None:
        """The post of this row if an earlier attempt got it into Slack (found by its metadata key
        in the conversation's recent history), else None. Costs one or two Tier 3 calls, only for
        the few rows a crash left in doubt."""
        channel = target.dm_channel or target.address
        oldest = (target.queued_at - HISTORY_SLACK).timestamp() if target.queued_at else 0
        try:
            if channel[:1] in "UW":  # a DM never recorded: ask Slack which channel it is
                opened = await self._call(client.conversations_open, target, users=target.address)
                channel = str(opened["channel"]["id"])
            history = await self._call(
                client.conversations_history,
                target,
                channel=channel,
                oldest=f"{oldest:.6f}",
                limit=HISTORY_LIMIT,
                include_all_metadata=True,
            )
        except PermanentFailure:
            return None  # no way to look (e.g. a channel without a history scope): post again
        except RetryLater as e:
            if not e.reason.startswith("rate limited"):
                return None
            raise
        for posted in history.get("messages") or []:
            if key_in(posted) == target.key:
                log.info("%s was already in Slack (ts %s): not posted again", target.key, posted.get("ts"))
                return SendResult(message_id=str(posted["ts"]), channel_id=channel)
        return None

    async def update(
        self, target: Target, message_id: str, channel_id: str | None, message: Message
    ) -> SendResult:
        channel = channel_id or target.dm_channel or target.address
        client = await self.clients.client(target.workspace)
        response = await self._call(
            client.chat_update,
            target,
            channel=channel,
            ts=message_id,
            text=blockkit.summary_text(message),
            blocks=blockkit.render(message),
        )
        return SendResult(message_id=str(response.get("ts") or message_id), channel_id=channel)

    async def _upload(self, client: AsyncWebClient, target: Target, channel: str, image: Any) -> None:
        path = blockkit.local_path(image)
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except OSError:
            log.warning("image %s cannot be read; sent without it", path)
            return
        await self._call(
            client.files_upload_v2,
            target,
            channel=channel,
            content=data,
            filename=path.name,
            title=image.alt or path.name,
        )

    async def _call(self, method: Any, target: Target, **kwargs: Any) -> Any:
        try:
            return await method(**kwargs)
        except SlackApiError as e:
            # A 429 reschedules the row after Retry-After (the worker holds later rows to the same
            # address until it is sent) and pauses the pacer, which lowers the workspace's rate.
            outcome = classify(e)
            posting = getattr(method, "__name__", "") == "chat_postMessage"  # limits are per method
            if posting and isinstance(outcome, RetryLater) and outcome.reason.startswith("rate limited"):
                await self.pacer.refused(target.workspace, target.address, outcome.retry_after or 1.0)
            raise outcome from e
        except (aiohttp.ClientError, TimeoutError, SlackClientError) as e:
            raise RetryLater(f"{type(e).__name__}: {e}") from e
