"""`lang fr|en|auto`: the language a person reads, chosen by them (else their platform's locale,
else their cohort's)."""

from __future__ import annotations

from bot.core import i18n
from bot.core.context import Ctx
from bot.core.grammar import Choice
from bot.core.i18n import _
from bot.core.messages import Reply, say
from bot.core.registry import verb

AUTO = "auto"


@verb(
    "lang",
    Choice("language", (*i18n.LANGUAGES, AUTO), optional=True),
    summary="the language I write to you in (auto: your platform's)",
    example="lang fr",
)
async def choose_language(ctx: Ctx, language: str | None) -> Reply:
    person = ctx.actor
    if language is None:
        return say(_("I write to you in {language}.", language=i18n.language_name(i18n.current())))
    if language == AUTO:
        person.lang, person.lang_chosen = i18n.language_of(ctx.inbound.sender.locale), False
    else:
        person.lang, person.lang_chosen = language, True
    ctx.session.add(person)
    await ctx.log("person.language", person_id=person.id, actor_id=person.id, lang=person.lang)
    i18n.set_language(person.lang)  # this answer already in the new language
    return say(_("From now on I write to you in {language}.", language=i18n.language_name(i18n.current())))
