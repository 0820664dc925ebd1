"""The Bolt app: Slack requests in, engine Inbounds out, replies rendered back as Block Kit.

Acknowledgement: a click or a modal answer runs through the engine (one commit) and is then
acked, within `ack_budget` seconds; past it the ack goes out and the work finishes in the
background, so Slack's 3-second limit always holds. Slash commands and events are acked at once
and answered afterwards (through `response_url`, `chat.postMessage` or `views.publish`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from functools import partial
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped, warning_token_skipped
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import blockkit
from adapters.slack.installations import WorkspaceClients, workspace_of
from adapters.slack.profiles import ProfileCache
from adapters.slack.response_url import ReplyExpired, answer_body, post_answer, webhook_logger
from bot.core.dedupe import dedupe_secret, opaque_key
from bot.core.delivery import PermanentFailure, RetryLater
from bot.core.errors import PAYLOAD_SHAPE_ERRORS
from bot.core.inbound import Inbound
from bot.core.messages import Reply
from bot.core.request_context import new_request_id
from bot.core.runtime import App

log = logging.getLogger(__name__)


# What this app handles; `manifest/slack.yaml` must declare each of them (a test checks).
COMMAND = "/cohort"
EVENTS = ("app_home_opened", "message.im", "app_uninstalled", "tokens_revoked")
ACK_BUDGET = 2.0  # seconds of engine work before a click is acked anyway (Slack allows 3)
REPLAY_WINDOW = 360.0  # Bolt refuses timestamps older than 300 s; remember signatures a bit longer


class ReplayGuard:
    """Refuses a signed HTTP request seen before (same signature): a replay, even within 5 minutes.

    It runs after Bolt's signature check, so only genuine signatures are remembered. In memory:
    each instance guards itself; event ids and action ids are deduplicated in the database anyway.
    """

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self.now = now
        self.seen: dict[str, float] = {}

    async def check(self, req: AsyncBoltRequest, next: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse:
        if req.mode == "socket_mode":
            return await next()
        signature = (req.headers.get("x-slack-signature") or [""])[0]
        now = self.now()
        if signature in self.seen:
            return BoltResponse(status=401, body="replayed request")
        if len(self.seen) > 10_000:
            self.seen = {s: t for s, t in self.seen.items() if t > now}
        self.seen[signature] = now + REPLAY_WINDOW
        return await next()


class EnvironmentTokenNotice(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment even when it is given the client built from
    that token (or installations supply the tokens), then warns that it will not use it. We meant
    exactly that, so the warning would only teach operators to ignore warnings."""

    SILENCED = (warning_client_prioritized_and_token_skipped(), warning_token_skipped())

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() not in self.SILENCED


def bolt_logger() -> logging.Logger:
    logger = logging.getLogger("adapters.slack.bolt")
    if not any(isinstance(f, EnvironmentTokenNotice) for f in logger.filters):
        logger.addFilter(EnvironmentTokenNotice())
    return logger


def _auth(request: AsyncBoltRequest) -> str:
    return "slack-socket-mode" if request.mode == "socket_mode" else "slack-signature"


def _request_time(request: AsyncBoltRequest) -> datetime | None:
    raw = (request.headers.get("x-slack-request-timestamp") or [""])[0]
    return datetime.fromtimestamp(int(raw), UTC) if raw and raw.isdigit() else None


def _slack_time(ts: str | None) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(ts), UTC) if ts else None
    except ValueError:
        return None


def _team_of(body: dict[str, Any]) -> str:
    """The workspace of an interaction (`workspace_of`). An org-wide install sends `team: null`:
    the user's (or the view's) team id says it then; none at all is a malformed payload."""
    team = workspace_of(body) or (body.get("view") or {}).get("team_id")
    if not isinstance(team, str) or not team:
        raise KeyError("no team id in the payload")
    return team


def _channel_of_command(command: dict[str, Any]) -> str | None:
    """The channel a command was typed in, unless it is a DM (a DM is no cohort channel)."""
    channel = command.get("channel_id") or ""
    if not channel or channel.startswith("D") or command.get("channel_name") == "directmessage":
        return None
    return str(channel)


