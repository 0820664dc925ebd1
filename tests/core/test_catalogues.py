"""The catalogues: every message has a complete French translation that keeps its placeholders,
plural forms follow French rules, dates read the way each language writes them, and verb aliases
never collide."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.catalog import Message as PoMessage

from bot.core import catalogues, i18n, texts
from bot.core.aliases import ALIASES
from bot.core.grammar import ParseError, parse
from bot.core.i18n import _, _n
from bot.core.registry import VERBS, load_capabilities


def test_every_message_has_a_french_translation_with_the_same_placeholders() -> None:
    template = catalogues.extract()
    assert len(template) > 200  # the core, help, cohorts, reminders and the renderers' chrome
    assert catalogues.problems("fr", template) == []


def test_the_check_catches_a_dropped_or_renamed_placeholder() -> None:
    dropped = PoMessage("Welcome to *{cohort}*!", "Bienvenue !")
    renamed = PoMessage("Welcome to *{cohort}*!", "Bienvenue dans *{cohorte}* !")
    plural = PoMessage(("{n} session", "{n} sessions"), ("une séance", "{n} séances"))
    assert catalogues._placeholder_problems(dropped) == [
        "placeholders differ (missing ['cohort'], unknown [])"
    ]
    assert catalogues._placeholder_problems(renamed) == [
        "placeholders differ (missing ['cohort'], unknown ['cohorte'])"
    ]
    assert len(catalogues._placeholder_problems(plural)) == 1
    assert catalogues._placeholder_problems(PoMessage("{a} {{literal}}", "{{literal}} {a}")) == []


def test_the_check_catches_a_missing_or_fuzzy_translation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    po = catalogues.po_path("fr").read_text(encoding="utf-8")
    untranslated = po.replace('msgstr "Prochaine séance"', 'msgstr ""', 1)
    assert untranslated != po
    target = tmp_path / "fr" / "LC_MESSAGES" / "cohortbot.po"
    target.parent.mkdir(parents=True)
    target.write_text(untranslated, encoding="utf-8")
    monkeypatch.setattr(catalogues, "LOCALES_DIR", tmp_path)
    found = catalogues.problems("fr")
    assert len(found) == 1 and "not translated: 'Next session'" in found[0]


def test_french_plurals_treat_zero_and_one_as_singular() -> None:
    with i18n.use("fr"):
        forms = [_n("{n} session", "{n} sessions", n) for n in (0, 1, 2, 1000)]
    assert forms == ["0 séance", "1 séance", "2 séances", "1\u202f000 séances"]
    with i18n.use("en"):
        assert [_n("{n} session", "{n} sessions", n) for n in (0, 1, 2)] == [
            "0 sessions",
            "1 session",
            "2 sessions",
        ]


def test_dates_and_numbers_the_way_each_language_writes_them() -> None:
    when = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    with i18n.use("fr"):
        assert i18n.long_time(when, "Europe/Paris") == "lundi 2 mars 2026, 14 h 00"
        assert texts.local_time(when, "Europe/Paris") == "lun. 2 mars 14 h 00 (Europe/Paris)"
        assert i18n.number(1234.5) == "1\u202f234,5"
    with i18n.use("en"):
        assert i18n.long_time(when, "Europe/Paris") == "Mon 2 Mar 2026, 14:00"
        assert texts.local_time(when, "Europe/Paris") == "Mon 2 Mar 14:00 (Europe/Paris)"


def test_an_unknown_language_or_message_falls_back_to_english() -> None:
    with i18n.use("de"):
        assert i18n.current() == "en"
    with i18n.use("fr"):
        assert _("a sentence nobody translated") == "a sentence nobody translated"
        assert _("") == ""  # never the catalogue's header
    assert [i18n.language_of(x) for x in ("fr-FR", "fr_CA", "FR", "en-GB", "de-DE", None)] == [
        "fr", "fr", "fr", "en", None, None,
    ]  # fmt: skip


def test_compiled_catalogues_are_what_the_bot_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`compile` writes .mo files; a .mo older than its .po is ignored (the .po is compiled in memory)."""
    source = catalogues.po_path("fr").read_bytes()
    monkeypatch.setattr(catalogues, "LOCALES_DIR", tmp_path)
    target = catalogues.po_path("fr")
    target.parent.mkdir(parents=True)
    target.write_bytes(source)
    (written,) = [w for w in catalogues.compile_all() if "/fr/" in w]
    assert Path(written).stat().st_size > 1000
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    i18n.translations.cache_clear()
    try:
        assert i18n.translations("fr").gettext("Next session") == "Prochaine séance"
    finally:
        i18n.translations.cache_clear()


def test_verb_aliases_name_real_verbs_and_never_collide() -> None:
    load_capabilities()
    for lang, table in ALIASES.items():
        assert set(table) <= set(VERBS), f"{lang} aliases of unknown verbs: {set(table) - set(VERBS)}"
        seen: dict[str, str] = {}
        for verb, names in table.items():
            for name in names:
                assert name not in VERBS or name == verb, f"{lang} alias {name!r} of {verb} is another verb"
                assert seen.setdefault(name, verb) == verb, f"{lang} alias {name!r} used twice"


def test_french_aliases_parse_and_errors_suggest_the_readers_own_verb() -> None:
    load_capabilities()
    with i18n.use("fr"):
        parsed = parse("inscrire spoc alice", VERBS)
        assert not isinstance(parsed, ParseError) and parsed.verb.name == "enroll"
        error = parse("inscrir spoc alice", VERBS)
        assert isinstance(error, ParseError) and error.suggestion == "inscrire spoc alice"
        assert "Syntaxe : `inscrire <cohorte> <personnes...> [team=<nom>]`" in error.render()
        missing = parse("créer", VERBS)
        assert isinstance(missing, ParseError) and missing.reason == "Il manque <cohorte> pour `créer`."
    with i18n.use("en"):
        english = parse("inscrir spoc alice", VERBS)
        assert isinstance(english, ParseError) and english.suggestion == "inscrire spoc alice"
        assert parse("enrol spoc", VERBS).suggestion == "enroll spoc"  # type: ignore[union-attr]
