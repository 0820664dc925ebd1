"""The Teams bot: a `TeamsActivityHandler` that hands commands and card clicks to the engine and
renders its replies, and keeps everyone's conversation reference for proactive messages."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler, TeamsInfo
from botbuilder.schema import ChannelAccount
from botbuilder.schema.teams import TeamInfo, TeamsChannelAccount

from adapters.teams.cards import CARD_CONTENT_TYPE, render_card
from adapters.teams.conversations import ConversationBook
from adapters.teams.meetings import event_key, is_meeting_chat, meeting_event
from adapters.teams.profiles import MemberEmails
from adapters.teams.roster import TeamsRoster
from adapters.teams.sender import message_activity
from adapters.teams.translate import (
    PLATFORM,
    conversation_type,
    profile_of,
    reference_of,
    tenant_of,
    to_inbound,
)
from bot.core import i18n, texts
from bot.core.dedupe import dedupe_secret
from bot.core.engine import Engine
from bot.core.i18n import N_, _
from bot.core.inbound import Action, Inbound, Profile
from bot.core.meetings import MEETING_ACTION, Kind, MeetingEvent, Participant, encode
from bot.core.messages import say

log = logging.getLogger(__name__)

MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"

texts.register(
    {
        "teams.hello": N_(
            "Hi {name}! I'm cohortbot: I'll send your cohort's reminders, check-ins and surveys here. "
            "Type `help` to see what I can do."
        ),
        "teams.duplicate_click": N_("Already recorded."),
        "teams.inactive_button": N_("This button is no longer active."),
    }
)


class CohortTeamsBot(TeamsActivityHandler):
    """Translates each turn for the engine and renders its reply; decides nothing itself."""

    def __init__(
        self, engine: Engine, book: ConversationBook, *, auth_kind: str, roster: TeamsRoster | None = None
    ) -> None:
        self.engine = engine
        self.book = book
        self.auth_kind = auth_kind  # "bf-jwt" or "teams-local", kept with every record as evidence
        self.dedupe_secret = dedupe_secret(engine.settings)
        self.members = MemberEmails(timeout=engine.settings.platform_timeout)
        self.roster = roster
        self.tasks: set[asyncio.Task[Any]] = set()
        self._syncing: set[str] = set()  # team conversations whose roster sync is running

    async def settle(self, within: float = 30.0) -> None:
        """Wait for background roster syncs (started by team installs) to finish."""
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=within)

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if activity.conversation is not None and activity.service_url:
            # Channels and group chats have no Identity to keep their reference on, so we keep
            # it; and any reference gives the tenant's service URL for `create_conversation`.
            await self.book.remember(tenant_of(activity), reference_of(activity))
        # Until the engine knows who this is, answer in the language of their Teams client.
        with i18n.use(i18n.language_of(activity.locale)):
            await super().on_turn(turn_context)

    # Commands and Action.Submit clicks -------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        inbound = to_inbound(activity, auth=self.auth_kind, secret=self.dedupe_secret)
        if inbound is None:
            return
        if inbound.text is not None and not _addressed_to_bot(turn_context):
            return  # a channel message that does not @mention us is not for us
        reply = await self.engine.handle(await self._vouched(turn_context, inbound))
        if reply is None:
            return
        if inbound.action is not None and reply.visibility == "replace" and activity.reply_to_id:
            updated = message_activity(reply.message, inbound.source_key)
            updated.id = activity.reply_to_id
            updated.conversation = activity.conversation
            await turn_context.update_activity(updated)
            return
        await turn_context.send_activity(message_activity(reply.message))

    async def _vouched(self, turn_context: TurnContext, inbound: Inbound) -> Inbound:
        """The sender with the email Teams' member lookup gives (the activity carries none)."""
        return replace(inbound, sender=await self.members.complete(turn_context, inbound.sender))

    # Action.Execute clicks --------------------------------------------------------------------

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse | None:
        if turn_context.activity.name != "adaptiveCard/action":
            return await super().on_invoke_activity(turn_context)
        # Answered with plain JSON: botbuilder's AdaptiveCardInvokeResponse cannot carry the
        # text value of a message response, and its invoke path serializes bodies twice.
        return InvokeResponse(status=200, body=await self._card_action(turn_context))

    async def _card_action(self, turn_context: TurnContext) -> dict[str, Any]:
        inbound = to_inbound(turn_context.activity, auth=self.auth_kind, secret=self.dedupe_secret)
        if inbound is None:
            return _message_response(texts.t("teams.inactive_button"))
        reply = await self.engine.handle(await self._vouched(turn_context, inbound))
        if reply is None:  # the same click delivered again: it was recorded the first time
            return _message_response(texts.t("teams.duplicate_click"))
        if reply.visibility == "replace":
            card = render_card(reply.message, inbound.source_key)
            return {"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": card}
        if reply.visibility == "public":
            await turn_context.send_activity(message_activity(reply.message))
        return _message_response(reply.message.summary)

    # Meetings: started, ended, participants joining and leaving ---------------------------------

    async def on_teams_meeting_start_event(self, meeting: Any, turn_context: TurnContext) -> None:
        await self._meeting_event(turn_context)

    async def on_teams_meeting_end_event(self, meeting: Any, turn_context: TurnContext) -> None:
        await self._meeting_event(turn_context)

    async def on_teams_meeting_participants_join_event(self, meeting: Any, turn_context: TurnContext) -> None:
        await self._meeting_event(turn_context)

    async def on_teams_meeting_participants_leave_event(
        self, meeting: Any, turn_context: TurnContext
    ) -> None:
        await self._meeting_event(turn_context)

    async def _meeting_event(self, turn_context: TurnContext, kind: Kind | None = None) -> None:
        """Hand the meeting event to the engine; post its answer (a card to pick the session of an
        unlinked meeting) in the meeting chat."""
        activity = turn_context.activity
        event = meeting_event(activity, kind)
        if event is None:
            return
        sender = await self._meeting_sender(turn_context, event)
        if sender is None:
            return
        # The participants' emails, from the member lookup (cached): they link people enrolled by email.
        people = [
            replace(p, email=p.email or (await self._email_of(turn_context, p, event.workspace)))
            for p in event.participants
        ]
        inbound = Inbound(
            sender=sender,
            action=Action(MEETING_ACTION, encode(replace(event, participants=tuple(people)))),
            channel_id=event.thread_id,
            dedupe_key=event_key(activity, self.dedupe_secret),
            event_time=event.at,
            auth=self.auth_kind,
        )
        reply = await self.engine.handle(inbound)
        if reply is not None:
            await turn_context.send_activity(message_activity(reply.message))

    async def _meeting_sender(self, turn_context: TurnContext, event: MeetingEvent) -> Profile | None:
        """Who the engine sees acting. Joins, leaves and the end are the meeting's doing, not a
        person's: the bot's own account, so a guest who joins leaves no trace here. The app added,
        or the meeting started, by someone: them (with their email), who may pick the session."""
        activity = turn_context.activity
        bot = activity.recipient
        if event.kind in ("join", "leave", "end") and bot is not None and bot.id:
            return Profile(PLATFORM, event.workspace, bot.id, bot.name or None)
        account = activity.from_property
        if account is None or not account.id:
            return None
        sender = profile_of(account, event.workspace, activity.locale)
        return await self.members.complete(turn_context, sender)

    async def _email_of(self, turn_context: TurnContext, participant: Participant, tenant: str) -> str:
        profile = Profile(PLATFORM, tenant, participant.user_id, participant.name or None)
        return (await self.members.complete(turn_context, profile)).email or ""

    # Installation and membership --------------------------------------------------------------

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        # A meeting's chat is a group chat, whether or not Teams says so in conversationType.
        scope = "groupChat" if is_meeting_chat(activity) else conversation_type(activity)
        # An install carries no email: look the member up, so their email or UPN links them to
        # someone enrolled by email instead of making a second person.
        account = await _looked_up(
            turn_context, activity.from_property, self.engine.settings.platform_timeout
        )
        await self.book.installed(
            profile_of(account, tenant_of(activity), activity.locale), reference_of(activity), scope
        )
        if scope != "personal":
            self._sync_roster(activity)
        if is_meeting_chat(activity):
            await self._meeting_event(turn_context, "added")  # the card to pick the session
        elif scope == "personal":
            name = activity.from_property.name or _("there")
            await turn_context.send_activity(message_activity(say(texts.t("teams.hello", name=name)).message))

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        scope = conversation_type(activity)
        if scope == "personal":
            await self.book.uninstalled(profile_of(activity.from_property, tenant_of(activity)), scope)

    async def on_teams_members_added_dispatch(  # type: ignore[override]
        self, members_added: list[ChannelAccount], team_info: TeamInfo, turn_context: TurnContext
    ) -> None:
        # botbuilder looks every member up and fails the turn if one lookup fails: be lenient,
        # the lookup only adds an email (which links people enrolled by email).
        members: list[Any] = []
        for member in members_added:
            if _is_bot(turn_context, member):
                members.append(member)
                continue
            members.append(await _looked_up(turn_context, member, self.engine.settings.platform_timeout))
        await self.on_teams_members_added(members, team_info, turn_context)

    async def on_teams_members_added(  # type: ignore[override]
        self, teams_members_added: list[TeamsChannelAccount], team_info: TeamInfo, turn_context: TurnContext
    ) -> None:
        activity = turn_context.activity
        tenant = tenant_of(activity)
        scope = conversation_type(activity)
        for member in teams_members_added:
            if _is_bot(turn_context, member):
                # The app itself was added: whoever added it can now be reached.
                account = await _looked_up(
                    turn_context, activity.from_property, self.engine.settings.platform_timeout
                )
                await self.book.installed(profile_of(account, tenant), reference_of(activity), scope)
                if scope != "personal":
                    self._sync_roster(activity)
            else:
                user = ChannelAccount(id=member.id, name=member.name, aad_object_id=member.aad_object_id)
                await self.book.installed(
                    profile_of(member, tenant), reference_of(activity, user=user), scope
                )

    def _sync_roster(self, activity: Any) -> None:
        """The app is now in a team: reach its enrolled members (in the background: a big team
        takes a while at Teams' rate limits, and the install must be answered at once)."""
        if self.roster is None:
            return
        reference = reference_of(activity)
        key = reference["conversation"]["id"]
        if key in self._syncing:
            return  # one install sends an installationUpdate and a conversationUpdate
        self._syncing.add(key)
        task = asyncio.create_task(self._run_sync(tenant_of(activity), reference, key))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run_sync(self, tenant: str, reference: dict[str, Any], key: str) -> None:
        assert self.roster is not None
        try:
            linked = await self.roster.sync_team(tenant, reference)
            log.info("Teams roster of %s: %d enrolled member(s) linked", key, linked)
        except Exception:
            log.exception("Teams roster sync of %s failed; the identity resolver will try again", key)
        finally:
            self._syncing.discard(key)


