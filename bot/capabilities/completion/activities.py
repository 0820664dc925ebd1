"""Which module an LMS activity id (an xAPI object id, or a CSV `module` value) stands for.

An activity id is either linked to a module with `lms-id`, or follows our own pattern
`.../cohorts/<cohort>/modules/<module id or title with dashes>`.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.completion.lookup import cohort_modules, find_module, normalise
from bot.capabilities.completion.models import XapiActivity
from bot.core.context import Ctx
from bot.core.grammar import Slug, Title, Word
from bot.core.messages import Reply, say
from bot.core.models import Cohort, Module
from bot.core.registry import verb

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


@verb(
    "lms-id",
    Slug("cohort"),
    Title("module"),
    Word("activity id"),
    summary="link a module to its LMS activity id, so xAPI statements and CSV rows about it count",
    example='lms-id spring-onboarding "Security basics" https://lms.example.com/activities/sec-101',
    staff_only=True,
)
async def link_activity(ctx: Ctx, cohort: str, module: str, activity_id: str) -> Reply:
    row = await ctx.staff_cohort(cohort, "link LMS activities")
    target = await find_module(ctx.session, row, module)
    link = await ctx.session.get(XapiActivity, activity_id)
    if link is not None and link.module_id == target.id:
        return say(f"{activity_id} already stands for *{target.title}*.")
    link = link or XapiActivity(activity_id=activity_id, module_id=target.id or 0)
    link.module_id = target.id or 0
    ctx.session.add(link)
    await ctx.log(
        "module.lms_linked",
        cohort_id=row.id,
        actor_id=ctx.actor.id,
        module_id=target.id,
        activity_id=activity_id,
    )
    return say(f"xAPI statements and CSV rows about {activity_id} now count for *{target.title}*.")
