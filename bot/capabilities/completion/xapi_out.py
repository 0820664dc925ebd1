"""xAPI out: what learners do in the chat becomes xAPI statements queued for the customer's LRS.

With `XAPI_OUT_URL` set, activity listeners turn attendance, survey answers (never anonymous
ones), completions and challenge wins into statements, and queue each in the outbox (same
transaction as the record, platform `xapi`) for the LRS sender. A statement's id is a UUID v5 of
the record it reports, so resending it after a crash or a retry can never make a second one.
Statements that came from the LMS (`source: xapi`) are not sent back to it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from bot.capabilities.completion import xapi_vocabulary as vocab
from bot.capabilities.completion.models import LmsAccount, XapiActivity
from bot.core.context import EventContext
from bot.core.messages import Message, Record
from bot.core.models import Activity, Cohort, LiveSession, Module, OutboxMessage, Person
from bot.core.outbox import insert_rows
from bot.core.registry import on_activity

PLATFORM = "xapi"  # the outbox platform the LRS sender delivers
NAMESPACE = uuid.UUID("6f1c2a53-8d0e-5b7a-9a43-2f4c1e0b7d21")  # cohortbot's statement ids


def statement_id(record_key: str) -> str:
    """The statement id of a record: the same record always gives the same id."""
    return str(uuid.uuid5(NAMESPACE, record_key))


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def _actor(ctx: EventContext, person_id: int) -> dict[str, Any] | None:
    """mbox when the email is known, else the LMS account, else cohortbot's own account."""
    person = await ctx.session.get(Person, person_id)
    if person is None:
        return None
    actor: dict[str, Any] = {"objectType": "Agent", "name": person.display_name}
    account = await ctx.session.get(LmsAccount, person_id)
    if person.email:
        actor["mbox"] = f"mailto:{person.email}"
    elif account is not None:
        home = ctx.settings.xapi_account_homepage or ctx.settings.xapi_activity_base
        actor["account"] = {"homePage": home, "name": account.lms_user_id}
    else:
        actor["account"] = {"homePage": ctx.settings.xapi_activity_base, "name": f"person-{person_id}"}
    return actor


async def _queue(
    ctx: EventContext, activity: Activity, key: str, verb: dict[str, Any], obj: dict[str, Any], **extra: Any
) -> str | None:
    """Queue the statement reporting the record `key`; returns its outbox key (None: not sent)."""
    if not ctx.settings.xapi_out_url or activity.person_id is None or activity.cohort_id is None:
        return None
    actor = await _actor(ctx, activity.person_id)
    cohort = await ctx.session.get(Cohort, activity.cohort_id)
    if actor is None or cohort is None:
        return None
    statement = {
        "id": statement_id(key),
        "actor": actor,
        "verb": verb,
        "object": obj,
        "context": vocab.context(ctx.settings.xapi_activity_base, cohort.slug),
        "timestamp": _timestamp(activity.at),
        **extra,
    }
    await insert_rows(ctx.session, [_row(ctx, f"xapi:{key}", statement, cohort.id, activity.person_id)])
    return f"xapi:{key}"


def _row(
    ctx: EventContext, key: str, statement: dict[str, Any], cohort_id: int | None, person_id: int | None
) -> dict[str, Any]:
    """The outbox row carrying one statement to the LRS."""
    sid = statement["id"]
    return {
        "key": key,
        "kind": "message",
        "cohort_id": cohort_id,
        "person_id": person_id,
        "platform": PLATFORM,
        "workspace": "",
        # One address per statement: the delivery keeps order per address, and statements carry
        # their own timestamps, so they may go side by side (and in batches).
        "address": sid,
        "payload": Message(f"xAPI statement {sid}", (Record(statement),)).to_dict(),
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": ctx.now,
        "created_at": ctx.now,
    }


async def _void_earlier(ctx: EventContext, prefix: str, keep: str, cohort_id: int | None) -> None:
    """Statements are immutable: a corrected record voids what was sent for it before."""
    rows = await ctx.session.exec(
        select(OutboxMessage.payload).where(
            col(OutboxMessage.key).startswith(prefix, autoescape=True), OutboxMessage.key != keep
        )
    )
    base = ctx.settings.xapi_activity_base
    voiding = []
    for payload in rows.all():
        target = payload["blocks"][0]["body"]["id"]
        statement = {
            "id": statement_id(f"void:{target}"),
            "actor": {"objectType": "Agent", "account": {"homePage": base, "name": "cohortbot"}},
            "verb": vocab.VOIDED,
            "object": {"objectType": "StatementRef", "id": target},
            "timestamp": _timestamp(ctx.now),
        }
        voiding.append(_row(ctx, f"xapi:void:{target}", statement, cohort_id, None))
    await insert_rows(ctx.session, voiding)


