"""Declared absences: "I can't attend" on the card or `absent`, approved by a trainer with `excuse`."""

from __future__ import annotations

from functools import partial

from sqlmodel import col, select

from bot.capabilities.attendance.cards import ABSENT, absence_prompt, done_card, label
from bot.capabilities.attendance.evidence import Fact, append, chain_for, session_state
from bot.capabilities.attendance.keys import chain_secret
from bot.capabilities.attendance.models import AbsenceRequest
from bot.capabilities.attendance.roster import latest_record
from bot.capabilities.attendance.sessions import SessionAndReason, describe, pick_session
from bot.core.context import Ctx
from bot.core.errors import PermissionDenied, UserError
from bot.core.grammar import Number, Slug
from bot.core.i18n import N_, _, _n
from bot.core.messages import Button, Buttons, Header, Message, Reply, Text, say
from bot.core.models import Cohort, Enrolment, LiveSession, Person
from bot.core.outbox import Recipient
from bot.core.people import identities_of
from bot.core.registry import action, verb
from bot.core.texts import t

EXCUSE = "attendance.excuse"
MAX_REASON = 300


@action(ABSENT)
async def click_absent(ctx: Ctx, value: str, inputs: dict[str, str]) -> Reply:
    live = await ctx.session.get(LiveSession, int(value)) if value.isdigit() else None
    if live is None:
        raise UserError(_("This session no longer exists."))
    reason = (inputs.get("reason") or "").strip()
    if not reason:
        return Reply(absence_prompt(live), "replace")
    cohort = await ctx.session.get_one(Cohort, live.cohort_id)
    return Reply(done_card(live, await declare(ctx, cohort, live, reason)), "replace")


@verb(
    "absent",
    Slug("cohort"),
    SessionAndReason(),
    summary="say you can't attend a session (the next one, or #id), with your reason",
    example="absent spring-onboarding #12 medical appointment",
)
async def absent(ctx: Ctx, cohort: str, session_and_reason: tuple[int | None, str]) -> Reply:
    row = await ctx.cohort(cohort)
    ref, reason = session_and_reason
    if not reason:
        raise UserError(_("Give a reason, so your trainer can approve it."))
    live = await pick_session(ctx, row, ref)
    return say(await declare(ctx, row, live, reason))


async def declare(ctx: Ctx, cohort: Cohort, live: LiveSession, reason: str) -> str:
    """Store (or update) the learner's absence request and ask the cohort's trainers to approve it."""
    person_id = ctx.actor.id or 0
    if await ctx.role_in(cohort) != "learner":
        raise UserError(_("You are not a learner of '{cohort}'.", cohort=cohort.slug))
    reason = reason[:MAX_REASON]
    current = await latest_record(ctx.session, live.id or 0, person_id)
    if current is not None and current.status in ("present", "late", "excused"):
        raise UserError(
            _(
                "You are already recorded {status} for {title}: nothing to excuse.",
                status=label(current.status),
                title=live.title,
            )
        )
    request = (
        await ctx.session.exec(
            select(AbsenceRequest).where(
                AbsenceRequest.session_id == live.id, AbsenceRequest.person_id == person_id
            )
        )
    ).first()
    if request is not None and request.status == "approved":
        raise UserError(_("Your absence from {title} is already approved.", title=live.title))
    if request is None:
        request = AbsenceRequest(
            cohort_id=cohort.id or 0,
            session_id=live.id or 0,
            person_id=person_id,
            reason=reason,
            requested_at=ctx.now,
        )
    request.reason, request.requested_at = reason, ctx.now
    ctx.session.add(request)
    await ctx.session.flush()
    await ctx.log(
        "attendance.absence_declared",
        cohort_id=cohort.id,
        person_id=person_id,
        actor_id=person_id,
        session_id=live.id,
        request_id=request.id,
    )
    await _ask_trainers(ctx, cohort, live, request)
    return t("attendance.absence.noted", title=live.title, reason=reason)


async def _ask_trainers(ctx: Ctx, cohort: Cohort, live: LiveSession, request: AbsenceRequest) -> None:
    staff = (
        await ctx.session.exec(
            select(Enrolment.person_id).where(
                Enrolment.cohort_id == cohort.id,
                col(Enrolment.role).in_(["admin", "trainer"]),
                Enrolment.status == "active",
            )
        )
    ).all()
    card = partial(_absence_request_card, ctx.actor.display_name, live, cohort, request)
    await ctx.dms(
        [
            Recipient(pid, f"absence:{request.id}:{int(request.requested_at.timestamp())}:{pid}", card)
            for pid in staff
        ],
        cohort_id=cohort.id,
    )


@action(EXCUSE)
async def click_excuse(ctx: Ctx, value: str, inputs: dict[str, str]) -> Reply:
    request = await ctx.session.get(AbsenceRequest, int(value)) if value.isdigit() else None
    cohort = await ctx.session.get(Cohort, request.cohort_id) if request is not None else None
    # One answer for "no such request" and "not yours": request ids cannot be probed.
    if request is None or cohort is None or not await ctx.is_staff(cohort):
        raise PermissionDenied(_("This absence request no longer exists, or it is not yours to approve."))
    text = await approve(ctx, cohort, request)
    return Reply(Message(text, (Header(_("Absence request")), Text(text))), "replace")


