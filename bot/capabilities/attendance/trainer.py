"""Trainer commands: open/close/adjust the window, the rotating code, set or correct a status, who is
missing, and the attendance sheet."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.capabilities.attendance import codes, exports
from bot.capabilities.attendance.cards import count_of, done_card, hhmm, label
from bot.capabilities.attendance.checkin import session_secret
from bot.capabilities.attendance.evidence import Fact, append, chain_for, session_state
from bot.capabilities.attendance.keys import chain_secret
from bot.capabilities.attendance.models import STATUSES
from bot.capabilities.attendance.roster import latest_record, latest_records, learners
from bot.capabilities.attendance.rules import rules_for, window_of
from bot.capabilities.attendance.sessions import SessionAndReason, SessionRef, describe, pick_session
from bot.capabilities.attendance.sheets import session_sheet
from bot.capabilities.attendance.windows import close_window, open_window
from bot.core import i18n
from bot.core.context import Ctx
from bot.core.errors import UserError
from bot.core.exports import cohort_folder
from bot.core.grammar import Choice, Number, Slug, Word
from bot.core.i18n import N_, _, _n
from bot.core.messages import Header, Message, Reply, Text, say
from bot.core.people import identities_of
from bot.core.registry import verb
from bot.core.texts import local_time


@verb(
    "window",
    Slug("cohort"),
    Choice("action", ("open", "close", "set")),
    SessionRef(),
    summary="open or close a session's check-in now, or set its window (minutes around the start)",
    options={
        "before": Number("minutes", high=720),
        "after": Number("minutes", high=720),
        "late": Number("minutes", high=720),
    },
    example="window spring-onboarding set #12 before=15 after=20 late=10",
    staff_only=True,
)
async def window(
    ctx: Ctx,
    cohort: str,
    action: str,
    session: int | None,
    before: int | None,
    after: int | None,
    late: int | None,
) -> Reply:
    row = await ctx.staff_cohort(cohort, N_("change check-in windows"))
    live = await pick_session(ctx, row, session)
    state = await session_state(ctx.session, live.id or 0)
    name = describe(live, row.tz)
    if state.closed_at is not None:
        raise UserError(
            _("Check-in for {session} is already closed. Use `correct` to fix a status.", session=name)
        )
    if action == "set":
        if before is None and after is None and late is None:
            raise UserError(_("Say what to change: before=, after= and/or late= (minutes)."))
        state.opens_before_min = before if before is not None else state.opens_before_min
        state.closes_after_min = after if after is not None else state.closes_after_min
        state.late_after_min = late if late is not None else state.late_after_min
        rules = rules_for(row, state)
        if rules.late_after > rules.closes_after:
            raise UserError(_("Late can't start after the window closes: make late= at most after=."))
        ctx.session.add(state)
        w = window_of(live, rules, state)
        await ctx.log("attendance.window_set", cohort_id=row.id, actor_id=ctx.actor.id, session_id=live.id)
        return say(
            _(
                "Check-in for {session}: opens {opens}, late from {late}, closes {closes} ({tz}).",
                session=name,
                opens=hhmm(w.opens_at, row.tz),
                late=hhmm(w.late_at, row.tz),
                closes=hhmm(w.closes_at, row.tz),
                tz=row.tz,
            )
        )
    if action == "open":
        w = window_of(live, rules_for(row, state), state)
        if w.phase(ctx.now) == "closed":
            raise UserError(
                _(
                    "Check-in for {session} already closed at {closes}.",
                    session=name,
                    closes=hhmm(w.closes_at, row.tz),
                )
            )
        if w.phase(ctx.now) == "before":
            state.opened_at = ctx.now
            ctx.session.add(state)
        sent = await open_window(ctx, live, row)
        await ctx.log("attendance.window_opened", cohort_id=row.id, actor_id=ctx.actor.id, session_id=live.id)
        return say(
            _n(
                "Check-in for {session} is open: {n} card sent.",
                "Check-in for {session} is open: {n} cards sent.",
                sent,
                session=name,
            )
        )
    totals = await close_window(ctx, live, row, auth=ctx.inbound.auth, actor_id=ctx.actor.id)
    await ctx.log("attendance.window_closed", cohort_id=row.id, actor_id=ctx.actor.id, session_id=live.id)
    summary = ", ".join(count_of(s, totals[s]) for s in STATUSES)
    return say(_("Check-in for {session} is closed: {totals}.", session=name, totals=summary))


@verb(
    "code",
    Slug("cohort"),
    Choice("action", ("on", "off", "show")),
    SessionRef(),
    summary="require a rotating code to check in to a session, and show the current code to announce",
    options={"every": Number("minutes", low=1, high=60)},
    example="code spring-onboarding on #12 every=3",
    staff_only=True,
)
async def code(ctx: Ctx, cohort: str, action: str, session: int | None, every: int | None) -> Reply:
    row = await ctx.staff_cohort(cohort, N_("manage check-in codes"))
    live = await pick_session(ctx, row, session)
    state = await session_state(ctx.session, live.id or 0)
    name = describe(live, row.tz)
    if action == "off":
        state.code_secret = ""
        ctx.session.add(state)
        await ctx.log("attendance.code_off", cohort_id=row.id, actor_id=ctx.actor.id, session_id=live.id)
        return say(_("Check-in for {session} no longer needs a code.", session=name))
    if action == "on":
        if every is not None:
            state.code_step_s = every * 60
        if not state.code_secret:
            state.code_secret = codes.new_secret()
        ctx.session.add(state)
        await ctx.log("attendance.code_on", cohort_id=row.id, actor_id=ctx.actor.id, session_id=live.id)
    secret = session_secret(state, rules_for(row, state))
    if secret is None:
        raise UserError(
            _(
                "Check-in for {session} needs no code. Turn it on with `code {cohort} on #{id}`.",
                session=name,
                cohort=row.slug,
                id=live.id,
            )
        )
    step = timedelta(seconds=state.code_step_s)
    current = codes.current_code(secret, ctx.now, step)
    changes = hhmm(codes.rotates_at(ctx.now, step), row.tz)
    text = _(
        "Code for {session}: *{code}* (changes at {changes}, every {minutes} min; the previous code "
        "stays valid one more step). Show it again with `code {cohort} show #{id}`.",
        session=name,
        code=current[:3] + " " + current[3:],
        changes=changes,
        minutes=state.code_step_s // 60,
        cohort=row.slug,
        id=live.id,
    )
    return say(text)


@verb(
    "correct",
    Slug("cohort"),
    Word("learner"),
    Choice("status", STATUSES),
    SessionAndReason(),
    summary="set or correct a learner's attendance, with a reason (the original record is kept)",
    example="correct spring-onboarding @alice present #12 was in the room, phone battery dead",
    staff_only=True,
)
async def correct(
    ctx: Ctx, cohort: str, learner: str, status: str, session_and_reason: tuple[int | None, str]
) -> Reply:
    row = await ctx.staff_cohort(cohort, N_("correct attendance"))
    ref, reason = session_and_reason
    if not reason:
        raise UserError(_("Say why: the reason is kept with the record."))
    person = await ctx.person(learner)
    enrolment = await ctx.enrolment(row, person.id or 0)
    if enrolment is None or enrolment.role != "learner":
        raise UserError(
            _("{name} is not a learner of '{cohort}'.", name=person.display_name, cohort=row.slug)
        )
    live = await pick_session(ctx, row, ref)
    state = await session_state(ctx.session, live.id or 0)
    previous = await latest_record(ctx.session, live.id or 0, person.id or 0)
    if previous is not None and previous.status == status:
        raise UserError(
            _(
                "{name} is already {status} for {title}. Nothing changed.",
                name=person.display_name,
                status=label(status),
                title=live.title,
            )
        )
    identity = (await identities_of(ctx.session, [person.id or 0])).get(person.id or 0)
    fact = Fact(
        person_id=person.id or 0,
        person_name=person.display_name,
        platform=identity.platform if identity else "none",
        workspace=identity.workspace if identity else "",
        platform_user_id=identity.user_id if identity else "",
        status=status,
        auth=ctx.inbound.auth,
        idempotency_key=f"set:{live.id}:{person.id}:{state.head_seq + 1}",
        event_time=ctx.inbound.event_time,
        platform_event_id=ctx.inbound.dedupe_key,
        actor_id=ctx.actor.id,
        correction=previous is not None,
        reason=reason,
    )
    chain = chain_for(chain_secret(ctx.settings), row, live)
    [record] = await append(ctx.session, state, chain, [fact], ctx.now)
    await ctx.log(
        "attendance.recorded",
        cohort_id=row.id,
        person_id=person.id,
        actor_id=ctx.actor.id,
        session_id=live.id,
        status=status,
        correction=previous is not None,
    )
    with i18n.use(person.lang or row.lang):  # the learner's card, in their language
        card = done_card(
            live,
            _(
                "Your attendance for *{title}* was set to *{status}* by a trainer.",
                title=live.title,
                status=label(status),
            ),
        )
    for kind in ("checkin", "checkin-reminder"):
        original = f"{kind}:{live.id}:{person.id}"
        await ctx.update_message(original, card, key=f"{original}:set:{record.seq}")
    was = " " + _("(was {status}; that record is kept)", status=label(previous.status)) if previous else ""
    return say(
        _(
            "{name}: {status} for {session}{was}. Reason: {reason}",
            name=person.display_name,
            status=label(status),
            session=describe(live, row.tz),
            was=was,
            reason=reason,
        )
    )


@verb(
    "missing",
    Slug("cohort"),
    SessionRef(),
    summary="who has not checked in yet (the session on now, or #id)",
    example="missing spring-onboarding",
    staff_only=True,
)
async def missing(ctx: Ctx, cohort: str, session: int | None) -> Reply:
    row = await ctx.staff_cohort(cohort, N_("see who is missing"))
    live = await pick_session(ctx, row, session)
    records = await latest_records(ctx.session, live.id or 0)
    roster = await learners(ctx.session, row.id or 0)
    absent = [lr.person.display_name for lr in roster if lr.id not in records]
    counts = {s: sum(1 for r in records.values() if r[-1].status == s) for s in STATUSES}
    state = await session_state(ctx.session, live.id or 0, lock=False)
    w = window_of(live, rules_for(row, state), state)
    phase = w.phase(ctx.now)
    when = local_time(w.opens_at if phase == "before" else w.closes_at, row.tz)
    phrases = {
        "before": _("Check-in opens {when}.", when=when),
        "open": _("Check-in closes {when}.", when=when),
        "closed": _("Check-in closed {when}.", when=when),
    }
    recorded = ", ".join(count_of(s, n) for s, n in counts.items() if n)
    lines = [
        _("{done}/{all} recorded: ", done=len(roster) - len(absent), all=len(roster)) + recorded,
        phrases[phase],
        _("Missing: {names}", names=", ".join(absent)) if absent else _("Nobody is missing."),
    ]
    title = _("Missing: {session}", session=describe(live, row.tz))
    return Reply(Message(title, (Header(title), Text("\n".join(lines)))))


@verb(
    "sheet",
    Slug("cohort"),
    SessionRef(),
    summary="the attendance sheet of a session (on now, or #id), also written as CSV and PDF",
    example="sheet spring-onboarding #12",
    staff_only=True,
)
async def sheet(ctx: Ctx, cohort: str, session: int | None) -> Reply:
    row = await ctx.staff_cohort(cohort, N_("see attendance sheets"))
    live = await pick_session(ctx, row, session)
    data = await session_sheet(ctx.session, row, live)
    out = cohort_folder(ctx.settings.export_dir, row.slug, "attendance")
    paths = await asyncio.to_thread(exports.write_session, data, out, ctx.now)
    text = exports.render_session_text(data)
    files = _("Files (in the server's export folder): {files}", files=", ".join(p.name for p in paths))
    return Reply(Message(text.splitlines()[0], (Text(f"```\n{text}\n```"), Text(files))))
