"""Languages: the gettext catalogue of the language being written in; dates and numbers its way.

English is the source language: every message id is its English text, so an English reader needs no
catalogue and a missing translation falls back to English, never to a key. The language being
written in is a context variable: the engine sets it to the caller's language for a reply, and the
outbox sets it to each recipient's while it renders their copy (`use`).
"""

from __future__ import annotations

import gettext
import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent

# What schedules/ and modules that also answer machines mark for later (see `translated`).
from schedules.wording import L_ as L_
from schedules.wording import Later as Later

log = logging.getLogger(__name__)

DOMAIN = "cohortbot"
LOCALES_DIR = Path(__file__).parent / "locales"
SOURCE_LANGUAGE = "en"
LANGUAGES = ("en", "fr")  # every language here has a complete catalogue (tests/core/test_catalogues.py)

_current: ContextVar[str] = ContextVar("language", default=SOURCE_LANGUAGE)


def language_of(locale: str | None) -> str | None:
    """The supported language of a platform locale ('fr-FR', 'fr_CA', 'en-US', 'FR'), or None."""
    if not locale:
        return None
    lang = locale.replace("_", "-").split("-", 1)[0].strip().lower()
    return lang if lang in LANGUAGES else None


def current() -> str:
    return _current.get()


@contextmanager
def use(lang: str | None) -> Iterator[str]:
    """Write in `lang` (None or unsupported: the source language) inside the block."""
    chosen = lang if lang in LANGUAGES else SOURCE_LANGUAGE
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def set_language(lang: str | None) -> None:
    """Write in `lang` from here to the end of the current task (the engine, per inbound)."""
    _current.set(lang if lang in LANGUAGES else SOURCE_LANGUAGE)


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of `lang`: its .mo when it is fresh, else its .po compiled in memory
    (a source checkout that skipped `make catalogues` still speaks every language)."""
    if lang == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    folder = LOCALES_DIR / lang / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as f:
            return gettext.GNUTranslations(f)
    if not po.exists():
        log.warning("no catalogue for language %r in %s: writing English", lang, folder)
        return gettext.NullTranslations()
    return gettext.GNUTranslations(io.BytesIO(compile_po(po)))


def compile_po(po: Path) -> bytes:
    """A .po file as .mo bytes (Babel's compiler), fuzzy entries left out."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as f:
        catalog = read_po(f)
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def _(msgid: str, /, **values: object) -> str:
    """`msgid` (English) in the current language, with `{placeholders}` filled from `values`."""
    text = translations(_current.get()).gettext(msgid) if msgid else msgid  # "" is the .po header
    return text.format(**values) if values else text


def _n(singular: str, plural: str, n: int, /, **values: object) -> str:
    """The form of a countable message for `n` in the current language (French: 0 and 1 are
    singular); `{n}` is filled with `n` written the language's way."""
    text = translations(_current.get()).ngettext(singular, plural, n)
    return text.format(n=number(n), **values)


def N_(msgid: str, /) -> str:
    """Marks a message for extraction where it is only named, translated later (`texts.register`)."""
    return msgid


def Np_(singular: str, plural: str, /) -> tuple[str, str]:
    """Marks a countable message for extraction where it is only named (`texts.register`)."""
    return (singular, plural)


def translated(text: str) -> str:
    """`text` in the current language if it is a `Later` (`L_`: a message from schedules/ or a
    module that also answers machines), its values too; any other text as it is."""
    if not isinstance(text, Later):
        return text
    values = {k: translated(v) if isinstance(v, str) else v for k, v in text.values.items()}
    return _(text.template, **values)


# -- dates and numbers -------------------------------------------------------------------------------
# Their patterns are messages too (CLDR syntax), so each language's catalogue says how it writes them.

SHORT_DATE = N_("EEE d MMM")
SHORT_TIME = N_("EEE d MMM HH:mm")
LONG_TIME = N_("EEE d MMM y, HH:mm")
LONG_DATE = N_("EEE d MMM y")
TIME_OF_DAY = N_("HH:mm")


@cache
def babel_locale(lang: str) -> Locale:
    return Locale.parse(lang)


def _format(when: datetime, tz: str | None, pattern: str) -> str:
    # The patterns stop at minutes: times within one minute share a cache entry.
    return _formatted(_current.get(), pattern, tz or "UTC", when.replace(second=0, microsecond=0))


@lru_cache(maxsize=4096)
def _formatted(lang: str, pattern: str, tz: str, when: datetime) -> str:
    """Babel's formatting costs tens of microseconds; the same times recur (a session's start,
    this minute's clicks), so they are remembered."""
    with use(lang):
        return format_datetime(when.astimezone(ZoneInfo(tz)), _(pattern), locale=babel_locale(lang))


def short_date(when: datetime, tz: str | None) -> str:
    """'Mon 9 Mar' / 'lun. 9 mars'."""
    return _format(when, tz, SHORT_DATE)


def short_time(when: datetime, tz: str | None) -> str:
    """'Mon 9 Mar 09:30' / 'lun. 9 mars 09 h 30'."""
    return _format(when, tz, SHORT_TIME)


def long_time(when: datetime, tz: str | None) -> str:
    """'Mon 2 Mar 2026, 14:00' / 'lundi 2 mars 2026, 14 h 00'."""
    return _format(when, tz, LONG_TIME)


def time_of_day(when: datetime, tz: str | None) -> str:
    """'14:05' / '14 h 05'."""
    return _format(when, tz, TIME_OF_DAY)


def long_date(day: date) -> str:
    """'Mon 2 Mar 2026' / 'lundi 2 mars 2026'."""
    return format_date(day, _(LONG_DATE), locale=babel_locale(_current.get()))


def language_name(lang: str) -> str:
    """A language's own name in the current language: 'French' / 'français'."""
    return str(babel_locale(lang).get_display_name(babel_locale(_current.get())))


def number(value: float) -> str:
    """'1,234.5' / '1 234,5'."""
    return format_decimal(value, locale=babel_locale(_current.get()))


def percent(ratio: float) -> str:
    """'42%' / '42 %'."""
    return format_percent(ratio, locale=babel_locale(_current.get()))
