"""`reach <cohort>` (who can be reached, per platform; who cannot, why, and what to do) and the
one line `status` shows trainers."""

from __future__ import annotations

from bot.capabilities.reach import models  # noqa: F401  (its table)
from bot.capabilities.reach.status import NO_EMAIL, Reach, Unreachable, cohort_reach
from bot.core import texts
from bot.core.context import Ctx, EventContext
from bot.core.directory import (
    APP_BLOCKED,
    DEACTIVATED,
    LOOKUP_FAILING,
    LOOKUP_PENDING,
    NOT_IN_WORKSPACE,
    NOT_INSTALLED,
    UNINSTALLED,
)
from bot.core.grammar import Slug
from bot.core.i18n import N_, _
from bot.core.messages import Fields, Header, Message, Reply, Text
from bot.core.models import Cohort
from bot.core.registry import staff_status, verb

LISTED = 30  # people named in `reach`; the rest are counted

PLATFORM_NAMES = {"slack": "Slack", "teams": "Teams", "console": "console"}  # names, not translated

texts.register(
    {
        "reach.title": N_("{cohort}: reach"),
        "reach.reachable": N_("Can be reached"),
        "reach.count": N_("{reachable} of {learners} learners"),
        "reach.none_missing": N_("Every learner can be reached."),
        "reach.cannot": N_("*{count} cannot be reached:*"),
        "reach.more": N_("… and {count} more."),
        "reach.status_line": N_("Reach: {reachable} of {learners} learners ({platforms})."),
        "reach.status_missing": N_(" {count} cannot be reached: see `reach {cohort}`."),
        f"reach.why.{NOT_IN_WORKSPACE}": N_(
            "no {platform} account has this email. Invite them, or correct the email in the import "
            "(it is looked up again every few hours)."
        ),
        f"reach.why.{DEACTIVATED}": N_("their {platform} account is deactivated. Ask your workspace admin."),
        f"reach.why.{NOT_INSTALLED}": N_(
            "the app is not installed for them. Add the app to a team they are in, or have a Teams "
            "admin pre-install it (app setup policy)."
        ),
        f"reach.why.{LOOKUP_PENDING}": N_(
            "not looked up yet. It happens within minutes while cohortbot runs."
        ),
        f"reach.why.{LOOKUP_FAILING}": N_(
            "{platform} refuses the lookup ({detail}). Check that the app has the `users:read.email` "
            "scope and reinstall it."
        ),
        f"reach.why.{APP_BLOCKED}": N_("they blocked the app. Ask them to unblock it."),
        f"reach.why.{UNINSTALLED}": N_("they removed the app. Ask them to add it again, or pre-install it."),
        f"reach.why.{NO_EMAIL}": N_("no email, and they never wrote to the bot. Enroll them by email."),
    }
)


@verb(
    "reach",
    Slug("cohort"),
    summary="how many learners can be reached, per platform, and why the others cannot",
    example="reach spring-onboarding",
    staff_only=True,
)
async def reach(ctx: Ctx, cohort: str) -> Reply:
    row = await ctx.staff_cohort(cohort, N_("see who can be reached"))
    found = await cohort_reach(ctx.session, row)
    title = texts.t("reach.title", cohort=row.slug)
    pairs = [
        (
            texts.t("reach.reachable"),
            texts.t("reach.count", reachable=found.reachable, learners=found.learners),
        )
    ]
    pairs += [(PLATFORM_NAMES.get(p, p), str(n)) for p, n in sorted(found.by_platform.items())]
    blocks: list = [Header(title), Fields(tuple(pairs))]
    if not found.unreachable:
        blocks.append(Text(texts.t("reach.none_missing")))
    else:
        lines = [texts.t("reach.cannot", count=len(found.unreachable))]
        lines += [f"• {_who(u)}: {explain(u)}" for u in found.unreachable[:LISTED]]
        if len(found.unreachable) > LISTED:
            lines.append(texts.t("reach.more", count=len(found.unreachable) - LISTED))
        blocks.append(Text("\n".join(lines)))
    return Reply(Message(title, tuple(blocks)))


def explain(unreachable: Unreachable) -> str:
    platform = PLATFORM_NAMES.get(unreachable.platform or "") or _("the platform")
    return texts.t(f"reach.why.{unreachable.reason}", platform=platform, detail=unreachable.detail or "")


def _who(unreachable: Unreachable) -> str:
    if unreachable.email and unreachable.email != unreachable.name:
        return f"{unreachable.name} ({unreachable.email})"
    return unreachable.name


@staff_status
async def reach_line(ctx: EventContext, cohort: Cohort) -> list[Text]:
    found = await cohort_reach(ctx.session, cohort)
    return [Text(status_line(found, cohort.slug))]


def status_line(found: Reach, slug: str) -> str:
    platforms = ", ".join(f"{PLATFORM_NAMES.get(p, p)} {n}" for p, n in sorted(found.by_platform.items()))
    line = texts.t(
        "reach.status_line",
        reachable=found.reachable,
        learners=found.learners,
        platforms=platforms or _("none"),
    )
    if found.unreachable:
        line += texts.t("reach.status_missing", count=len(found.unreachable), cohort=slug)
    return line
