"""The catalogue workflow (Babel): extract the English messages, merge them into each language's
.po file, compile the .mo files the bot loads, and check every language is complete.

    python -m bot.core.catalogues update    # after changing or adding a message: then translate
    python -m bot.core.catalogues compile   # part of `make setup` (the .mo files are not committed)
    python -m bot.core.catalogues check     # what tests/core/test_catalogues.py asserts
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from bot.core.grammar import Literal
from bot.core.i18n import DOMAIN, LANGUAGES, LOCALES_DIR, SOURCE_LANGUAGE
from bot.core.registry import VERBS, load_capabilities

ROOT = Path(__file__).resolve().parents[2]
# The marker functions of bot.core.i18n (and L_ of schedules.wording): name -> which arguments are
# the message (and its plural).
KEYWORDS: dict[str, tuple[int, ...] | None] = {
    "_": None,
    "_n": (1, 2),
    "N_": None,
    "Np_": (1, 2),
    "L_": None,
}
PLACEHOLDER_RE = re.compile(r"(?<!\{)\{([^{}]*)\}(?!\})")


def po_path(lang: str) -> Path:
    return LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def extract() -> Catalog:
    """Every message the code marks, as a template (the English text is the id)."""
    template = Catalog(project="cohortbot", domain=DOMAIN)
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    for text, where in grammar_words():
        if text not in template:
            template.add(text, None, [(where, 0)])
        else:
            template[text].locations.append((where, 0))
    return template


def grammar_words() -> list[tuple[str, str]]:
    """What help and usage lines show of each registered verb: its summary and the names of its
    arguments (registered as data, so no marker function can point extraction at them)."""
    load_capabilities()
    words = []
    for verb in VERBS.values():
        words.append((verb.summary, f"verb {verb.name}"))
        for arg in (*verb.args, *verb.options.values()):
            if not isinstance(arg, Literal):
                words.append((arg.name, f"verb {verb.name}"))
    return words


def update(langs: Iterable[str] = LANGUAGES) -> list[str]:
    """Merge the template into each language's .po (new messages come in empty, obsolete ones go)."""
    template = extract()
    written = []
    for lang in langs:
        if lang == SOURCE_LANGUAGE:
            continue
        path = po_path(lang)
        if path.exists():
            with path.open("rb") as f:
                catalog = read_po(f, locale=lang, domain=DOMAIN)
        else:
            catalog = Catalog(locale=lang, domain=DOMAIN, project="cohortbot")
        catalog.update(template, no_fuzzy_matching=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            write_po(f, catalog, width=100, omit_header=False, ignore_obsolete=True, sort_output=True)
        written.append(str(path))
    return written


def compile_all() -> list[str]:
    """Write each language's .mo beside its .po."""
    written = []
    for lang in LANGUAGES:
        path = po_path(lang)
        if not path.exists():
            continue
        with path.open("rb") as f:
            catalog = read_po(f, locale=lang, domain=DOMAIN)
        with path.with_suffix(".mo").open("wb") as f:
            write_mo(f, catalog)
        written.append(str(path.with_suffix(".mo")))
    return written


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER_RE.findall(text))


def problems(lang: str, template: Catalog | None = None) -> list[str]:
    """What keeps `lang` from being complete: messages missing, untranslated or fuzzy, and
    translations whose {placeholders} differ from the English."""
    template = template or extract()
    path = po_path(lang)
    if not path.exists():
        return [f"{path}: no catalogue"]
    with path.open("rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    found = []
    for message in template:
        if not message.id:
            continue
        translated = catalog.get(message.id)
        label = _label(message)
        if translated is None:
            found.append(f"{lang}: missing (run update): {label}")
        elif translated.fuzzy or not _complete(translated):
            found.append(f"{lang}: not translated: {label}")
        else:
            found.extend(f"{lang}: {p}: {label}" for p in _placeholder_problems(translated))
    return found


def _label(message: Message) -> str:
    text = message.id if isinstance(message.id, str) else message.id[0]
    where = ", ".join(f"{file}:{line}" for file, line in message.locations[:1])
    return f"{text!r} ({where})"


def _complete(message: Message) -> bool:
    strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
    return all(bool(s) for s in strings)


def _placeholder_problems(message: Message) -> list[str]:
    ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
    strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
    expected = set().union(*(placeholders(i) for i in ids))
    found = []
    for string in strings:
        got = placeholders(string)
        if got != expected:
            missing, extra = expected - got, got - expected
            found.append(f"placeholders differ (missing {sorted(missing)}, unknown {sorted(extra)})")
    return found


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "extract":
        write_po(sys.stdout.buffer, extract(), width=100, sort_output=True)
        return 0
    if command == "update":
        print("\n".join(update()))
        return 0
    if command == "compile":
        print("\n".join(compile_all()))
        return 0
    if command == "check":
        template = extract()
        found = [p for lang in LANGUAGES if lang != SOURCE_LANGUAGE for p in problems(lang, template)]
        print("\n".join(found) or "every language is complete")
        return 1 if found else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
