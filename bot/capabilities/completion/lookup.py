"""Finding the module a person means: by title (case-insensitive, with a nearest-title hint) or by id."""

from __future__ import annotations

import difflib

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.errors import UserError
from bot.core.i18n import _
from bot.core.models import Cohort, Module


async def cohort_modules(session: AsyncSession, cohort_id: int) -> list[Module]:
    rows = await session.exec(
        select(Module).where(Module.cohort_id == cohort_id).order_by(col(Module.due_at), col(Module.id))
    )
    return list(rows.all())


def match_module(modules: list[Module], title: str, cohort_slug: str) -> Module:
    """The module titled `title` (case and spacing ignored), or a UserError naming the nearest title."""
    wanted = normalise(title)
    for module in modules:
        if normalise(module.title) == wanted:
            return module
    if not modules:
        raise UserError(_("'{cohort}' has no modules yet.", cohort=cohort_slug))
    by_key = {normalise(m.title): m for m in modules}
    near = difflib.get_close_matches(wanted, list(by_key), n=1, cutoff=0.4)
    hint = " " + _('Did you mean "{near}"?', near=by_key[near[0]].title) if near else ""
    raise UserError(_("'{cohort}' has no module \"{title}\".", cohort=cohort_slug, title=title) + hint)


async def find_module(session: AsyncSession, cohort: Cohort, title: str) -> Module:
    return match_module(await cohort_modules(session, cohort.id or 0), title, cohort.slug)


def normalise(title: str) -> str:
    return " ".join(title.lower().split())