@verb(
    "excuse",
    Slug("cohort"),
    Number("request", low=1),
    summary="approve a declared absence: the learner is recorded Excused",
    example="excuse spring-onboarding 3",
    staff_only=True,
)
async def excuse(ctx: Ctx, cohort: str, request: int) -> Reply:
    row = await ctx.staff_cohort(cohort, N_("approve absences"))  # before saying which requests exist
    found = await ctx.session.get(AbsenceRequest, request)
    if found is None or found.cohort_id != row.id:
        raise UserError(
            _(
                "'{cohort}' has no absence request {request}. `absences {cohort}` lists them.",
                cohort=row.slug,
                request=request,
            )
        )
    return say(await approve(ctx, row, found))


def _absence_request_card(name: str, live: LiveSession, cohort: Cohort, request: AbsenceRequest) -> Message:
    text = _(
        "{name} can't attend {session}: {reason}. Approve with the button or `excuse {cohort} {request}`.",
        name=name,
        session=describe(live, cohort.tz),
        reason=request.reason,
        cohort=cohort.slug,
        request=request.id,
    )
    return Message(
        text,
        (
            Header(_("Absence request")),
            Text(text),
            Buttons((Button(_("Approve (excused)"), EXCUSE, str(request.id), "primary"),)),
        ),
    )


async def approve(ctx: Ctx, cohort: Cohort, request: AbsenceRequest) -> str:
    """Approve; if the window already closed with the learner Absent, record Excused as a correction."""
    await ctx.require_staff(cohort, N_("approve absences"))
    live = await ctx.session.get_one(LiveSession, request.session_id)
    learner = await ctx.session.get_one(Person, request.person_id)
    if request.status == "approved":
        return _(
            "{name}'s absence from {title} was already approved.", name=learner.display_name, title=live.title
        )
    request.status, request.decided_by, request.decided_at = "approved", ctx.actor.id, ctx.now
    ctx.session.add(request)
    state = await session_state(ctx.session, live.id or 0)
    current = await latest_record(ctx.session, live.id or 0, learner.id or 0)
    outcome = _("they will be recorded Excused when the check-in closes")
    if current is not None and current.status in ("present", "late"):
        outcome = _("they checked in ({status}), so that stays", status=label(current.status))
    elif current is not None and current.status == "absent":
        identity = (await identities_of(ctx.session, [learner.id or 0])).get(learner.id or 0)
        fact = Fact(
            person_id=learner.id or 0,
            person_name=learner.display_name,
            platform=identity.platform if identity else "none",
            workspace=identity.workspace if identity else "",
            platform_user_id=identity.user_id if identity else "",
            status="excused",
            auth=ctx.inbound.auth,
            idempotency_key=f"excuse:{request.id}",
            event_time=ctx.inbound.event_time,
            platform_event_id=ctx.inbound.dedupe_key,
            actor_id=ctx.actor.id,
            correction=True,
            reason=f"absence approved: {request.reason}",
        )
        chain = chain_for(chain_secret(ctx.settings), cohort, live)
        await append(ctx.session, state, chain, [fact], ctx.now)
        await ctx.log(
            "attendance.recorded",
            cohort_id=cohort.id,
            person_id=learner.id,
            actor_id=ctx.actor.id,
            session_id=live.id,
            status="excused",
            correction=True,
        )
        outcome = _("recorded Excused (the Absent record is kept)")
    if current is None or current.status != "present":
        await ctx.dm(
            learner.id or 0,
            partial(_approved_card, live.title),
            key=f"absence-approved:{request.id}",
            cohort_id=cohort.id,
        )
    return _(
        "Approved {name}'s absence from {session}: {outcome}.",
        name=learner.display_name,
        session=describe(live, cohort.tz),
        outcome=outcome,
    )


def _approved_card(title: str) -> Message:
    return say(t("attendance.absence.approved", title=title)).message


@verb(
    "absences",
    Slug("cohort"),
    summary="list absence requests waiting for approval",
    example="absences spring-onboarding",
    staff_only=True,
)
async def list_absences(ctx: Ctx, cohort: str) -> Reply:
    row = await ctx.staff_cohort(cohort, N_("see absence requests"))
    pending = (
        await ctx.session.exec(
            select(AbsenceRequest, Person, LiveSession)
            .join(Person, col(Person.id) == AbsenceRequest.person_id)
            .join(LiveSession, col(LiveSession.id) == AbsenceRequest.session_id)
            .where(AbsenceRequest.cohort_id == row.id, AbsenceRequest.status == "pending")
            .order_by(col(AbsenceRequest.id))
        )
    ).all()
    if not pending:
        return say(_("No absence requests waiting in *{cohort}*.", cohort=row.slug))
    lines = [f"{r.id}. {p.display_name}, {describe(s, row.tz)}: {r.reason}" for r, p, s in pending]
    lines.append(_("Approve one with `excuse {cohort} <number>`.", cohort=row.slug))
    return Reply(
        Message(
            _n("{n} absence request", "{n} absence requests", len(pending)),
            (Header(_("Absence requests")), Text("\n".join(lines))),
        )
    )