async def _cohort_slug(ctx: EventContext, cohort_id: int) -> str:
    cohort = await ctx.session.get(Cohort, cohort_id)
    return cohort.slug if cohort else str(cohort_id)


@on_activity("attendance.recorded")
async def attendance_out(ctx: EventContext, activity: Activity) -> None:
    if not ctx.settings.xapi_out_url:
        return
    data = activity.data
    session = await ctx.session.get(LiveSession, data.get("session_id") or 0)
    if session is None or activity.cohort_id is None:
        return
    status = str(data.get("status"))
    base, slug = ctx.settings.xapi_activity_base, await _cohort_slug(ctx, activity.cohort_id)
    # Partial: a meeting saw them for part of the session; its minutes are the duration.
    attended = status in ("present", "late", "partial")
    result: dict[str, Any] = {"completion": status in ("present", "late")}
    if isinstance(data.get("minutes"), int | float):
        result["duration"] = f"PT{round(float(data['minutes']) * 60)}S"
    elif attended:
        result["duration"] = f"PT{session.duration_min}M"
    result["extensions"] = {vocab.attendance_status(base): status}
    # One statement per record: a correction (a new record) sends its own and voids the earlier ones.
    record = f"attendance:{session.id}:{activity.person_id}:"
    sent = await _queue(
        ctx,
        activity,
        f"{record}{status}:{_timestamp(activity.at)}",
        vocab.ATTENDED if attended else vocab.absent(base, status),
        vocab.session_activity(base, slug, session.id or 0, session.title),
        result=result,
    )
    if sent is not None and data.get("correction"):
        await _void_earlier(ctx, f"xapi:{record}", sent, activity.cohort_id)


@on_activity("survey.answered")
async def answered_out(ctx: EventContext, activity: Activity) -> None:
    survey_id = activity.data.get("survey_id")
    if not ctx.settings.xapi_out_url or not await _named_survey(ctx, survey_id):
        return
    base, slug = ctx.settings.xapi_activity_base, await _cohort_slug(ctx, activity.cohort_id or 0)
    await _queue(
        ctx,
        activity,
        f"survey:{survey_id}:{activity.person_id}",
        vocab.ANSWERED,
        vocab.survey_activity(base, slug, survey_id),
        result={"completion": True},
    )


# The surveys capability's table, named rather than imported: capabilities do not import each other.
SURVEY = sa.table("survey", sa.column("id"), sa.column("anonymous"))


async def _named_survey(ctx: EventContext, survey_id: Any) -> bool:
    """Only an answer to a survey known to be named is sent: an anonymous one never leaves."""
    if not isinstance(survey_id, int):
        return False
    conn = await ctx.session.connection()
    anonymous = (await conn.execute(sa.select(SURVEY.c.anonymous).where(SURVEY.c.id == survey_id))).scalar()
    return anonymous is not None and not anonymous


@on_activity("module.completed")
async def completed_out(ctx: EventContext, activity: Activity) -> None:
    data = activity.data
    if not ctx.settings.xapi_out_url or data.get("source") == "xapi":  # it came from their LMS
        return
    module = await ctx.session.get(Module, data.get("module_id") or 0)
    if module is None:
        return
    status, score = str(data.get("status")), data.get("score")
    base, slug = ctx.settings.xapi_activity_base, await _cohort_slug(ctx, module.cohort_id)
    link = (await ctx.session.exec(select(XapiActivity).where(XapiActivity.module_id == module.id))).first()
    result: dict[str, Any] = {"completion": True}
    if status in ("passed", "failed"):
        result["success"] = status == "passed"
    if score is not None:
        result["score"] = {"scaled": round(float(score) / 100, 4), "raw": score, "min": 0, "max": 100}
    await _queue(
        ctx,
        activity,
        f"module:{module.id}:{activity.person_id}:{status}:{score}",
        vocab.completion_verb(status),
        vocab.module_activity(base, slug, module.id or 0, module.title, link.activity_id if link else None),
        result=result,
    )


@on_activity("challenge.won")
async def won_out(ctx: EventContext, activity: Activity) -> None:
    if not ctx.settings.xapi_out_url:
        return
    challenge_id = activity.data.get("challenge_id")
    base, slug = ctx.settings.xapi_activity_base, await _cohort_slug(ctx, activity.cohort_id or 0)
    result: dict[str, Any] = {"success": True}
    if activity.data.get("points") is not None:
        result["extensions"] = {vocab.points(base): activity.data["points"]}
    await _queue(
        ctx,
        activity,
        f"challenge:{challenge_id}:{activity.person_id}",
        vocab.WON,
        vocab.challenge_activity(base, slug, challenge_id),
        result=result,
    )
