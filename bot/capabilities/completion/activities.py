"""Which module an LMS activity id (an xAPI object id, or a CSV `module` value) stands for.

An activity id is either linked to a module with `lms-id`, or follows our own pattern
`.../cohorts/<cohort>/modules/<module id or title with dashes>`.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.completion.lookup import cohort_modules, normalise
from bot.capabilities.completion.models import XapiActivity
from bot.core.models import Cohort, Module

ACTIVITY_RE = re.compile(r"/cohorts/([a-z0-9][a-z0-9_-]{0,62})/modules/([^/?#]+)/?$", re.IGNORECASE)


async def module_for_activity(session: AsyncSession, activity_id: str) -> Module | None:
    link = await session.get(XapiActivity, activity_id)
    if link is not None:
        return await session.get(Module, link.module_id)
    match = ACTIVITY_RE.search(activity_id)
    if match is None:
        return None
    cohort = (await session.exec(select(Cohort).where(Cohort.slug == match.group(1).lower()))).first()
    if cohort is None:
        return None
    ref = normalise(unquote(match.group(2)).replace("-", " "))
    for module in await cohort_modules(session, cohort.id or 0):
        if ref in (str(module.id), normalise(module.title.replace("-", " "))):
            return module
    return None
