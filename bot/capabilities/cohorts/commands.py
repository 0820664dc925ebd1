"""Cohorts and their people: create, enroll, roles, managers, sessions, modules, status and list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.capabilities.cohorts.programmes import apply_programme, load_named
from bot.core import i18n, texts
from bot.core.aliases import verb_name
from bot.core.context import Ctx
from bot.core.errors import PermissionDenied, UserError
from bot.core.grammar import (
    Choice,
    DateArg,
    DateTimeArg,
    DurationArg,
    Literal,
    Many,
    Slug,
    Title,
    Word,
    ZoneArg,
)
from bot.core.i18n import N_, _, _n
from bot.core.messages import Divider, Fields, Header, Message, Reply, Text, say
from bot.core.models import Cohort, Enrolment, LiveSession, ManagerLink, Module, Person
from bot.core.outbox import Recipient
from bot.core.registry import HOME_VIEWS, LEARNER_STATUS, MANAGER_VIEWS, STAFF_STATUS, home_view, verb


def to_utc(local: datetime, tz: str) -> datetime:
    """A cohort-local wall-clock time as UTC; refuses times a DST change skips."""
    zone = ZoneInfo(tz)
    aware = local.replace(tzinfo=zone)
    back = aware.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None)
    if back != local:
        raise UserError(
            _(
                "{when} does not exist in {tz}: the clocks change then. Pick another time.",
                when=local.strftime("%Y-%m-%d %H:%M"),
                tz=tz,
            )
        )
    return aware.astimezone(ZoneInfo("UTC"))


def end_of_day_utc(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(23, 59), tzinfo=ZoneInfo(tz)).astimezone(ZoneInfo("UTC"))


@verb(
    "create",
    Slug("cohort"),
    summary="create a cohort, optionally from a programme; you become its admin",
    options={
        "tz": ZoneArg("IANA zone"),
        "start": DateArg("YYYY-MM-DD"),
        "programme": Word("name"),
        "lang": Choice("language", i18n.LANGUAGES),
    },
    example="create spring-onboarding programme=spoc-6w start=2027-03-01 tz=Europe/Paris lang=fr",
    staff_only=True,
)
async def create(
    ctx: Ctx, cohort: str, tz: str | None, start: date | None, programme: str | None, lang: str | None
) -> Reply:
    if ctx.settings.admin_list and not ctx.is_global_admin:
        raise PermissionDenied(_("Only the configured cohortbot admins can create cohorts here."))
    exists = (await ctx.session.exec(select(Cohort).where(Cohort.slug == cohort))).first()
    if exists is not None:
        raise UserError(
            _(
                "A cohort named '{cohort}' already exists. Pick another name, or `status {cohort}`.",
                cohort=cohort,
            )
        )
    platform = ctx.inbound.sender.platform
    channel = ctx.inbound.channel_id or (f"#{cohort}" if platform == "console" else None)
    plan = load_named(programme) if programme else {}
    row = Cohort(
        slug=cohort,
        tz=tz or plan.get("tz") or ctx.actor.tz or "UTC",
        start_date=start.isoformat() if start else None,
        channel_platform=platform if channel else None,
        channel_workspace=ctx.inbound.sender.workspace,
        channel_id=channel,
        created_by=ctx.actor.id,
        created_at=ctx.now,
        lang=lang or i18n.current(),  # by default, the language of whoever creates it
    )
    ctx.session.add(row)
    await ctx.session.flush()
    ctx.session.add(Enrolment(cohort_id=row.id, person_id=ctx.actor.id, role="admin", enrolled_at=ctx.now))
    await ctx.log("cohort.created", cohort_id=row.id, actor_id=ctx.actor.id, tz=row.tz, lang=row.lang)
    applied = ""
    if programme:
        first_day = start or ctx.now.astimezone(ZoneInfo(row.tz)).date()
        sessions, modules = await apply_programme(ctx.session, row, plan, first_day)
        await ctx.log("programme.applied", cohort_id=row.id, actor_id=ctx.actor.id, programme=programme)
        applied = " " + _(
            "Programme *{programme}* starts {day}: {sessions}, {modules}.",
            programme=plan.get("name", programme),
            day=i18n.long_date(first_day),
            sessions=_n("{n} session", "{n} sessions", sessions),
            modules=_n("{n} module", "{n} modules", modules),
        )
    return say(
        _("Created cohort *{cohort}* (time zone {tz}). You are its admin.", cohort=cohort, tz=row.tz)
        + applied
        + " "
        + _("Next: `{command}`", command=" ".join((verb_name("enroll"), cohort, f"<{_('people')}...>")))
    )


@verb(
    "enroll",
    Slug("cohort"),
    Many("people"),
    summary="enroll people as learners, optionally in a team",
    options={"team": Word("name")},
    example="enroll spring-onboarding @alice @bob team=blue",
    staff_only=True,
)
async def enroll(ctx: Ctx, cohort: str, people: list[str], team: str | None) -> Reply:
    row = await ctx.staff_cohort(cohort, N_("enroll people"))
    persons = await _distinct_people(ctx, people)
    for person in persons:
        if await ctx.enrolment(row, person.id or 0) is not None:
            raise UserError(
                _(
                    "{person} is already enrolled in '{cohort}'. Nothing was changed.",
                    person=person.display_name,
                    cohort=row.slug,
                )
            )
    recipients = []
    for person in persons:
        ctx.session.add(
            Enrolment(cohort_id=row.id, person_id=person.id, role="learner", team=team, enrolled_at=ctx.now)
        )
        await ctx.log(
            "enrolment.created", cohort_id=row.id, person_id=person.id, actor_id=ctx.actor.id, team=team
        )
        recipients.append(Recipient(person.id or 0, f"welcome:{row.id}:{person.id}", welcome(row.slug, team)))
    await ctx.session.flush()
    await ctx.dms(recipients, cohort_id=row.id)
    names = ", ".join(p.display_name for p in persons)
    if team:
        return say(
            _n(
                "Enrolled {n} in *{cohort}* in team {team}: {names}.",
                "Enrolled {n} in *{cohort}* in team {team}: {names}.",
                len(persons),
                cohort=row.slug,
                team=team,
                names=names,
            )
        )
    return say(
        _n(
            "Enrolled {n} in *{cohort}*: {names}.",
            "Enrolled {n} in *{cohort}*: {names}.",
            len(persons),
            cohort=row.slug,
            names=names,
        )
    )


def welcome(cohort: str, team: str | None) -> Callable[[], Message]:
    """A new learner's welcome, built in their language by the outbox."""

    def build() -> Message:
        text = texts.t("welcome", cohort=cohort) + (" " + texts.t("welcome.team", team=team) if team else "")
        return Message(text, (Text(text),))

    return build


