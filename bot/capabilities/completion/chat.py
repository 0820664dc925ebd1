"""Completion in the chat: the "Mark as done" button, `done`, trainers' `record`, and status blocks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case
from sqlmodel import col, func, select

from bot.capabilities.completion.lookup import cohort_modules, find_module
from bot.capabilities.completion.recording import DONE_STATUSES, STATUSES, is_done, record_completion
from bot.core import i18n, texts
from bot.core.context import Ctx
from bot.core.errors import UserError
from bot.core.grammar import Arg, ArgError, Choice, Many, Slug, Title
from bot.core.i18n import N_, _, _n
from bot.core.messages import Block, Message, Progress, Reply, Text, say
from bot.core.models import Cohort, Completion, Enrolment, Module, Person
from bot.core.registry import action, learner_status, staff_status, verb

texts.register(
    {
        "completion.done": N_("✓ {module} marked done on {date}."),
        "completion.done.late": N_("✓ {module} marked done on {date}, after its due date ({due})."),
        "completion.already": N_("✓ {module} was already marked done on {date}."),
        "completion.failed": N_(
            "Your result for {module} is recorded as failed{score}: retake it, or ask your trainer."
        ),
        "completion.not_released": N_("{module} opens on {date}: you can mark it done after that."),
        "completion.not_learner": N_(
            "You are not a learner of '{cohort}', so there is nothing to mark done."
        ),
        "completion.progress": N_("Modules done"),
        "completion.overdue": N_("Overdue: {modules}"),
        "completion.overdue.due": N_("{module} (due {date})"),
        "completion.overdue.failed": N_("{module} (failed{score})"),
        "completion.stale_button": N_("This button is no longer active."),
    }
)


# Statuses are stored in English and shown with _().
STATUS_WORDS = (N_("completed"), N_("passed"), N_("failed"))


class ModuleRef(Arg):
    """`[<cohort>] "<module>"`: the remaining tokens; the handler decides whether the first is a cohort."""

    @property
    def shown(self) -> str:
        return '[<cohort>] "<module>"'

    def take(self, tokens: list[str], i: int) -> tuple[Any, int]:
        return list(tokens[i:]), len(tokens)


class Score(Arg):
    def convert(self, token: str) -> float:
        try:
            value = float(token.rstrip("%"))
        except ValueError:
            raise ArgError(
                _("'{token}' is not a score: write a number from 0 to 100, e.g. score=85", token=token)
            ) from None
        if not 0 <= value <= 100:
            raise ArgError(_("a score is between 0 and 100, not {token}", token=token))
        return value


@action("module.done")
async def mark_done_button(ctx: Ctx, value: str, inputs: dict[str, str]) -> Reply:
    """The "Mark as done" button of module reminders: value is the module id."""
    module = await ctx.session.get(Module, int(value)) if value.isdigit() else None
    if module is None:
        return say(texts.t("completion.stale_button"))
    cohort = await ctx.session.get_one(Cohort, module.cohort_id)
    text = await _mark_done(ctx, cohort, module)
    return Reply(Message(text, (Text(text),)), "replace")


@verb(
    "done",
    ModuleRef("module", key="target"),
    summary="mark a module done (the cohort can be left out if you are in only one)",
    example='done spring-onboarding "Security basics"',
)
async def done(ctx: Ctx, target: list[str]) -> Reply:
    cohort: Cohort | None = None
    if len(target) >= 2:
        cohort = (await ctx.session.exec(select(Cohort).where(Cohort.slug == target[0].lower()))).first()
    title = " ".join(target[1:] if cohort else target)
    if cohort is None:
        cohort = await _only_cohort(ctx, title)
    module = await find_module(ctx.session, cohort, title)
    return say(await _mark_done(ctx, cohort, module))


async def _only_cohort(ctx: Ctx, title: str) -> Cohort:
    rows = await ctx.session.exec(
        select(Cohort)
        .join(Enrolment, col(Enrolment.cohort_id) == Cohort.id)
        .where(Enrolment.person_id == ctx.actor.id, Enrolment.role == "learner", Enrolment.status == "active")
        .order_by(col(Cohort.slug))
    )
    cohorts = list(rows.all())
    if not cohorts:
        raise UserError(texts.t("status.none"))
    if len(cohorts) > 1:
        names = ", ".join(c.slug for c in cohorts)
        raise UserError(
            _(
                'You are in several cohorts ({names}): say which, e.g. `done {cohort} "{title}"`.',
                names=names,
                cohort=cohorts[0].slug,
                title=title,
            )
        )
    return cohorts[0]


async def _mark_done(ctx: Ctx, cohort: Cohort, module: Module) -> str:
    """Record the caller's own completion of `module`; returns the sentence to show them."""
    enrolment = await ctx.enrolment(cohort, ctx.actor.id or 0)
    if enrolment is None or enrolment.role != "learner" or enrolment.status != "active":
        raise UserError(texts.t("completion.not_learner", cohort=cohort.slug))
    tz = ctx.actor.tz or cohort.tz
    if module.release_at is not None and module.release_at > ctx.now:
        raise UserError(
            texts.t(
                "completion.not_released", module=module.title, date=texts.local_date(module.release_at, tz)
            )
        )
    existing = (
        await ctx.session.exec(
            select(Completion).where(Completion.module_id == module.id, Completion.person_id == ctx.actor.id)
        )
    ).first()
    if existing is not None and existing.status == "failed":
        # A self-report does not overturn a failed result from a trainer or the LMS.
        score = (
            " " + _("(score {score})", score=format(existing.score, "g"))
            if existing.score is not None
            else ""
        )
        raise UserError(texts.t("completion.failed", module=module.title, score=score))
    result = await record_completion(
        ctx,
        module,
        ctx.actor.id or 0,
        status="completed",
        score=None,
        source="chat",
        at=ctx.now,
        recorded_by=ctx.actor.id,
    )
    date = texts.local_date(result.completion.at, tz)
    if not result.changed:
        return texts.t("completion.already", module=module.title, date=date)
    if result.completion.at > module.due_at:
        return texts.t(
            "completion.done.late", module=module.title, date=date, due=texts.local_date(module.due_at, tz)
        )
    return texts.t("completion.done", module=module.title, date=date)