class SlackBot:
    """Owns the Bolt app and its listeners; `bolt.async_dispatch` serves HTTP and Socket Mode alike."""

    def __init__(
        self,
        app: App,
        client: AsyncWebClient,
        session: aiohttp.ClientSession,
        *,
        signing_secret: str | None,
        socket_mode: bool,
        ack_budget: float = ACK_BUDGET,
        clients: WorkspaceClients | None = None,
        oauth_settings: AsyncOAuthSettings | None = None,
    ) -> None:
        self.app = app
        self.dedupe_secret = dedupe_secret(app.settings)
        self.client = client
        self.clients = clients or WorkspaceClients(client)
        self.session = session
        self.webhook_log = webhook_logger()
        self.ack_budget = ack_budget
        self.profiles = ProfileCache(client, clients=self.clients)
        self.tasks: set[asyncio.Task[Any]] = set()
        self.bolt = AsyncApp(
            client=client,
            signing_secret=signing_secret,
            request_verification_enabled=signing_secret is not None,
            oauth_settings=oauth_settings,
            logger=bolt_logger(),
            # HTTP: run the listener before answering (no 10 ms ack polling); each listener acks
            # as soon as its reply is known. Socket Mode: answer as soon as ack() is called.
            process_before_response=not socket_mode,
            name="cohortbot",
        )
        # Each middleware costs every request a Bolt dispatch step: only the mode's own.
        if socket_mode:
            self.bolt.middleware(self.measure)
        else:
            self.bolt.middleware(ReplayGuard().check)
        self.bolt.error(self.on_error)
        self.bolt.command(COMMAND)(self.on_command)
        self.bolt.action(blockkit.ACTION_ID_RE)(self.on_click)
        self.bolt.view_submission(blockkit.MODAL_CALLBACK)(self.on_answer)
        self.bolt.event("app_home_opened")(self.on_home_opened)
        self.bolt.event("message")(self.on_direct_message)
        self.bolt.event("app_uninstalled")(self.on_uninstalled)
        self.bolt.event("tokens_revoked")(self.on_uninstalled)

    async def measure(
        self, req: AsyncBoltRequest, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse:
        """Socket Mode requests skip the HTTP server: give them a request id and time them here."""
        if req.mode != "socket_mode":
            return await next()
        new_request_id()
        started = time.perf_counter()
        try:
            return await next()
        finally:
            self.app.metrics.inbound_latency.labels("slack").observe(time.perf_counter() - started)

    async def on_error(self, error: Exception, body: dict[str, Any]) -> BoltResponse | None:
        """A signed payload of a shape we cannot read (a field missing or of another type) is the
        sender's mistake: 400, not 500. Anything else stays a 5xx, so Slack retries it."""
        if isinstance(error, PAYLOAD_SHAPE_ERRORS):
            log.warning("Slack payload we cannot read (%s: %s)", type(error).__name__, error)
            return BoltResponse(status=400, body="malformed Slack payload")
        log.error("Slack request failed", exc_info=error)
        return None

    # -- background work ----------------------------------------------------------------------------

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Slack background work failed", exc_info=task.exception())

    async def settle(self, within: float = 10.0) -> None:
        """Wait for work started after acks (replies, modals, home tabs) to finish."""
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=within)

    async def _within_budget(self, inbound: Inbound) -> asyncio.Task[Reply | None]:
        task = asyncio.create_task(self.app.engine.handle(inbound))
        await asyncio.wait({task}, timeout=self.ack_budget)
        return task

    # -- slash command --------------------------------------------------------------------------------

    async def on_command(self, ack: Any, command: dict[str, Any], request: AsyncBoltRequest) -> None:
        await ack()
        self.spawn(self._command(command, request))

    async def _command(self, command: dict[str, Any], request: AsyncBoltRequest) -> None:
        team, text = workspace_of(command), command.get("text") or ""
        inbound = Inbound(
            sender=await self.profiles.get(team, command["user_id"]),
            text=text,
            channel_id=_channel_of_command(command),
            **self._mentions(team, text),
            dedupe_key=f"slack:command:{team}:{command.get('trigger_id')}"
            if command.get("trigger_id")
            else None,
            event_time=_request_time(request),
            auth=_auth(request),
        )
        reply = await self.app.engine.handle(inbound)
        if reply is not None:
            await self.respond(
                command["response_url"], reply, can_replace=False, team=team, user=command["user_id"]
            )

    def _mentions(self, team: str, text: str) -> dict[str, Any]:
        """The mention tokens of `text`, for the engine to look up once the command may run."""
        return {
            "pending_mentions": self.profiles.mention_tokens(text),
            "lookup_mentions": partial(self.profiles.mentions, team),
        }

    # -- clicks ---------------------------------------------------------------------------------------

    async def on_click(
        self, ack: Any, body: dict[str, Any], action: dict[str, Any], request: AsyncBoltRequest
    ) -> None:
        decoded = blockkit.decode_click(action, body.get("state") or {})
        if decoded is None:  # a checkbox toggle: the answer comes with the submit button
            await ack()
            return
        if isinstance(decoded, blockkit.OpenModal):
            await ack()
            view = blockkit.modal(decoded, body.get("response_url"))
            client = await self.clients.client(workspace_of(body))
            self.spawn(client.views_open(trigger_id=body["trigger_id"], view=view))
            return
        user = body["user"]
        team = _team_of(body)
        in_home = (body.get("view") or {}).get("type") == "home"
        inbound = Inbound(
            sender=await self.profiles.get(team, user["id"]),
            action=decoded,
            channel_id=(body.get("channel") or {}).get("id"),
            # The answer goes in place, queued with the click's commit (the home tab is redrawn).
            reply_to=None if in_home else body.get("response_url"),
            # A retried delivery repeats the click's trigger id and time, a second click does not.
            # Neither the button (its id says which answer it is) nor the user goes in: the row
            # must not tie an anonymous answer to a person, not even by a guessed hash.
            dedupe_key=opaque_key(
                "slack:action:", self.dedupe_secret, team, body.get("trigger_id"), action.get("action_ts")
            ),
            event_time=_slack_time(action.get("action_ts")),
            auth=_auth(request),
        )
        task = await self._within_budget(inbound)
        await ack()
        self.spawn(self._answer_click(body, task, _auth(request)))

    async def _answer_click(self, body: dict[str, Any], task: asyncio.Task[Reply | None], auth: str) -> None:
        reply = await task
        if (body.get("view") or {}).get("type") == "home":  # a click in the App Home tab: show the new state
            await self.publish_home(_team_of(body), body["user"]["id"], auth)
            if reply is not None and reply.visibility != "replace":
                await self.post(workspace_of(body), body["user"]["id"], reply)
            return
        if reply is None:
            return
        if reply.held is not None:  # committed with the click: sent now, retried by the outbox
            await self.app.replies.send(reply.held)
        elif body.get("response_url"):
            await self.respond(
                body["response_url"], reply, can_replace=True, team=_team_of(body), user=body["user"]["id"]
            )
        else:
            await self.post(workspace_of(body), body["user"]["id"], reply)

    # -- modal answers --------------------------------------------------------------------------------

    async def on_answer(
        self, ack: Any, body: dict[str, Any], view: dict[str, Any], request: AsyncBoltRequest
    ) -> None:
        submission = blockkit.decode_submission(view)
        user = body["user"]
        team = _team_of(body)
        inbound = Inbound(
            sender=await self.profiles.get(team, user["id"]),
            action=submission.action,
            # Like a click: the submission's own ids, never the typed answer or the user.
            dedupe_key=opaque_key(
                "slack:view:", self.dedupe_secret, team, view["id"], body.get("trigger_id")
            ),
            event_time=_request_time(request),
            auth=_auth(request),
        )
        task = await self._within_budget(inbound)
        if not task.done():
            await ack()
            self.spawn(self._answer_late(submission, team, user["id"], task))
            return
        reply = task.result()
        if reply is None or (reply.visibility == "replace" and submission.response_url):
            await ack()
            if reply is not None and submission.response_url:
                answer = self.respond(
                    submission.response_url, reply, can_replace=True, team=team, user=user["id"]
                )
                self.spawn(answer)
            return
        await ack(response_action="update", view=blockkit.reply_modal(reply.message))

    async def _answer_late(
        self, submission: blockkit.Submission, team: str, user_id: str, task: asyncio.Task[Reply | None]
    ) -> None:
        reply = await task
        if reply is None:
            return
        if submission.response_url:
            await self.respond(submission.response_url, reply, can_replace=True, team=team, user=user_id)
        else:
            await self.post(team, user_id, reply)

    # -- events ---------------------------------------------------------------------------------------

    async def on_home_opened(
        self, event: dict[str, Any], body: dict[str, Any], request: AsyncBoltRequest
    ) -> None:
        if event.get("tab", "home") == "home":
            self.spawn(self.publish_home(workspace_of(body), event["user"], _auth(request)))

    async def on_direct_message(
        self, event: dict[str, Any], body: dict[str, Any], request: AsyncBoltRequest
    ) -> None:
        if event.get("channel_type") != "im" or event.get("bot_id") or event.get("subtype"):
            return
        self.spawn(self._direct_message(event, body, request))

    async def _direct_message(
        self, event: dict[str, Any], body: dict[str, Any], request: AsyncBoltRequest
    ) -> None:
        team, text = workspace_of(body), event.get("text") or ""
        reply = await self.app.engine.handle(
            Inbound(
                sender=await self.profiles.get(team, event["user"]),
                text=text,
                **self._mentions(team, text),
                dedupe_key=f"slack:event:{body.get('event_id')}",
                event_time=_slack_time(event.get("ts")),
                auth=_auth(request),
            )
        )
        if reply is not None:
            await self.post(team, event["channel"], reply)

    async def on_uninstalled(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        """The app was removed from a workspace (or its bot token revoked): forget its token, so
        its messages fail as "not installed" instead of being retried with a dead token."""
        workspace = workspace_of(body)
        self.clients.forget(workspace)
        store = self.clients.installations
        if store is not None:
            org_wide = workspace.startswith("E")
            enterprise_id = body.get("enterprise_id") or (workspace if org_wide else None)
            team_id = None if org_wide else workspace
            await store.async_delete_all(enterprise_id=enterprise_id, team_id=team_id)
        log.warning("Slack: %s in workspace %s; reinstall to reach it again", event.get("type"), workspace)

    # -- answering ------------------------------------------------------------------------------------

    async def respond(
        self, response_url: str, reply: Reply, *, can_replace: bool, team: str, user: str
    ) -> None:
        """Answer through the interaction's response_url: in place, only to the caller, or to all.

        When Slack will not take it (an outage, or the URL expired after 30 minutes or was used 5
        times), the reply goes to the caller as a message through the outbox instead: retried
        until it is sent, and once (keyed by the response_url). A public reply then reaches the
        caller only."""
        body = answer_body(reply.message, reply.visibility, can_replace=can_replace)
        seconds = max(1, round(self.app.settings.platform_timeout))
        try:
            await post_answer(self.session, response_url, body, seconds=seconds, logger=self.webhook_log)
            return
        except (ReplyExpired, RetryLater, PermanentFailure) as e:
            refused = str(e)
        log.warning("response_url refused the reply (%s): it goes to the caller through the outbox", refused)
        key = "reply:" + hashlib.sha256(response_url.encode()).hexdigest()[:40]
        await self.app.engine.deliver_later(await self.profiles.get(team, user), reply, key)

    async def post(self, workspace: str, channel: str, reply: Reply) -> None:
        client = await self.clients.client(workspace)
        await client.chat_postMessage(
            channel=channel, text=blockkit.summary_text(reply.message), blocks=blockkit.render(reply.message)
        )

    async def publish_home(self, team: str, user_id: str, auth: str) -> None:
        profile = await self.profiles.get(team, user_id)
        message = await self.app.engine.home(profile, auth)
        client = await self.clients.client(team)
        await client.views_publish(user_id=user_id, view=blockkit.home(message))
