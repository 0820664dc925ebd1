"""Check-in windows as scheduled events: open (cards + channel post), one reminder, close (Absent/Excused).

Each live session plans three events with stable keys. Opening late is pointless once the window
has closed, so the open and reminder events have the window as their grace; closing must happen
even after a long outage (absences still need recording), so it keeps a generous grace.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from functools import partial

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.attendance.cards import checkin_card, closed_card, count_of, hhmm
from bot.capabilities.attendance.checkin import session_secret
from bot.capabilities.attendance.checkpoint_events import take_and_announce
from bot.capabilities.attendance.evidence import Fact, append, chain_for, session_state
from bot.capabilities.attendance.keys import chain_secret
from bot.capabilities.attendance.models import AttendanceRecord
from bot.capabilities.attendance.roster import approved_absences, declared_absences, latest_records, learners
from bot.capabilities.attendance.rules import rules_for, window_of
from bot.capabilities.attendance.sessions import session_windows
from bot.core import i18n
from bot.core.context import EventContext
from bot.core.messages import Message, Text
from bot.core.models import Cohort, LiveSession, OutboxMessage
from bot.core.outbox import URGENT, Recipient
from bot.core.registry import on_event, planner
from bot.core.texts import t
from schedules.events import PlannedEvent

CLOSE_GRACE = timedelta(days=30)
MIN_GRACE = timedelta(minutes=1)
COINCIDE = timedelta(minutes=2)  # a reminder this close to the window's opening is one DM with the card


async def card_carries_reminder(session: AsyncSession, cohort: Cohort, session_id: int, at: datetime) -> bool:
    """True when the session's check-in card is (or is about to be) in every learner's DM at `at`:
    its window is open then, or opens within COINCIDE. The card says the session's title and start
    time with the Check in button, so a reminder at that moment would be a second DM saying less."""
    for sw in await session_windows(session, cohort, around=at):
        if sw.live.id != session_id:
            continue
        closed = sw.state is not None and sw.state.closed_at is not None
        return sw.rules.enabled and not closed and sw.window.opens_at - COINCIDE <= at < sw.window.closes_at
    return False


@planner
async def plan_windows(session: AsyncSession, cohort: Cohort, now: datetime) -> list[PlannedEvent]:
    events = []
    for sw in await session_windows(session, cohort):
        sid, window = sw.live.id, sw.window
        if not sw.rules.enabled or (sw.state is not None and sw.state.closed_at is not None):
            continue  # attendance not tracked here, or closed by a trainer: nothing left to do
        open_grace = max(window.closes_at - window.opens_at, MIN_GRACE)
        payload = {"session_id": sid}
        events.append(
            PlannedEvent(
                f"attendance:open:{sid}", "attendance.open", window.opens_at, cohort.id, payload, open_grace
            )
        )
        if sw.rules.reminder:
            grace = max(window.closes_at - window.reminder_at, MIN_GRACE)
            events.append(
                PlannedEvent(
                    f"attendance:remind:{sid}",
                    "attendance.remind",
                    window.reminder_at,
                    cohort.id,
                    payload,
                    grace,
                )
            )
        events.append(
            PlannedEvent(
                f"attendance:close:{sid}",
                "attendance.close",
                window.closes_at,
                cohort.id,
                payload,
                CLOSE_GRACE,
            )
        )
    return events


async def _load(ctx: EventContext, event: PlannedEvent) -> tuple[LiveSession, Cohort] | None:
    live = await ctx.session.get(LiveSession, event.payload["session_id"])
    if live is None:
        return None
    return live, await ctx.session.get_one(Cohort, live.cohort_id)


@on_event("attendance.open")
async def on_open(ctx: EventContext, event: PlannedEvent) -> None:
    loaded = await _load(ctx, event)
    if loaded is not None:
        await open_window(ctx, *loaded)


@on_event("attendance.remind")
async def on_remind(ctx: EventContext, event: PlannedEvent) -> None:
    loaded = await _load(ctx, event)
    if loaded is not None:
        await remind_unmarked(ctx, *loaded)


@on_event("attendance.close")
async def on_close(ctx: EventContext, event: PlannedEvent) -> None:
    loaded = await _load(ctx, event)
    if loaded is not None:
        await close_window(ctx, *loaded, auth="system:window-close", actor_id=None)


async def open_window(ctx: EventContext, live: LiveSession, cohort: Cohort) -> int:
    """Send every learner their check-in card and post in the cohort channel; returns cards queued.

    Keys are per session and person, so opening again (a trainer, then the schedule) sends nothing twice.
    """
    state = await session_state(ctx.session, live.id or 0)
    if state.closed_at is not None:
        return 0
    rules = rules_for(cohort, state)
    window = window_of(live, rules, state)
    code_required = session_secret(state, rules) is not None
    recipients = [
        Recipient(
            learner.id,
            f"checkin:{live.id}:{learner.id}",
            partial(checkin_card, live, window, learner.person.tz or cohort.tz, code_required=code_required),
        )
        for learner in await learners(ctx.session, cohort.id or 0)
    ]
    queued = await ctx.dms(recipients, cohort_id=cohort.id, priority=URGENT)
    await ctx.post(
        cohort, partial(_open_post, live, cohort, window.closes_at), key=f"attendance:open:{live.id}"
    )
    return queued


async def remind_unmarked(ctx: EventContext, live: LiveSession, cohort: Cohort) -> int:
    """One reminder to each learner with no record and no declared absence, while the window is open."""
    state = await session_state(ctx.session, live.id or 0)
    rules = rules_for(cohort, state)
    window = window_of(live, rules, state)
    if window.phase(ctx.now) != "open":
        return 0
    marked = await latest_records(ctx.session, live.id or 0)
    skip = set(marked) | await declared_absences(ctx.session, live.id or 0)
    code_required = session_secret(state, rules) is not None
    recipients = [
        Recipient(
            learner.id,
            f"checkin-reminder:{live.id}:{learner.id}",
            partial(
                checkin_card,
                live,
                window,
                learner.person.tz or cohort.tz,
                code_required=code_required,
                reminder=True,
            ),
        )
        for learner in await learners(ctx.session, cohort.id or 0)
        if learner.id not in skip
    ]
    return await ctx.dms(recipients, cohort_id=cohort.id, priority=URGENT)


async def close_window(
    ctx: EventContext, live: LiveSession, cohort: Cohort, *, auth: str, actor_id: int | None
) -> Counter[str]:
    """Mark everyone unmarked Absent (Excused with an approved absence), close the cards, post totals."""
    state = await session_state(ctx.session, live.id or 0)
    if state.closed_at is None:
        state.closed_at = ctx.now
    records = await latest_records(ctx.session, live.id or 0)
    excused = await approved_absences(ctx.session, live.id or 0)
    roster = await learners(ctx.session, cohort.id or 0)
    facts = []
    for learner in roster:
        if learner.id in records:
            continue
        platform, workspace, user_id = learner.platform_ids
        absence = excused.get(learner.id)
        facts.append(
            Fact(
                person_id=learner.id,
                person_name=learner.person.display_name,
                platform=platform,
                workspace=workspace,
                platform_user_id=user_id,
                status="excused" if absence else "absent",
                auth=auth,
                idempotency_key=f"close:{live.id}:{learner.id}",
                actor_id=actor_id,
                reason=f"approved absence: {absence.reason}"
                if absence
                else "no check-in before the window closed",
            )
        )
    chain = chain_for(chain_secret(ctx.settings), cohort, live)
    for row in await append(ctx.session, state, chain, facts, ctx.now):
        records[row.person_id] = [row]
        await ctx.log(
            "attendance.recorded",
            cohort_id=cohort.id,
            person_id=row.person_id,
            actor_id=actor_id,
            session_id=live.id,
            status=row.status,
            correction=False,
        )
    totals: Counter[str] = Counter()
    reminded = await _reminded(ctx, live)
    for learner in roster:
        status = records[learner.id][-1].status
        totals[status] += 1
        await _close_cards(
            ctx, live, learner.id, records[learner.id], reminded, learner.person.lang or cohort.lang
        )
    await ctx.post(cohort, partial(_closed_post, live.title, totals), key=f"attendance:closed:{live.id}")
    await take_and_announce(ctx, f"session {live.id} closed")
    return totals


async def _close_cards(
    ctx: EventContext,
    live: LiveSession,
    person_id: int,
    history: list[AttendanceRecord],
    reminded: set[int],
    reader_lang: str | None,
) -> None:
    """Replace the learner's open cards with the final status.

    A click already replaced the card it came from, so someone who checked in themselves has an
    open card left only if they were also reminded: then both cards are updated (one harmlessly).
    """
    last = history[-1]
    if last.actor_id == last.person_id and person_id not in reminded:
        return
    with i18n.use(reader_lang):
        card = closed_card(live, last.status)
    for kind in ("checkin", "checkin-reminder"):
        original = f"{kind}:{live.id}:{person_id}"
        await ctx.update_message(original, card, key=f"{original}:closed")


async def _reminded(ctx: EventContext, live: LiveSession) -> set[int]:
    """Who got a reminder card: one index range scan over the outbox keys, not one lookup each."""
    prefix = f"checkin-reminder:{live.id}:"
    keys = await ctx.session.exec(
        select(OutboxMessage.key).where(
            col(OutboxMessage.key) >= prefix, col(OutboxMessage.key) < prefix[:-1] + ";"
        )
    )
    return {int(key.rsplit(":", 1)[1]) for key in keys.all() if key.count(":") == 2}


def _open_post(live: LiveSession, cohort: Cohort, closes_at: datetime) -> Message:
    closes = hhmm(closes_at, cohort.tz)
    return _plain(t("attendance.channel.open", title=live.title, closes=closes, cohort=cohort.slug))


def _closed_post(title: str, totals: Counter[str]) -> Message:
    counts = ", ".join(count_of(s, totals[s]) for s in ("present", "late", "absent", "excused"))
    return _plain(t("attendance.channel.closed", title=title, totals=counts))


def _plain(text: str) -> Message:
    return Message(text, (Text(text),))