@verb(
    "record",
    Slug("cohort"),
    Title("module"),
    Many("people"),
    summary="record people's completion of a module, with a score or a pass/fail (corrects earlier ones)",
    options={"score": Score("0-100"), "status": Choice("|".join(STATUSES), STATUSES)},
    example='record spring-onboarding "Security basics" @alice @bob score=85 status=passed',
    staff_only=True,
)
async def record(
    ctx: Ctx, cohort: str, module: str, people: list[str], score: float | None, status: str | None
) -> Reply:
    row = await ctx.staff_cohort(cohort, N_("record completions"))
    target = await find_module(ctx.session, row, module)
    persons: dict[int, Person] = {}
    for token in people:
        person = await ctx.person(token)
        enrolment = await ctx.enrolment(row, person.id or 0)
        if enrolment is None or enrolment.role != "learner":
            raise UserError(
                _(
                    "{name} is not a learner of '{cohort}': enroll them first.",
                    name=person.display_name,
                    cohort=row.slug,
                )
            )
        persons[person.id or 0] = person
    status = status or "completed"
    changed: list[str] = []
    unchanged: list[str] = []
    for person_id, person in persons.items():
        result = await record_completion(
            ctx,
            target,
            person_id,
            status=status,
            score=score,
            source="trainer",
            at=ctx.now,
            recorded_by=ctx.actor.id,
            correction=True,
        )
        (changed if result.changed else unchanged).append(person.display_name)
    what = _(status) + (_(", score {score}", score=format(score, "g")) if score is not None else "")
    lines = []
    if changed:
        lines.append(
            _(
                "Recorded *{module}* for {people}: {what}.",
                module=target.title,
                people=", ".join(changed),
                what=what,
            )
        )
    if unchanged:
        lines.append(_("Already recorded as {what}: {people}.", what=what, people=", ".join(unchanged)))
    return say("\n".join(lines))


