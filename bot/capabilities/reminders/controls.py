"""What learners and trainers control about reminders: snooze, mute and unmute optional ones;
pause and resume a cohort; send a reminder now."""

from __future__ import annotations

import difflib
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from bot.capabilities.reminders.fanout import (
    ReminderPreference,
    aware,
    fan_out,
    learner_query,
    quietened,
    zone_of,
)
from bot.core import texts
from bot.core.context import Ctx
from bot.core.errors import UserError
from bot.core.grammar import Arg, ArgError, Slug, Title
from bot.core.i18n import N_, _, _n
from bot.core.messages import Fields, Reply, say
from bot.core.models import Cohort, Enrolment, FiredEvent, LiveSession, Module
from bot.core.registry import PLANNERS, demo_setup, learner_status, verb
from schedules.events import PlannedEvent
from schedules.programme import parse_duration

MAX_SNOOZE = timedelta(days=30)


# -- learner controls --------------------------------------------------------------------------------


class Period(Arg):
    """How long, like 2d, 12h or 1d12h (up to 30 days)."""

    def convert(self, token: str) -> timedelta:
        period = parse_duration(token)
        if period is None or not timedelta(minutes=1) <= period <= MAX_SNOOZE:
            raise ArgError(
                _("'{token}' is not a period: write it like 2d, 12h or 1d12h (at most 30d)", token=token)
            )
        return period


async def _my_preference(ctx: Ctx, slug: str) -> tuple[Cohort, ReminderPreference]:
    cohort = await ctx.cohort(slug)
    if await ctx.role_in(cohort) is None:
        raise UserError(_("You are not in '{cohort}'. `list` shows your cohorts.", cohort=cohort.slug))
    pref = (
        await ctx.session.exec(
            select(ReminderPreference).where(
                ReminderPreference.cohort_id == cohort.id, ReminderPreference.person_id == ctx.actor.id
            )
        )
    ).first()
    return cohort, pref or ReminderPreference(cohort_id=cohort.id or 0, person_id=ctx.actor.id or 0)


@verb(
    "snooze",
    Slug("cohort"),
    Period("period like 2d", key="period"),
    summary="pause optional reminders (modules, nudges) for a while",
    example="snooze spring-onboarding 2d",
)
async def snooze(ctx: Ctx, cohort: str, period: timedelta) -> Reply:
    row, pref = await _my_preference(ctx, cohort)
    pref.snoozed_until = ctx.now + period
    ctx.session.add(pref)
    await ctx.log(
        "reminders.snoozed", cohort_id=row.id, person_id=ctx.actor.id, until=pref.snoozed_until.isoformat()
    )
    until = texts.local_time(pref.snoozed_until, ctx.actor.tz or row.tz)
    return say(
        texts.t("reminders.snoozed", cohort=row.slug, until=until) + " " + texts.t("reminders.essential")
    )


@verb(
    "mute",
    Slug("cohort"),
    summary="stop optional reminders (modules, nudges)",
    example="mute spring-onboarding",
)
async def mute(ctx: Ctx, cohort: str) -> Reply:
    row, pref = await _my_preference(ctx, cohort)
    pref.muted = True
    ctx.session.add(pref)
    await ctx.log("reminders.muted", cohort_id=row.id, person_id=ctx.actor.id)
    return say(texts.t("reminders.muted", cohort=row.slug) + " " + texts.t("reminders.essential"))


@verb(
    "unmute",
    Slug("cohort"),
    summary="optional reminders back on (ends a snooze too)",
    example="unmute spring-onboarding",
)
async def unmute(ctx: Ctx, cohort: str) -> Reply:
    row, pref = await _my_preference(ctx, cohort)
    pref.muted, pref.snoozed_until = False, None
    ctx.session.add(pref)
    await ctx.log("reminders.unmuted", cohort_id=row.id, person_id=ctx.actor.id)
    return say(texts.t("reminders.unmuted", cohort=row.slug))


@learner_status
async def my_reminders(ctx: Ctx, cohort: Cohort, person_id: int) -> list[Any]:
    muted, snoozed = await quietened(ctx.session, cohort, ctx.now)
    if person_id in muted:
        state = _("optional ones muted (`unmute {cohort}`)", cohort=cohort.slug)
    elif person_id in snoozed:
        state = _("optional ones snoozed (`unmute {cohort}`)", cohort=cohort.slug)
    else:
        return []
    return [Fields(((texts.t("reminders.status"), state),))]


# -- trainer controls --------------------------------------------------------------------------------


@verb(
    "pause", Slug("cohort"), summary="pause a cohort: no scheduled reminders until `resume`", staff_only=True
)
async def pause(ctx: Ctx, cohort: str) -> Reply:
    row = await ctx.staff_cohort(cohort, N_("pause it"))
    if row.status != "active":
        raise UserError(_("'{cohort}' is already {status}.", cohort=row.slug, status=_(row.status)))
    row.status = "paused"
    ctx.session.add(row)
    await ctx.log("cohort.paused", cohort_id=row.id, actor_id=ctx.actor.id)
    return say(_("*{cohort}* is paused: nothing scheduled is sent until `resume {cohort}`.", cohort=row.slug))


