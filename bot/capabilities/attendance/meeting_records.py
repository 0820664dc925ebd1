"""Meeting events become attendance: joins and leaves chained as records (source `meeting`), the
meeting's end settles each participant's status and minutes, and an unlinked meeting's start posts
a card for a trainer to pick the session it is.

Each record keeps the platform's time of the event and the server's time, in the session's chain
with the clicks. Who wins between a click and the meeting is stated in `presence.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import col, select

from bot.capabilities.attendance.evidence import Fact, append, chain_for, session_state
from bot.capabilities.attendance.keys import chain_secret
from bot.capabilities.attendance.meeting_links import SLACK, MeetingLink, link_session, session_for_event
from bot.capabilities.attendance.models import AttendanceRecord
from bot.capabilities.attendance.presence import (
    deciding_record,
    presence_of,
    presence_rules,
    provisional_status,
)
from bot.core.context import Ctx, EventContext
from bot.core.directory import Found
from bot.core.errors import UserError
from bot.core.i18n import N_, _
from bot.core.inbound import Profile
from bot.core.linking import link_found
from bot.core.meetings import MEETING_ACTION, MeetingEvent, Participant, decode, encode
from bot.core.messages import Button, Buttons, Message, Reply, Text
from bot.core.models import Cohort, Enrolment, Identity, LiveSession, Person
from bot.core.registry import action

CHOOSE_ACTION = "attendance.meeting_link"
PLATFORM = "teams"


@action(MEETING_ACTION)
async def on_meeting_event(ctx: Ctx, value: str, inputs: dict[str, str]) -> Reply | None:
    """One meeting event from an adapter. Nothing is recorded for a meeting no session is linked to;
    the app added to such a meeting, or its start, asks a trainer which session it is."""
    try:
        event = decode(value)
    except ValueError:
        return None  # not ours to answer: the adapter only sends what it encoded
    found = await session_for_event(ctx.session, event, ctx.now)
    if found is None:
        return await _chooser(ctx, event) if event.kind in ("added", "start") else None
    link, live = found
    if event.kind == "added":
        return None
    cohort = await ctx.session.get(Cohort, live.cohort_id)
    assert cohort is not None
    if event.kind == "start":
        link.started_at = link.started_at or event.at
        ctx.session.add(link)
        return None
    if event.kind == "end":
        link.ended_at = event.at
        ctx.session.add(link)
        await settle(ctx, cohort, live, event.at, auth=ctx.inbound.auth, event_id=ctx.inbound.dedupe_key)
        return None
    await _record_edges(ctx, cohort, live, event)
    return None


async def _record_edges(ctx: Ctx, cohort: Cohort, live: LiveSession, event: MeetingEvent) -> None:
    learners = await _enrolled(ctx, cohort, event.participants, event.workspace)
    if not learners:
        return
    histories = await _histories(ctx, live, [person.id or 0 for person, _ in learners])
    rules = presence_rules(cohort)
    facts = []
    for person, participant in learners:
        history = histories.get(person.id or 0, [])
        decided = deciding_record(history)
        if decided is not None and decided.correction:
            status = decided.status  # a trainer's correction stays the status
        else:
            first = presence_of(history, live, rules, None)
            status = provisional_status(first.first_join if first else event.at, live, rules)
        facts.append(_fact(ctx, person, participant, event, status, live))
    state = await session_state(ctx.session, live.id or 0)
    await append(ctx.session, state, chain_for(chain_secret(ctx.settings), cohort, live), facts, ctx.now)


async def settle(
    ctx: EventContext,
    cohort: Cohort,
    live: LiveSession,
    ended_at: datetime,
    *,
    auth: str,
    event_id: str | None,
) -> None:
    """At the meeting's end: each participant's final status and minutes, as one record each
    (a learner a trainer corrected keeps the correction)."""
    histories = await _histories(ctx, live, None)
    rules = presence_rules(cohort)
    state = await session_state(ctx.session, live.id or 0)
    facts, outcomes = [], []
    for person_id, history in histories.items():
        presence = presence_of(history, live, rules, ended_at)
        decided = deciding_record(history)
        if presence is None or (decided is not None and decided.correction):
            continue
        if any(r.meeting_event == "end" and r.event_time == ended_at for r in history):
            continue  # this end was settled already
        last = history[-1]
        facts.append(
            Fact(
                person_id=person_id,
                person_name=last.person_name,
                platform=last.platform,
                workspace=last.workspace,
                platform_user_id=last.platform_user_id,
                status=presence.status,
                auth=auth,
                idempotency_key=f"meeting:{live.id}:end:{person_id}:{ended_at.isoformat()}",
                event_time=ended_at,
                platform_event_id=event_id,
                source="meeting",
                meeting_event="end",
            )
        )
        outcomes.append((person_id, presence.status, presence.minutes))
    await append(ctx.session, state, chain_for(chain_secret(ctx.settings), cohort, live), facts, ctx.now)
    for person_id, status, minutes in outcomes:
        await ctx.log(
            "attendance.recorded",
            cohort_id=cohort.id,
            person_id=person_id,
            actor_id=None,
            session_id=live.id,
            status=status,
            correction=False,
            source="meeting",
            minutes=minutes,
        )


def _fact(
    ctx: Ctx, person: Person, who: Participant, event: MeetingEvent, status: str, live: LiveSession
) -> Fact:
    # One record per participant per delivered event: a redelivery is dropped by the engine first.
    event_key = ctx.inbound.dedupe_key or event.at.isoformat()
    return Fact(
        person_id=person.id or 0,
        person_name=person.display_name,
        platform=PLATFORM,
        workspace=event.workspace,
        platform_user_id=who.user_id,
        status=status,
        auth=ctx.inbound.auth,
        idempotency_key=f"meeting:{live.id}:{event.kind}:{person.id}:{event_key}",
        event_time=event.at,
        platform_event_id=ctx.inbound.dedupe_key,
        source="meeting",
        meeting_event=event.kind,
    )


async def _enrolled(
    ctx: Ctx, cohort: Cohort, participants: Sequence[Participant], workspace: str
) -> list[tuple[Person, Participant]]:
    """Participants who are active learners of the cohort: by their platform account, else by the
    email the platform vouches for (linking the account, as everywhere else). Guests are skipped."""
    matched: list[tuple[Person, Participant]] = []
    for who in participants:
        person = (
            await ctx.session.exec(
                select(Person)
                .join(Identity, col(Identity.person_id) == Person.id)
                .where(
                    Identity.platform == PLATFORM,
                    Identity.workspace == workspace,
                    Identity.user_id == who.user_id,
                )
            )
        ).first()
        if person is None and who.email:
            profile = Profile(PLATFORM, workspace, who.user_id, who.name or None, who.email)
            enrolled = (
                await ctx.session.exec(select(Person).where(Person.email == who.email.lower()))
            ).first()
            if enrolled is not None:
                person, _identity = await link_found(ctx, Found(who.email, profile), source="meeting")
        if person is not None:
            matched.append((person, who))
    if not matched:
        return []
    active = set(
        (
            await ctx.session.exec(
                select(Enrolment.person_id).where(
                    Enrolment.cohort_id == cohort.id,
                    Enrolment.role == "learner",
                    Enrolment.status == "active",
                    col(Enrolment.person_id).in_([p.id for p, _ in matched]),
                )
            )
        ).all()
    )
    return [(p, who) for p, who in matched if p.id in active]


async def _histories(
    ctx: EventContext, live: LiveSession, person_ids: list[int] | None
) -> dict[int, list[AttendanceRecord]]:
    query = select(AttendanceRecord).where(AttendanceRecord.session_id == live.id)
    if person_ids is not None:
        query = query.where(col(AttendanceRecord.person_id).in_(person_ids))
    by_person: dict[int, list[AttendanceRecord]] = {}
    for row in (await ctx.session.exec(query.order_by(col(AttendanceRecord.seq)))).all():
        by_person.setdefault(row.person_id, []).append(row)
    return by_person


# The card in an unlinked meeting's chat ----------------------------------------------------------


async def _chooser(ctx: Ctx, event: MeetingEvent) -> Reply | None:
    """A card listing the sessions around now of the cohorts the sender trains (nothing for others)."""
    sessions = (
        await ctx.session.exec(
            select(LiveSession, Cohort)
            .join(Cohort, col(Cohort.id) == LiveSession.cohort_id)
            .where(
                col(LiveSession.starts_at) >= event.at - SLACK - timedelta(hours=10),
                col(LiveSession.starts_at) <= event.at + SLACK,
                col(LiveSession.id).not_in(select(MeetingLink.session_id)),
            )
            .order_by(col(LiveSession.starts_at))
        )
    ).all()
    mine = [(live, cohort) for live, cohort in sessions if await ctx.is_staff(cohort)]
    if not mine:
        return None
    buttons = tuple(
        Button(f"{cohort.slug}: {live.title}", CHOOSE_ACTION, f"{live.id} {encode(event)}")
        for live, cohort in mine[:6]
    )
    text = _("Which session is this meeting? Attendance is recorded once a trainer picks it.")
    return Reply(Message(text, (Text(text), Buttons(buttons))), "public")


@action(CHOOSE_ACTION)
async def choose_session(ctx: Ctx, value: str, inputs: dict[str, str]) -> Reply:
    """A trainer picked the session this meeting is: link them."""
    session_part, _sep, encoded = value.partition(" ")
    try:
        event = decode(encoded)
        live = await ctx.session.get(LiveSession, int(session_part))
    except ValueError:
        live = None
    if live is None:
        raise UserError(_("That session no longer exists."))
    cohort = await ctx.session.get(Cohort, live.cohort_id)
    assert cohort is not None
    await ctx.require_staff(cohort, N_("link a meeting to a session"))
    await link_session(ctx.session, live, event, ctx.actor.id or 0, ctx.now)
    text = _(
        "This meeting is now *{title}* ({cohort}): joins and leaves count as attendance.",
        title=live.title,
        cohort=cohort.slug,
    )
    return Reply(Message(text, (Text(text),)), "replace")
