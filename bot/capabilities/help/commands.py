"""`help` and `help <verb>`: the command reference, built from the grammar itself, in the reader's
language (summaries through the catalogue, the verbs' names in their language beside the English)."""

from __future__ import annotations

from bot.core import i18n
from bot.core.context import Ctx
from bot.core.grammar import Verb, Word, by_name, nearest_verb
from bot.core.i18n import _
from bot.core.messages import Block, Fields, Header, Message, Reply, Text
from bot.core.registry import VERBS, verb


def _line(v: Verb) -> str:
    aliases = v.aliases.get(i18n.current(), ())
    if not aliases:
        return f"`{v.usage}`: {_(v.summary)}"
    others = ", ".join(f"`{a}`" for a in (*aliases[1:], v.name))
    also = " (" + _("also {names}", names=others) + ")"
    return f"`{v.usage}`: {_(v.summary)}{also}"


@verb("help", Word("verb", optional=True), summary="list commands, or explain one", example="help enroll")
async def show_help(ctx: Ctx, verb: str | None) -> Reply:
    lang = i18n.current()
    if verb is None:
        everyone = [v for v in VERBS.values() if not v.staff_only]
        staff = [v for v in VERBS.values() if v.staff_only]
        title = _("cohortbot commands")
        blocks: list[Block] = [
            Header(title),
            Text("\n".join(_line(v) for v in everyone)),
            Text("*" + _("For trainers and admins") + "*\n" + "\n".join(_line(v) for v in staff)),
            Text(_("Type `{help} <command>` for details.", help=VERBS["help"].name_in(lang))),
        ]
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
        unknown = _("Unknown command '{word}'.", word=verb)
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
