"""Applying a programme to a cohort: store it, and write its sessions and modules as rows.

Chat users name a programme (`programme=spoc-6w`); it is looked up among the shipped examples
and the `programmes/` folder of the working directory, never as an arbitrary server path.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.errors import UserError
from bot.core.i18n import _, _n, translated
from bot.core.models import Cohort, LiveSession, Module
from bot.core.registry import PROGRAMME_SECTIONS
from schedules.programme import ProgrammeError, expand_modules, expand_sessions, find, load_file

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,80}$")
LOCAL_DIR = Path("programmes")
SHOWN_PROBLEMS = 3


def load_named(name: str) -> dict[str, Any]:
    """The validated programme called `name`, or a UserError saying what is wrong with it."""
    if not NAME_RE.match(name) or ".." in name:
        raise UserError(_("'{name}' is not a programme name: use a name like spoc-6w.", name=name))
    stem = name.removesuffix(".yaml").removesuffix(".yml")
    local = LOCAL_DIR / f"{stem}.yaml"
    try:
        path = local if local.exists() else find(stem)
    except FileNotFoundError as e:
        raise UserError(translated(e.args[0])) from None
    try:
        return load_file(path, PROGRAMME_SECTIONS)
    except ProgrammeError as e:
        more = len(e.problems) - SHOWN_PROBLEMS
        shown = _("; ").join(translated(p) for p in e.problems[:SHOWN_PROBLEMS])
        if more > 0:
            shown += _n("; and {n} more", "; and {n} more", more)
        raise UserError(
            _(
                "Programme {source} has problems: {problems}. "
                "Check it with `cohortbot programme validate {file}`.",
                source=e.source,
                problems=shown,
                file=path.name,
            )
        ) from None


async def apply_programme(
    session: AsyncSession, cohort: Cohort, programme: dict[str, Any], start: date
) -> tuple[int, int]:
    """Store the programme on the cohort and materialise its sessions and modules; returns their counts."""
    cohort.programme = programme
    cohort.start_date = start.isoformat()
    session.add(cohort)
    await session.flush()
    sessions = expand_sessions(programme, start, cohort.tz)
    modules = expand_modules(programme, start, cohort.tz)
    for s in sessions:
        session.add(
            LiveSession(
                cohort_id=cohort.id or 0,
                title=s.title,
                starts_at=s.starts_at,
                duration_min=s.duration_min,
                location=s.location,
            )
        )
    for m in modules:
        session.add(Module(cohort_id=cohort.id or 0, title=m.title, release_at=m.release_at, due_at=m.due_at))
    await session.flush()
    return len(sessions), len(modules)