async def _looked_up(turn_context: TurnContext, account: Any, within: float) -> Any:
    """The member's full account (with email / UPN), or the activity's account if the lookup fails
    or takes longer than `within` seconds: botbuilder would fail the whole turn, and the lookup only adds
    the email."""
    try:
        return await asyncio.wait_for(TeamsInfo.get_member(turn_context, account.id), within)
    except Exception as e:
        log.info("Teams member lookup failed (%s); using the activity's account", type(e).__name__)
        return account


def _is_bot(turn_context: TurnContext, member: Any) -> bool:
    recipient = turn_context.activity.recipient
    return recipient is not None and member.id == recipient.id


def _addressed_to_bot(turn_context: TurnContext) -> bool:
    """In personal chat everything is; in channels and group chats only what @mentions the bot."""
    activity = turn_context.activity
    if conversation_type(activity) == "personal":
        return True
    bot_id = activity.recipient.id if activity.recipient else None
    for entity in activity.entities or []:
        props = getattr(entity, "additional_properties", {}) or {}
        if entity.type == "mention" and (props.get("mentioned") or {}).get("id") == bot_id:
            return True
    return False


def _message_response(text: str) -> dict[str, Any]:
    """An Action.Execute answer that keeps the card and shows `text`."""
    return {"statusCode": 200, "type": MESSAGE_RESPONSE, "value": text}