@verb(
    "resume",
    Slug("cohort"),
    summary="resume a paused cohort (what fell due while paused is not sent)",
    staff_only=True,
)
async def resume(ctx: Ctx, cohort: str) -> Reply:
    row = await ctx.staff_cohort(cohort, N_("resume it"))
    if row.status != "paused":
        raise UserError(
            _("'{cohort}' is not paused (it is {status}).", cohort=row.slug, status=_(row.status))
        )
    row.status = "active"
    ctx.session.add(row)
    missed = await _skip_missed(ctx, row)
    await ctx.log("cohort.resumed", cohort_id=row.id, actor_id=ctx.actor.id, skipped=missed)
    text = _("*{cohort}* is running again.", cohort=row.slug)
    if missed:
        text += " " + _n(
            "{n} scheduled event that fell due meanwhile was skipped.",
            "{n} scheduled events that fell due meanwhile were skipped.",
            missed,
        )
    return say(text)


async def _skip_missed(ctx: Ctx, cohort: Cohort) -> int:
    """Record the events that fell due during the pause as skipped, so they never fire late."""
    events: list[PlannedEvent] = []
    for plan_events in PLANNERS:
        events.extend(e for e in await plan_events(ctx.session, cohort, ctx.now) if e.due_at <= ctx.now)
    if not events:
        return 0
    fired = set(
        (
            await ctx.session.exec(
                select(FiredEvent.key).where(col(FiredEvent.key).in_([e.key for e in events]))
            )
        ).all()
    )
    missed = [e for e in events if e.key not in fired]
    for e in missed:
        ctx.session.add(
            FiredEvent(
                key=e.key,
                kind=e.kind,
                cohort_id=cohort.id,
                due_at=e.due_at,
                fired_at=ctx.now,
                outcome="paused",
            )
        )
    return len(missed)


@verb(
    "remind",
    Slug("cohort"),
    Title("session or module"),
    summary="send a reminder of a session or module now (modules: only to whoever is not done)",
    example='remind spring-onboarding "Security basics"',
    staff_only=True,
)
async def remind(ctx: Ctx, cohort: str, session_or_module: str) -> Reply:
    row = await ctx.staff_cohort(cohort, N_("send reminders"))
    item, found = await _find_item(ctx, row, session_or_module)
    learners = (await ctx.session.exec(learner_query(row, Enrolment.enrolled_at, zone_of(row)))).all()
    by_zone: dict[str, list[tuple[int, datetime]]] = {}
    for person_id, enrolled_at, zone in learners:
        by_zone.setdefault(str(zone), []).append((int(person_id), aware(enrolled_at)))
    stamp = ctx.now.strftime("%Y%m%dT%H%M%S")
    total: Counter[str] = Counter()
    for zone, people in sorted(by_zone.items()):
        total += await fan_out(
            ctx,
            row,
            f"manual:{row.id}:{item[0]}{found.id}:{stamp}",
            item=item,
            item_id=found.id or 0,
            rule=f"now{stamp}",
            zone=zone,
            nominal_at=ctx.now,
            planned_at=ctx.now,
            learners=people,
            manual=True,
        )
    await ctx.log("reminders.sent_now", cohort_id=row.id, actor_id=ctx.actor.id, item=item, item_id=found.id)
    sent = total["queued:manual"]
    skipped = sum(n for k, n in total.items() if k.startswith("skipped"))
    why = ", ".join(
        f"{_(k.split(':', 1)[1])} {n}" for k, n in sorted(total.items()) if k.startswith("skipped")
    )
    text = _n(
        "Reminder of *{title}* sent to {n} learner",
        "Reminder of *{title}* sent to {n} learners",
        sent,
        title=found.title,
    )
    return say(text + (_("; not to {skipped} ({why}).", skipped=skipped, why=why) if skipped else "."))


async def _find_item(ctx: Ctx, cohort: Cohort, title: str) -> tuple[str, LiveSession | Module]:
    sessions = (await ctx.session.exec(select(LiveSession).where(LiveSession.cohort_id == cohort.id))).all()
    modules = (await ctx.session.exec(select(Module).where(Module.cohort_id == cohort.id))).all()
    candidates: list[tuple[str, LiveSession | Module]] = [("session", s) for s in sessions]
    candidates += [("module", m) for m in modules]
    for kind, row in candidates:
        if row.title.lower() == title.lower():
            return kind, row
    near = difflib.get_close_matches(title, [r.title for _kind, r in candidates], n=1, cutoff=0.4)
    hint = " " + _('Did you mean "{near}"?', near=near[0]) if near else ""
    raise UserError(
        _("'{cohort}' has no session or module called \"{title}\".", cohort=cohort.slug, title=title) + hint
    )


# -- demo ------------------------------------------------------------------------------------------


@demo_setup(20)
async def demo_reminder_controls(demo: Any) -> None:
    """An early session whose day-before reminder falls in quiet hours, one learner snoozing
    optional reminders for a week and one muting them."""
    await demo.say("tina", 'session demo-spoc "Early-bird Q&A" 2027-03-17 07:30 30m')
    await demo.say("bruno", "snooze demo-spoc 7d")
    await demo.say("chloe", "mute demo-spoc")
