"""Finding the live session a command means: `#12` or `12`, else the one whose check-in is open."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.attendance.models import AttendanceSessionState
from bot.capabilities.attendance.rules import Window, WindowRules, rules_for, window_of
from bot.core.context import Ctx
from bot.core.errors import UserError
from bot.core.grammar import Arg, ArgError, Rest
from bot.core.i18n import _
from bot.core.models import Cohort, LiveSession
from bot.core.texts import local_time

SESSION_REF = re.compile(r"^#?(\d{1,9})$")


@dataclass(frozen=True)
class SessionWindow:
    live: LiveSession
    state: AttendanceSessionState | None
    rules: WindowRules
    window: Window


class SessionRef(Arg):
    """An optional session number, written `#12` or `12`."""

    def __init__(self) -> None:
        super().__init__("session", optional=True)

    @property
    def shown(self) -> str:
        return "[#<session>]"

    def convert(self, token: str) -> int:
        match = SESSION_REF.match(token)
        if not match:
            raise ArgError(_("'{token}' is not a session number: write it like #12", token=token))
        return int(match.group(1))


class SessionAndReason(Rest):
    """`[#<session>] <reason...>`: an optional session number, then free text. Value: (number, text)."""

    def __init__(self, reason: str = "reason") -> None:
        super().__init__("session and reason", key="session_and_reason")
        self.reason = reason

    @property
    def shown(self) -> str:
        return f"[#<session>] <{self.reason}...>"

    def take(self, tokens: list[str], i: int) -> tuple[Any, int]:
        return split_session_ref(" ".join(tokens[i:])), len(tokens)


def split_session_ref(text: str) -> tuple[int | None, str]:
    """`"#12 doctor's appointment"` -> (12, "doctor's appointment"); no leading number -> (None, text)."""
    first, _, rest = text.strip().partition(" ")
    match = SESSION_REF.match(first)
    return (int(match.group(1)), rest.strip()) if match else (None, text.strip())


async def session_windows(
    session: AsyncSession, cohort: Cohort, *, around: datetime | None = None
) -> list[SessionWindow]:
    """The cohort's sessions (those starting within two days of `around`, if given) with their windows."""
    query = (
        select(LiveSession, AttendanceSessionState)
        .outerjoin(
            AttendanceSessionState,
            and_(col(AttendanceSessionState.session_id) == LiveSession.id),
        )
        .where(LiveSession.cohort_id == cohort.id)
        .order_by(col(LiveSession.starts_at))
    )
    if around is not None:
        query = query.where(
            col(LiveSession.starts_at) >= around - timedelta(days=2),
            col(LiveSession.starts_at) <= around + timedelta(days=2),
        )
    found = []
    for live, state in (await session.exec(query)).all():
        rules = rules_for(cohort, state)
        found.append(SessionWindow(live, state, rules, window_of(live, rules, state)))
    return found


async def session_by_ref(ctx: Ctx, cohort: Cohort, ref: int) -> LiveSession:
    live = await ctx.session.get(LiveSession, ref)
    if live is None or live.cohort_id != cohort.id:
        raise UserError(
            _("'{cohort}' has no session #{ref}. `sheet {cohort}` lists them.", cohort=cohort.slug, ref=ref)
        )
    return live


async def pick_session(ctx: Ctx, cohort: Cohort, ref: int | None) -> LiveSession:
    """Session #ref, or the one whose check-in is open now, else the latest started, else the next."""
    if ref is not None:
        return await session_by_ref(ctx, cohort, ref)
    near = await session_windows(ctx.session, cohort, around=ctx.now)
    for sw in near:
        if sw.window.phase(ctx.now) == "open":
            return sw.live
    started = [sw.live for sw in near if sw.live.starts_at <= ctx.now]
    if started:
        return started[-1]
    upcoming = [sw.live for sw in near if sw.live.starts_at > ctx.now]
    if upcoming:
        return upcoming[0]
    raise UserError(_("'{cohort}' has no session around now: name one, e.g. #12.", cohort=cohort.slug))


def describe(live: LiveSession, tz: str) -> str:
    return f"#{live.id} {live.title} ({local_time(live.starts_at, tz)})"
