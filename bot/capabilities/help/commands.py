"""`help` and `help <verb>`: the command reference, built from the grammar itself, in the reader's
language (summaries through the catalogue, the verbs' names in their language beside the English)."""

from __future__ import annotations

from sqlmodel import col, select

from bot.core import i18n
from bot.core.context import STAFF_ROLES, Ctx
from bot.core.grammar import Verb, Word, brief, by_name, nearest_verb
from bot.core.i18n import _
from bot.core.messages import Block, Fields, Header, Message, Reply, Text
from bot.core.models import Enrolment, ManagerLink
from bot.core.registry import VERBS, verb


def _line(v: Verb) -> str:
    aliases = v.aliases.get(i18n.current(), ())
    if not aliases:
        return f"`{v.usage}`: {_(v.summary)}"
    others = ", ".join(f"`{a}`" for a in (*aliases[1:], v.name))
    also = " (" + _("also {names}", names=others) + ")"
    return f"`{v.usage}`: {_(v.summary)}{also}"


async def _roles(ctx: Ctx) -> tuple[bool, bool]:
    """Is the caller staff of some cohort (or a configured admin), and does anyone report to them?
    A learner's help lists only what they may use; `help <verb>` still explains any verb."""
    staff = (
        ctx.is_global_admin
        or (
            await ctx.session.exec(
                select(Enrolment.id).where(
                    Enrolment.person_id == ctx.actor.id,
                    Enrolment.status == "active",
                    col(Enrolment.role).in_(STAFF_ROLES),
                )
            )
        ).first()
        is not None
    )
    manager = (
        await ctx.session.exec(select(ManagerLink.id).where(ManagerLink.manager_id == ctx.actor.id))
    ).first() is not None
    return staff, manager


@verb("help", Word("verb", optional=True), summary="list commands, or explain one", example="help enroll")
async def show_help(ctx: Ctx, verb: str | None) -> Reply:
    lang = i18n.current()
    if verb is None:
        staff, manager = await _roles(ctx)
        everyone = [v for v in VERBS.values() if not v.staff_only and not v.for_managers]
        managers = [v for v in VERBS.values() if v.for_managers and not v.staff_only]
        for_staff = [v for v in VERBS.values() if v.staff_only]
        title = _("cohortbot commands")
        blocks: list[Block] = [Header(title), Text("\n".join(_line(v) for v in everyone))]
        if manager or staff:
            blocks.append(Text("*" + _("For managers") + "*\n" + "\n".join(_line(v) for v in managers)))
        if staff:
            blocks.append(
                Text("*" + _("For trainers and admins") + "*\n" + "\n".join(_line(v) for v in for_staff))
            )
        blocks.append(Text(_("Type `{help} <command>` for details.", help=VERBS["help"].name_in(lang))))
        return Reply(Message(title, tuple(blocks)))
    found = by_name(VERBS).get(verb.lower())
    if found is None:
        near = nearest_verb(verb.lower(), VERBS, lang)
        help_name = VERBS["help"].name_in(lang)
        hint = (
            _("Did you mean `{command}`?", command=help_name + " " + near)
            if near
            else _("Type `{help}` for the list.", help=help_name)
        )
        unknown = _("Unknown command '{word}'.", word=brief(verb))
        return Reply(Message(unknown, (Text(f"{unknown} {hint}"),)))
    pairs = [(_("Usage"), f"`{found.usage}`")]
    if found.example:
        pairs.append((_("Example"), f"`{found.example}`"))
    names = [found.name, *found.aliases.get(lang, ())]
    if len(names) > 1:
        pairs.append((_("Also"), ", ".join(f"`{n}`" for n in names)))
    return Reply(
        Message(found.usage, (Header(found.name_in(lang)), Text(_(found.summary)), Fields(tuple(pairs))))
    )