async def _distinct_people(ctx: Ctx, tokens: list[str]) -> list[Person]:
    persons: dict[int, Person] = {}
    for token in tokens:
        person = await ctx.person(token)
        persons[person.id or 0] = person
    return list(persons.values())


@verb(
    "manager",
    Slug("cohort"),
    Word("manager"),
    Many("learners"),
    summary="say who reports to whom (managers get digests about their own people)",
    example="manager spring-onboarding @carol @alice @bob",
    staff_only=True,
)
async def manager(ctx: Ctx, cohort: str, manager: str, learners: list[str]) -> Reply:
    row = await ctx.staff_cohort(cohort, N_("set managers"))
    boss = await ctx.person(manager)
    people = await _distinct_people(ctx, learners)
    for person in people:
        if person.id == boss.id:
            raise UserError(_("{person} cannot be their own manager.", person=person.display_name))
        enrolment = await ctx.enrolment(row, person.id or 0)
        if enrolment is None or enrolment.role != "learner":
            raise UserError(
                _(
                    "{person} is not a learner of '{cohort}': enroll them first.",
                    person=person.display_name,
                    cohort=row.slug,
                )
            )
    for person in people:
        link = (
            await ctx.session.exec(
                select(ManagerLink).where(
                    ManagerLink.cohort_id == row.id, ManagerLink.learner_id == person.id
                )
            )
        ).first()
        if link is None:
            link = ManagerLink(cohort_id=row.id or 0, manager_id=boss.id or 0, learner_id=person.id or 0)
        link.manager_id = boss.id or 0
        ctx.session.add(link)
        await ctx.log(
            "manager.set", cohort_id=row.id, person_id=person.id, actor_id=ctx.actor.id, manager=boss.id
        )
    names = ", ".join(p.display_name for p in people)
    return say(
        _(
            "{manager} now manages {names} in *{cohort}*.",
            manager=boss.display_name,
            names=names,
            cohort=row.slug,
        )
    )


