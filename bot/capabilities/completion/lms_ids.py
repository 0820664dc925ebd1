"""`lms-id`: link a module to its LMS activity id, or a person to their LMS user id.

Either link makes xAPI statements and CSV rows about them count; linking a person also applies
the statements that were waiting for them.
"""

from __future__ import annotations

from bot.capabilities.completion.lms_accounts import check_lms_user_id, set_lms_user_id
from bot.capabilities.completion.lookup import find_module
from bot.capabilities.completion.models import XapiActivity
from bot.capabilities.completion.xapi_store import link_waiting
from bot.core.context import Ctx
from bot.core.grammar import Slug, Title, Word
from bot.core.i18n import N_, _, _n
from bot.core.messages import Reply, say
from bot.core.models import Cohort
from bot.core.people import EMAIL_RE
from bot.core.registry import verb


@verb(
    "lms-id",
    Slug("cohort"),
    Title("module or @person"),
    Word("lms id"),
    summary="link a module to its LMS activity id, or a person to their LMS user id, so xAPI "
    "statements and CSV rows about them count",
    example='lms-id spring-onboarding "Security basics" https://lms.example.com/activities/sec-101',
    staff_only=True,
)
async def link_lms_id(ctx: Ctx, cohort: str, module_or_person: str, lms_id: str) -> Reply:
    """A module title, or a person (a mention, @name or email)."""
    target = module_or_person
    row = await ctx.staff_cohort(cohort, N_("link LMS ids"))
    if target.startswith(("@", "<@")) or target in ctx.inbound.mentions or EMAIL_RE.match(target):
        return await _link_person(ctx, row, target, lms_id)
    return await _link_activity(ctx, row, target, lms_id)


async def _link_person(ctx: Ctx, row: Cohort, who: str, lms_user_id: str) -> Reply:
    person = await ctx.person(who)
    lms_user_id = check_lms_user_id(lms_user_id)
    name = person.display_name
    if not await set_lms_user_id(ctx.session, person.id or 0, lms_user_id):
        return say(_("{name} already has LMS user id {id}.", name=name, id=lms_user_id))
    await ctx.log("person.lms_linked", cohort_id=row.id, person_id=person.id, actor_id=ctx.actor.id)
    linked = await link_waiting(ctx, [person.id or 0])
    text = _("xAPI statements about LMS user {id} now count for {name}.", id=lms_user_id, name=name)
    if linked:
        text += " " + _n("{n} waiting completion(s) recorded.", "{n} waiting completion(s) recorded.", linked)
    return say(text)


async def _link_activity(ctx: Ctx, row: Cohort, module: str, activity_id: str) -> Reply:
    target = await find_module(ctx.session, row, module)
    link = await ctx.session.get(XapiActivity, activity_id)
    if link is not None and link.module_id == target.id:
        return say(_("{activity} already stands for *{module}*.", activity=activity_id, module=target.title))
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
    return say(
        _(
            "xAPI statements and CSV rows about {activity} now count for *{module}*.",
            activity=activity_id,
            module=target.title,
        )
    )
