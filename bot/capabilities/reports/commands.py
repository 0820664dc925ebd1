"""`report <cohort>`: the training-manager report, with its chart, for the cohort's staff."""

from __future__ import annotations

from bot.capabilities.reports.render import report_message
from bot.capabilities.reports.service import build_report, write_report_chart
from bot.core.context import Ctx
from bot.core.grammar import Slug
from bot.core.messages import Reply
from bot.core.registry import verb


@verb(
    "report",
    Slug("cohort"),
    summary="the training report: launch, completion per module, attendance, scores, segments, at risk",
    example="report spring-onboarding",
    staff_only=True,
)
async def report(ctx: Ctx, cohort: str) -> Reply:
    row = await ctx.staff_cohort(cohort, "see the training report")
    computed = await build_report(ctx.session, row, ctx.now)
    chart = await write_report_chart(computed, ctx.settings.export_dir)
    return Reply(report_message(computed, str(chart)))
