"""`help` and `help <verb>`: the command reference, built from the grammar itself."""

from __future__ import annotations

import difflib

from bot.core.context import Ctx
from bot.core.grammar import Word
from bot.core.messages import Block, Fields, Header, Message, Reply, Text
from bot.core.registry import VERBS, verb


@verb("help", Word("verb", optional=True), summary="list commands, or explain one", example="help enroll")
async def show_help(ctx: Ctx, verb: str | None) -> Reply:
    if verb is None:
        everyone = [v for v in VERBS.values() if not v.staff_only]
        staff = [v for v in VERBS.values() if v.staff_only]
        blocks: list[Block] = [
            Header("cohortbot commands"),
            Text("\n".join(f"`{v.usage}`: {v.summary}" for v in everyone)),
            Text("*For trainers and admins*\n" + "\n".join(f"`{v.usage}`: {v.summary}" for v in staff)),
            Text("Type `help <command>` for details."),
        ]
        return Reply(Message("cohortbot commands", tuple(blocks)))
    found = VERBS.get(verb.lower())
    if found is None:
        near = difflib.get_close_matches(verb.lower(), list(VERBS), n=1, cutoff=0.5)
        hint = f" Did you mean `help {near[0]}`?" if near else " Type `help` for the list."
        return Reply(Message(f"Unknown command '{verb}'.", (Text(f"Unknown command '{verb}'.{hint}"),)))
    pairs = [("Usage", f"`{found.usage}`")]
    if found.example:
        pairs.append(("Example", f"`{found.example}`"))
    return Reply(Message(found.usage, (Header(found.name), Text(found.summary), Fields(tuple(pairs)))))
