"""Learner check-in: the card's button (`attendance.checkin`) and `checkin <cohort> [code]`.

The click path is the hot path: two reads (session+cohort+enrolment in one query, then the
session's state row, which also holds its hash-chain head), one read of the learner's last
record, and three inserts/updates, all in the engine's one transaction.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, bindparam
from sqlmodel import col, select

from bot.capabilities.attendance import codes
from bot.capabilities.attendance.cards import CHECKIN, done_card, hhmm, label
from bot.capabilities.attendance.evidence import Fact, append, chain_for, session_state
from bot.capabilities.attendance.keys import chain_secret
from bot.capabilities.attendance.models import AttendanceRecord, AttendanceSessionState, CodeFailure
from bot.capabilities.attendance.roster import latest_record
from bot.capabilities.attendance.rules import WindowRules, rules_for, window_of
from bot.capabilities.attendance.sessions import session_windows
from bot.core.context import Ctx
from bot.core.errors import UserError
from bot.core.grammar import Slug, Word
from bot.core.i18n import _
from bot.core.messages import Reply, say
from bot.core.models import Cohort, Enrolment, LiveSession
from bot.core.registry import action, verb
from bot.core.store import insert_for
from bot.core.texts import local_time, t

# The platform's event time decides Present/Late (network delay must not make anyone late),
# but only when it is close to the server's time: a forged or stale timestamp is ignored.
MAX_CLOCK_SKEW = timedelta(minutes=2)


def decisive_time(event_time: datetime | None, received: datetime) -> datetime:
    if event_time is not None and received - MAX_CLOCK_SKEW <= event_time <= received + timedelta(seconds=5):
        return min(event_time, received)
    return received


def session_secret(state: AttendanceSessionState, rules: WindowRules) -> str | None:
    """The session's code secret if it needs a code: its own setting, else the cohort's default.

    `code_secret` is None when the session follows the cohort, "" when a trainer turned codes off.
    """
    if state.code_secret is None and rules.require_code:
        state.code_secret = codes.new_secret()
    return state.code_secret or None


@action(CHECKIN)
async def click_check_in(ctx: Ctx, value: str, inputs: dict[str, str]) -> Reply:
    if not value.isdigit():
        raise UserError(_("This check-in button is out of date: use `checkin <cohort>`."))
    return await check_in(ctx, int(value), inputs.get("code"))


@verb(
    "checkin",
    Slug("cohort"),
    Word("code", optional=True),
    summary="check in to the session that is on now (with its code if the trainer asks for one)",
    example="checkin spring-onboarding 482913",
)
async def check_in_by_command(ctx: Ctx, cohort: str, code: str | None) -> Reply:
    row = await ctx.cohort(cohort)
    windows = await session_windows(ctx.session, row, around=ctx.now)
    now = decisive_time(ctx.inbound.event_time, ctx.now)
    open_now = [sw for sw in windows if sw.window.phase(now) == "open"]
    if not open_now:
        upcoming = [sw for sw in windows if sw.window.phase(now) == "before"]
        hint = (
            " "
            + _(
                "Next: *{title}* opens {opens}.",
                title=upcoming[0].live.title,
                opens=local_time(upcoming[0].window.opens_at, row.tz),
            )
            if upcoming
            else ""
        )
        raise UserError(_("No check-in is open in '{cohort}' right now.", cohort=row.slug) + hint)
    reply = await check_in(ctx, open_now[0].live.id or 0, code)
    return Reply(reply.message)  # a typed command has no card to replace


async def check_in(ctx: Ctx, session_id: int, code: str | None) -> Reply:
    """Record Present or Late for the caller, once; say why not otherwise."""
    person_id = ctx.actor.id or 0
    live, cohort, enrolment, state, previous = await _click_context(ctx, session_id, person_id)
    if enrolment is None or enrolment.role != "learner" or enrolment.status != "active":
        raise UserError(
            _("You are not a learner of '{cohort}', so there is nothing to check in to.", cohort=cohort.slug)
        )
    tz = ctx.actor.tz or cohort.tz
    if previous is not None:
        return Reply(done_card(live, _already(previous, live, tz)), "replace")
    rules = rules_for(cohort, state)
    if not rules.enabled:
        raise UserError(_("Attendance is not tracked in '{cohort}'.", cohort=cohort.slug))
    window = window_of(live, rules, state)
    when = decisive_time(ctx.inbound.event_time, ctx.now)
    phase = window.phase(when)
    if phase == "before":
        return say(t("attendance.not_open", title=live.title, opens=local_time(window.opens_at, tz)))
    if phase == "closed":
        closed = t("attendance.closed", title=live.title, closes=hhmm(window.closes_at, tz))
        return Reply(done_card(live, closed), "replace")
    secret = session_secret(state, rules)
    if secret is not None:
        refusal = await _check_code(ctx, live, cohort, state, secret, code)
        if refusal is not None:
            return refusal
    status = window.status_at(when)
    platform, workspace, user_id = ctx.identity.platform, ctx.identity.workspace, ctx.identity.user_id
    fact = Fact(
        person_id=person_id,
        person_name=ctx.actor.display_name,
        platform=platform,
        workspace=workspace,
        platform_user_id=user_id,
        status=status,
        auth=ctx.inbound.auth + ("+code" if secret else ""),
        idempotency_key=f"checkin:{session_id}:{person_id}",
        event_time=ctx.inbound.event_time,
        platform_event_id=ctx.inbound.dedupe_key,
        actor_id=person_id,
    )
    await append(ctx.session, state, chain_for(chain_secret(ctx.settings), cohort, live), [fact], ctx.now)
    await ctx.log(
        "attendance.recorded",
        cohort_id=cohort.id,
        person_id=person_id,
        actor_id=person_id,
        session_id=session_id,
        status=status,
        correction=False,
    )
    text = t("attendance.checked_in", time=hhmm(when, tz), status=label(status))
    return Reply(done_card(live, text), "replace")


@functools.cache
def _click_query(serialized: bool) -> Any:
    """The click's lookup, built once (building SQL expressions costs more than running them)."""
    session_id, person_id = bindparam("session_id", type_=Integer), bindparam("person_id", type_=Integer)
    query: Any = (
        select(LiveSession, Cohort, Enrolment)
        .join(Cohort, col(Cohort.id) == LiveSession.cohort_id)
        .outerjoin(
            Enrolment,
            and_(col(Enrolment.cohort_id) == LiveSession.cohort_id, col(Enrolment.person_id) == person_id),
        )
        .where(LiveSession.id == session_id)
    )
    if not serialized:
        return query
    last = (
        select(AttendanceRecord.id)
        .where(AttendanceRecord.session_id == session_id, AttendanceRecord.person_id == person_id)
        .order_by(col(AttendanceRecord.seq).desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        query.add_columns(AttendanceSessionState, AttendanceRecord)
        .outerjoin(AttendanceSessionState, col(AttendanceSessionState.session_id) == LiveSession.id)
        .outerjoin(AttendanceRecord, col(AttendanceRecord.id) == last)
    )


async def _click_context(
    ctx: Ctx, session_id: int, person_id: int
) -> tuple[LiveSession, Cohort, Enrolment | None, AttendanceSessionState, AttendanceRecord | None]:
    """The session, its cohort, the caller's enrolment, the session's state and the caller's last
    record. On SQLite (writers already serialized by BEGIN IMMEDIATE) that is one query; on
    PostgreSQL the state row is locked first, so two quick clicks by one person queue up."""
    serialized = ctx.session.get_bind().dialect.name == "sqlite"
    params = {"session_id": session_id, "person_id": person_id}
    found = (await ctx.session.exec(_click_query(serialized), params=params)).first()
    if found is None:
        raise UserError(_("This session no longer exists."))
    if serialized:
        live, cohort, enrolment, state, previous = found
        if state is None:
            state = await session_state(ctx.session, session_id)
        return live, cohort, enrolment, state, previous
    live, cohort, enrolment = found
    state = await session_state(ctx.session, session_id)
    return live, cohort, enrolment, state, await latest_record(ctx.session, session_id, person_id)


def _already(previous: AttendanceRecord, live: LiveSession, tz: str) -> str:
    if previous.actor_id == previous.person_id and previous.status in ("present", "late"):
        when = decisive_time(previous.event_time, previous.received_at)
        return t("attendance.already", time=hhmm(when, tz), status=label(previous.status))
    return t("attendance.already_recorded", status=label(previous.status), title=live.title)


async def _check_code(
    ctx: Ctx,
    live: LiveSession,
    cohort: Cohort,
    state: AttendanceSessionState,
    secret: str,
    code: str | None,
) -> Reply | None:
    """None when the code is right; otherwise the answer (wrong codes are counted, so no rollback)."""
    if not code or not code.strip():
        return say(t("attendance.code_needed", title=live.title, cohort=cohort.slug))
    key = {"session_id": live.id, "person_id": ctx.actor.id}
    failures = await ctx.session.get(CodeFailure, (live.id, ctx.actor.id))
    if failures is not None and failures.failures >= codes.MAX_FAILURES:
        return say(t("attendance.code_locked", title=live.title))
    if codes.code_is_valid(secret, code, ctx.now, timedelta(seconds=state.code_step_s)):
        return None
    insert = insert_for(ctx.session.get_bind().dialect.name)
    stmt = insert(CodeFailure).values(**key, failures=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=["session_id", "person_id"], set_={"failures": CodeFailure.failures + 1}
    )
    await ctx.session.exec(stmt)  # type: ignore[call-overload]
    used = (failures.failures if failures else 0) + 1
    if used >= codes.MAX_FAILURES:
        return say(t("attendance.code_locked", title=live.title))
    return say(t("attendance.code_wrong", n=codes.MAX_FAILURES - used))
