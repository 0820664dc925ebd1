"""Outbox delivery to Teams: proactive messages through botbuilder's `continue_conversation` and
`create_conversation`, paced to Teams' limits, with the connector's failures sorted into
"retry later" (429, 412, 5xx, network) and "never" (403 MessageWritesBlocked, gone).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)
from msrest.exceptions import ClientRequestError, HttpOperationError

from adapters.teams.cards import card_attachment
from adapters.teams.conversations import ConversationBook
from adapters.teams.pacing import Pacer
from bot.core.delivery import PermanentFailure, RetryLater, SendResult, Target
from bot.core.messages import Message

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = {408, 412, 429, 500, 502, 503, 504}
TENANT_PAUSE_ON_429 = 1.0  # a 429 may be the tenant-wide limit: let every conversation breathe


def message_activity(message: Message, source_key: str | None = None) -> Activity:
    """The activity carrying `message` as an Adaptive Card (its summary is the notification text)."""
    attachment = card_attachment(message, source_key)
    return Activity(
        type=ActivityTypes.message,
        summary=message.summary,
        attachments=[Attachment(content_type=attachment["contentType"], content=attachment["content"])],
    )


class TeamsSender:
    """The outbox's Sender for `platform="teams"` targets (DMs and cohort channel posts)."""

    def __init__(
        self,
        adapter: CloudAdapter,
        app_id: str,
        book: ConversationBook,
        pacer: Pacer | None = None,
    ) -> None:
        self.adapter = adapter
        self.app_id = app_id
        self.book = book
        self.pacer = pacer or Pacer()

    async def send(self, target: Target, message: Message) -> SendResult:
        reference = await self._reference(target)
        conversation_id = (reference or {}).get("conversation", {}).get("id")
        activity = message_activity(message, target.key)
        if reference is None or not conversation_id:
            return await self._create_and_send(target, activity)
        return await self._continue(target, reference, activity)

    async def update(
        self, target: Target, message_id: str, channel_id: str | None, message: Message
    ) -> SendResult:
        reference = await self._reference(target)
        if channel_id:
            reference = _with_conversation(reference or await self._tenant_reference(target), channel_id)
        if reference is None:
            raise PermanentFailure("no conversation to update the message in")
        activity = message_activity(message, target.key)
        activity.id = message_id
        conversation = reference["conversation"]["id"]

        async def update(turn: TurnContext) -> None:
            activity.conversation = turn.activity.conversation
            await turn.update_activity(activity)

        await self._call(target, conversation, self._continue_with(reference, update))
        return SendResult(message_id=message_id, channel_id=conversation)

    async def _reference(self, target: Target) -> dict[str, Any] | None:
        """Where to send: a channel's stored reference; for a person, their personal chat."""
        if target.person_id is None:
            return await self.book.reference(target.workspace, target.address)
        reference = dict(target.conversation_ref) if target.conversation_ref else None
        conversation = (reference or {}).get("conversation") or {}
        if reference and conversation.get("conversationType", "personal") == "personal":
            return reference
        if target.dm_channel:  # the personal chat learned from an earlier send
            base = reference or await self._tenant_reference(target)
            return _with_conversation(base, target.dm_channel, user_id=target.address)
        return None

    async def _tenant_reference(self, target: Target) -> dict[str, Any] | None:
        return await self.book.any_reference(target.workspace)

    async def _continue(self, target: Target, reference: Mapping[str, Any], activity: Activity) -> SendResult:
        conversation = reference["conversation"]["id"]
        sent: list[str] = []

        async def send(turn: TurnContext) -> None:
            # botbuilder would make this a reply to its made-up continuation id; post it instead
            # (in a channel: a new thread).
            turn.activity.id = None
            response = await turn.send_activity(activity)
            sent.append(response.id if response and response.id else "")

        await self._call(target, conversation, self._continue_with(reference, send))
        return SendResult(message_id=sent[0] if sent else None, channel_id=conversation)

    def _continue_with(self, reference: Mapping[str, Any], logic: Any) -> Any:
        ref = ConversationReference().deserialize(dict(reference))
        return lambda: self.adapter.continue_conversation(ref, logic, bot_app_id=self.app_id)

    async def _create_and_send(self, target: Target, activity: Activity) -> SendResult:
        """Open the bot's personal chat with someone who never wrote to it here (Teams returns the
        existing chat if there is one), then send in it."""
        if target.person_id is None:
            raise PermanentFailure("no stored reference for this channel: mention the bot there once")
        base = dict(target.conversation_ref) if target.conversation_ref else None
        base = base or await self._tenant_reference(target)
        if base is None or not base.get("serviceUrl"):
            raise PermanentFailure("nobody from this Teams tenant has used the app yet: install it first")
        bot = base.get("bot") or {"id": f"28:{self.app_id}"}
        parameters = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=bot["id"], name=bot.get("name")),
            members=[ChannelAccount(id=target.address)],
            tenant_id=target.workspace,
            channel_data={"tenant": {"id": target.workspace}},
        )
        created: list[tuple[str, str]] = []

        async def send(turn: TurnContext) -> None:
            turn.activity.id = None  # a new message, not a reply
            response = await turn.send_activity(activity)
            created.append((turn.activity.conversation.id, response.id if response and response.id else ""))

        async def create() -> None:
            await self.adapter.create_conversation(
                self.app_id,
                send,
                parameters,
                channel_id=base.get("channelId") or "msteams",
                service_url=base["serviceUrl"],
            )

        await self._call(target, f"create:{target.address}", create)
        conversation, message_id = created[0]
        return SendResult(message_id=message_id or None, channel_id=conversation)

    async def _call(self, target: Target, conversation: str, call: Any) -> None:
        await self.pacer.acquire(target.workspace, conversation)
        try:
            await call()
        except HttpOperationError as e:
            outcome = self._sorted(target, conversation, e)
            if isinstance(outcome, RetryLater) and "429" in outcome.reason:
                await self.pacer.refused(target.workspace, outcome.retry_after or TENANT_PAUSE_ON_429)
            raise outcome from None
        except ClientRequestError as e:
            raise RetryLater(f"connector unreachable: {e}") from None

    def _sorted(self, target: Target, conversation: str, error: HttpOperationError) -> Exception:
        response = getattr(error, "response", None)
        status = int(getattr(response, "status_code", 0) or 0)
        body = _body(response)
        if status in RETRYABLE_STATUSES:
            retry_after = _retry_after(response)
            if status == 429:
                self.pacer.pause(target.workspace, conversation, retry_after or 1.0)
                self.pacer.pause(target.workspace, None, TENANT_PAUSE_ON_429)
            return RetryLater(f"Teams answered {status}", retry_after, status=status)
        if status == 403 and "MessageWritesBlocked" in body:
            return PermanentFailure(
                "the person blocked or uninstalled the app (403 MessageWritesBlocked)", blocked=True
            )
        if status in (401, 0):
            return RetryLater(f"Teams answered {status or 'nothing'}: check the app credentials")
        return PermanentFailure(f"Teams answered {status}: {body[:200]}")


def _with_conversation(
    reference: Mapping[str, Any] | None, conversation_id: str, *, user_id: str | None = None
) -> dict[str, Any] | None:
    if reference is None:
        return None
    data = dict(reference)
    data["conversation"] = {**(data.get("conversation") or {}), "id": conversation_id}
    if user_id:  # the person's own chat with the bot
        data["conversation"]["conversationType"] = "personal"
        data["user"] = {"id": user_id}
    return data


def _body(response: Any) -> str:
    try:
        return str(getattr(response, "text", "") or "")
    except Exception:  # a body that cannot be decoded tells us nothing more
        return ""


def _retry_after(response: Any) -> float | None:
    headers = getattr(response, "headers", None) or {}
    value = headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