@verb(
    "role",
    Slug("cohort"),
    Choice("role", ("admin", "trainer")),
    Many("people"),
    summary="make people admins or trainers of a cohort",
    example="role spring-onboarding trainer @dana",
    staff_only=True,
)
async def role(ctx: Ctx, cohort: str, role: str, people: list[str]) -> Reply:
    row = await ctx.cohort(cohort)
    if role == "admin":
        await ctx.require_admin(row, N_("make admins"))
    else:
        await ctx.require_staff(row, N_("make trainers"))
    persons = await _distinct_people(ctx, people)
    await _keep_admins_safe(ctx, row, role, persons)
    for person in persons:
        enrolment = await ctx.enrolment(row, person.id or 0)
        if enrolment is None:
            enrolment = Enrolment(cohort_id=row.id or 0, person_id=person.id or 0, enrolled_at=ctx.now)
        enrolment.role = role
        enrolment.status = "active"
        ctx.session.add(enrolment)
        await ctx.log("role.set", cohort_id=row.id, person_id=person.id, actor_id=ctx.actor.id, role=role)
    names = ", ".join(p.display_name for p in persons)
    return say(_("{names}: now {role} of *{cohort}*.", names=names, role=_(role), cohort=row.slug))


async def _keep_admins_safe(ctx: Ctx, cohort: Cohort, role: str, persons: list[Person]) -> None:
    """Only admins change admins (a trainer cannot demote one, not even to trainer), and a cohort
    never loses its last admin."""
    if role == "admin":
        return
    admins = {
        e.person_id
        for e in (
            await ctx.session.exec(
                select(Enrolment).where(
                    Enrolment.cohort_id == cohort.id, Enrolment.role == "admin", Enrolment.status == "active"
                )
            )
        ).all()
    }
    demoted = [p for p in persons if p.id in admins]
    if not demoted:
        return
    await ctx.require_admin(cohort, "change admins")
    if admins <= {p.id for p in demoted}:
        raise UserError(
            _(
                "'{cohort}' would have no admin left. Make someone else admin first "
                "(`role {cohort} admin @name`).",
                cohort=cohort.slug,
            )
        )