@learner_status
async def learner_progress(ctx: Ctx, cohort: Cohort, person_id: int) -> list[Block]:
    """Modules done out of all, and the ones past due that are not done."""
    modules = await cohort_modules(ctx.session, cohort.id or 0)
    if not modules:
        return []
    rows = await ctx.session.exec(
        select(Completion).where(Completion.cohort_id == cohort.id, Completion.person_id == person_id)
    )
    by_module = {c.module_id: c for c in rows.all()}
    done_count = len([m for m in modules if is_done(by_module.get(m.id or 0))])
    blocks: list[Block] = [Progress(texts.t("completion.progress"), done_count, len(modules))]
    person = await ctx.session.get_one(Person, person_id)
    tz = person.tz or cohort.tz
    overdue = []
    for module in modules:
        completion = by_module.get(module.id)
        if module.due_at >= ctx.now or is_done(completion):
            continue
        if completion is not None and completion.status == "failed":
            score = (
                _(", score {score}", score=format(completion.score, "g"))
                if completion.score is not None
                else ""
            )
            overdue.append(texts.t("completion.overdue.failed", module=module.title, score=score))
        else:
            date = texts.local_date(module.due_at, tz)
            overdue.append(texts.t("completion.overdue.due", module=module.title, date=date))
    if overdue:
        blocks.append(Text(texts.t("completion.overdue", modules=", ".join(overdue))))
    return blocks


@staff_status
async def completion_by_module(ctx: Ctx, cohort: Cohort) -> list[Block]:
    """One line per module: how many active learners are done, late, failed, still missing."""
    modules = await cohort_modules(ctx.session, cohort.id or 0)
    if not modules:
        return []
    learners = len(await ctx.learners(cohort))
    done = col(Completion.status).in_(DONE_STATUSES)
    rows = await ctx.session.exec(
        select(
            Completion.module_id,
            func.sum(case((done, 1), else_=0)),
            func.sum(case((and_(done, col(Completion.at) > Module.due_at), 1), else_=0)),
            func.sum(case((Completion.status == "failed", 1), else_=0)),
        )
        .join(Module, col(Module.id) == Completion.module_id)
        .join(
            Enrolment,
            and_(Enrolment.cohort_id == Completion.cohort_id, Enrolment.person_id == Completion.person_id),
        )
        .where(Completion.cohort_id == cohort.id, Enrolment.role == "learner", Enrolment.status == "active")
        .group_by(col(Completion.module_id))
    )
    counts = {
        module_id: (int(d or 0), int(late or 0), int(failed or 0)) for module_id, d, late, failed in rows
    }
    lines = [_("*Completion by module*")]
    for module in modules:
        n_done, n_late, n_failed = counts.get(module.id or 0, (0, 0, 0))
        share = f" ({i18n.percent(round(100 * n_done / learners) / 100)})" if learners else ""
        parts = [_("{done}/{all} done", done=n_done, all=learners) + share]
        if n_late:
            parts.append(_n("{n} late", "{n} late", n_late))
        if n_failed:
            parts.append(_n("{n} failed", "{n} failed", n_failed))
        if module.due_at < ctx.now and learners - n_done:
            parts.append(_n("{n} overdue", "{n} overdue", learners - n_done))
        due = texts.local_date(module.due_at, cohort.tz)
        lines.append(
            "• " + _("{module} (due {date}): {parts}", module=module.title, date=due, parts=", ".join(parts))
        )
    return [Text("\n".join(lines))]