@verb(
    "session",
    Slug("cohort"),
    Title("title"),
    DateTimeArg(),
    DurationArg(),
    summary="add a live session (local time of the cohort)",
    options={"link": Word("url or place")},
    example='session spring-onboarding "Kick-off" 2026-03-09 09:30 90m',
    staff_only=True,
)
async def add_session(
    ctx: Ctx, cohort: str, title: str, starts: datetime, duration: timedelta, link: str | None
) -> Reply:
    row = await ctx.staff_cohort(cohort, N_("add sessions"))
    starts_utc = to_utc(starts, row.tz)
    minutes = int(duration.total_seconds() // 60)
    ctx.session.add(
        LiveSession(
            cohort_id=row.id or 0, title=title, starts_at=starts_utc, duration_min=minutes, location=link
        )
    )
    await ctx.log(
        "session.added",
        cohort_id=row.id,
        actor_id=ctx.actor.id,
        title=title,
        starts_at=starts_utc.isoformat(),
    )
    added = _(
        "Session *{title}* added to *{cohort}*: {when}, {minutes} min.",
        title=title,
        cohort=row.slug,
        when=when_said(starts_utc, row.tz, ctx.now, with_time=True),
        minutes=minutes,
    )
    return say(added + past_warning(starts_utc + duration, ctx.now))


@verb(
    "module",
    Slug("cohort"),
    Title("title"),
    Literal("due"),
    DateArg(key="due_date"),
    summary="add a module with its due date (end of that day, cohort time)",
    options={"release": DateArg()},
    example='module spring-onboarding "Security basics" due 2026-03-13',
    staff_only=True,
)
async def add_module(
    ctx: Ctx, cohort: str, title: str, due: str, due_date: date, release: date | None
) -> Reply:
    row = await ctx.staff_cohort(cohort, N_("add modules"))
    if release is not None and release > due_date:
        raise UserError(
            _("The module is released ({release}) after it is due ({due}).", release=release, due=due_date)
        )
    due_at = end_of_day_utc(due_date, row.tz)
    release_at = to_utc(datetime.combine(release, time(8, 0)), row.tz) if release else None
    ctx.session.add(Module(cohort_id=row.id or 0, title=title, due_at=due_at, release_at=release_at))
    await ctx.log(
        "module.added", cohort_id=row.id, actor_id=ctx.actor.id, title=title, due=due_date.isoformat()
    )
    added = _(
        "Module *{title}* added to *{cohort}*, due {when}.",
        title=title,
        cohort=row.slug,
        when=when_said(due_at, row.tz, ctx.now, with_time=False),
    )
    return say(added + past_warning(due_at, ctx.now))


def when_said(when: datetime, tz: str, now: datetime, *, with_time: bool) -> str:
    """A date as a reply says it: with its year when that is not this year (a typo shows)."""
    local_year = when.astimezone(ZoneInfo(tz)).year
    if local_year == now.astimezone(ZoneInfo(tz)).year:
        return texts.local_time(when, tz) if with_time else texts.local_date(when, tz)
    if with_time:
        return f"{i18n.long_time(when, tz)} ({tz})"
    return i18n.long_date(when.astimezone(ZoneInfo(tz)).date())


def past_warning(ends: datetime, now: datetime) -> str:
    """Added anyway (a past session can still hold attendance records), but never silently: nothing
    will remind anyone of it, and it may be a typo in the year."""
    if ends > now:
        return ""
    return "\n" + _("⚠ That is in the past: no reminder will go out for it. Check the date (the year?).")


@verb(
    "status",
    Slug("cohort", optional=True),
    summary="your progress, or the whole cohort for trainers",
    example="status spring-onboarding",
)
async def status(ctx: Ctx, cohort: str | None) -> Reply:
    if cohort is None:
        mine = await _my_cohorts(ctx) + [(c, None) for c in await _managed_only(ctx)]
        if not mine:
            return say(texts.t("status.none"))
        if len(mine) > 1:
            names = ", ".join(c.slug for c, _ in mine)
            return say(
                _(
                    "You are in several cohorts ({names}): say which, e.g. `status {cohort}`.",
                    names=names,
                    cohort=mine[0][0].slug,
                )
            )
        cohort = mine[0][0].slug
    row = await ctx.cohort(cohort)
    if await ctx.is_staff(row):
        return Reply(await staff_view(ctx, row))
    managed = await manager_view(ctx, row)
    if await ctx.role_in(row) is None:
        if managed is not None:
            return Reply(managed)
        raise UserError(_("You are not in '{cohort}'. `list` shows your cohorts.", cohort=row.slug))
    own = await learner_view(ctx, row, ctx.actor.id or 0)
    if managed is not None:  # a learner who also manages others in the same cohort
        own = Message(own.summary, (*own.blocks, Divider(), *managed.blocks))
    return Reply(own)


async def manager_view(ctx: Ctx, cohort: Cohort) -> Message | None:
    """What a manager sees of their reports in `cohort` (None: nobody reports to the caller)."""
    return await MANAGER_VIEWS[-1](ctx, cohort) if MANAGER_VIEWS else None


async def _managed_only(ctx: Ctx) -> list[Cohort]:
    """Cohorts where people report to the caller but the caller is not enrolled."""
    enrolled = select(Enrolment.cohort_id).where(
        Enrolment.person_id == ctx.actor.id, Enrolment.status == "active"
    )
    rows = await ctx.session.exec(
        select(Cohort)
        .join(ManagerLink, col(ManagerLink.cohort_id) == Cohort.id)
        .where(ManagerLink.manager_id == ctx.actor.id, col(Cohort.id).not_in(enrolled))
        .distinct()
        .order_by(col(Cohort.slug))
    )
    return list(rows.all())


async def learner_view(ctx: Ctx, cohort: Cohort, person_id: int) -> Message:
    person = await ctx.session.get_one(Person, person_id)
    tz = person.tz or cohort.tz
    next_session = (
        await ctx.session.exec(
            select(LiveSession)
            .where(LiveSession.cohort_id == cohort.id, LiveSession.starts_at >= ctx.now)
            .order_by(col(LiveSession.starts_at))
        )
    ).first()
    next_module = (
        await ctx.session.exec(
            select(Module)
            .where(Module.cohort_id == cohort.id, Module.due_at >= ctx.now)
            .order_by(col(Module.due_at))
        )
    ).first()
    nothing = texts.t("status.nothing")
    pairs = (
        (
            texts.t("status.next_session"),
            f"{next_session.title}, {texts.local_time(next_session.starts_at, tz)}"
            if next_session
            else nothing,
        ),
        (
            texts.t("status.next_due"),
            f"{next_module.title}, {texts.local_date(next_module.due_at, tz)}" if next_module else nothing,
        ),
    )
    title = _("{cohort}: your progress", cohort=cohort.slug)
    blocks: list = [Header(title), Fields(pairs)]
    for section in LEARNER_STATUS:
        blocks.extend(await section(ctx, cohort, person_id))
    return Message(title, tuple(blocks))


async def staff_view(ctx: Ctx, cohort: Cohort) -> Message:
    learners = await ctx.learners(cohort)
    teams = sorted({e.team for e in learners if e.team})
    sessions = await ctx.count(LiveSession, LiveSession.cohort_id == cohort.id)
    modules = await ctx.count(Module, Module.cohort_id == cohort.id)
    pairs = (
        (_("Learners"), i18n.number(len(learners))),
        (_("Teams"), ", ".join(teams) or _("none")),
        (_("Sessions"), i18n.number(sessions)),
        (_("Modules"), i18n.number(modules)),
        (_("Status"), _(cohort.status)),
        (_("Time zone"), cohort.tz),
        (_("Language"), i18n.language_name(cohort.lang)),
    )
    title = _("{cohort}: cohort status", cohort=cohort.slug)
    blocks: list = [Header(title), Fields(pairs)]
    for section in STAFF_STATUS:
        blocks.extend(await section(ctx, cohort))
    return Message(title, tuple(blocks))


async def _my_cohorts(ctx: Ctx) -> list[tuple[Cohort, Enrolment | None]]:
    if ctx.is_global_admin:
        rows = (await ctx.session.exec(select(Cohort).order_by(col(Cohort.slug)))).all()
        return [(c, await ctx.enrolment(c, ctx.actor.id or 0)) for c in rows]
    pairs = await ctx.session.exec(
        select(Cohort, Enrolment)
        .join(Enrolment, col(Enrolment.cohort_id) == Cohort.id)
        .where(Enrolment.person_id == ctx.actor.id, Enrolment.status == "active")
        .order_by(col(Cohort.slug))
    )
    return [(c, e) for c, e in pairs.all()]


@verb("list", summary="the cohorts you belong to")
async def list_cohorts(ctx: Ctx) -> Reply:
    mine = await _my_cohorts(ctx)
    if not mine:
        return say(texts.t("status.none"))
    lines = []
    for cohort, enrolment in mine:
        role = _(enrolment.role) if enrolment else _("global admin")
        team = ", " + _("team {team}", team=enrolment.team) if enrolment and enrolment.team else ""
        lines.append(f"• *{cohort.slug}*: {role}{team} ({_(cohort.status)})")
    title = _("Your cohorts")
    return Reply(Message(title, (Header(title), Text("\n".join(lines)))))


@home_view
async def overview(ctx: Ctx) -> Message:
    """A person's home screen (e.g. Slack's App Home): each of their cohorts as `status` shows it."""
    mine = await _my_cohorts(ctx)
    managed = await _managed_only(ctx)
    if not mine and not managed:
        return say(texts.t("status.none")).message
    blocks: list = [Header(_("Your cohorts"))]
    for cohort, _enrolment in mine:
        if await ctx.is_staff(cohort):
            view = await staff_view(ctx, cohort)
        else:
            view = (await status(ctx, cohort.slug)).message
        blocks.extend((Divider(), *view.blocks))
    for cohort in managed:
        if (theirs := await manager_view(ctx, cohort)) is not None:
            blocks.extend((Divider(), *theirs.blocks))
    return Message(_("Your cohorts"), tuple(blocks))


@verb("home", summary="your home screen: every cohort you follow, as Slack's App Home shows it")
async def home(ctx: Ctx) -> Reply:
    """The home screen in any chat (Teams and the console have no App Home tab)."""
    return Reply(await HOME_VIEWS[-1](ctx))


# Stored words shown through the catalogue (roles, cohort states).
WORDS = (N_("admin"), N_("trainer"), N_("learner"), N_("active"), N_("paused"), N_("archived"))
