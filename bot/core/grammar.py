"""The command grammar shared by every platform: tokenising, typed arguments, usage and suggestions.

Parsing is pure (no database): `parse(text)` returns a `Parsed` command or a `ParseError`, never raises.
Verbs keep their English names and may have aliases per language (`bot.core.aliases`); every word of
an error or usage line is in the current language (`bot.core.i18n`).
"""

from __future__ import annotations

import difflib
import re
import shlex
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.core import i18n
from bot.core.i18n import _


class ArgError(Exception):
    """One argument is wrong; the message names it and says what was expected."""


SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
DURATION_RE = re.compile(r"^(?:(\d{1,3})h)?(?:(\d{1,4})m(?:in)?)?$")
INNER_APOSTROPHE_RE = re.compile(r"(?<=\w)'(?=\w)")
APOSTROPHE_STANDIN = "\ue000"  # a private-use character no one types
SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"})


class Arg:
    """A positional argument: `take` consumes tokens from position i and returns (value, next i)."""

    def __init__(self, name: str, *, optional: bool = False, key: str | None = None) -> None:
        self.name = name
        self.optional = optional
        # The handler's keyword for this argument.
        self.key = key or re.sub(r"\W+", "_", name).strip("_").lower()

    @property
    def shown(self) -> str:
        return f"[<{self.label}>]" if self.optional else f"<{self.label}>"

    @property
    def label(self) -> str:
        """The argument's name in the current language."""
        return _(self.name)

    def take(self, tokens: list[str], i: int) -> tuple[Any, int]:
        return self.convert(tokens[i]), i + 1

    def convert(self, token: str) -> Any:
        return token


class Word(Arg):
    pass


class Slug(Arg):
    """A cohort name: case-insensitive slug."""

    def convert(self, token: str) -> str:
        slug = token.lower()
        if not SLUG_RE.match(slug):
            raise ArgError(
                _(
                    "'{token}' is not a valid cohort name: "
                    "use letters, digits, - and _ (up to 63 characters)",
                    token=brief(token),
                )
            )
        return slug


class Title(Arg):
    @property
    def shown(self) -> str:
        return f'"<{self.label}>"'

    def convert(self, token: str) -> str:
        if not token.strip():
            raise ArgError(_("the {name} is empty", name=self.label))
        return token.strip()


class Number(Arg):
    def __init__(self, name: str, *, low: int = 0, high: int = 10**9, optional: bool = False) -> None:
        super().__init__(name, optional=optional)
        self.low, self.high = low, high

    def convert(self, token: str) -> int:
        try:
            value = int(token)
        except ValueError:
            raise ArgError(
                _("'{token}' is not a whole number ({name})", token=brief(token), name=self.label)
            ) from None
        if not self.low <= value <= self.high:
            raise ArgError(
                _(
                    "{name} must be between {low} and {high}, not {value}",
                    name=self.label,
                    low=self.low,
                    high=self.high,
                    value=value,
                )
            )
        return value


class DateArg(Arg):
    def __init__(self, name: str = "YYYY-MM-DD", *, optional: bool = False, key: str = "date") -> None:
        super().__init__(name, optional=optional, key=key)

    def convert(self, token: str) -> date:
        try:
            return date.fromisoformat(token)
        except ValueError:
            raise ArgError(
                _("'{token}' is not a date: use YYYY-MM-DD, e.g. 2026-03-09", token=brief(token))
            ) from None


class DateTimeArg(Arg):
    """A local date and time, written as two tokens `YYYY-MM-DD HH:MM` (or one with a T)."""

    def __init__(self, name: str = "YYYY-MM-DD HH:MM", *, key: str = "starts") -> None:
        super().__init__(name, key=key)

    @property
    def shown(self) -> str:
        return "<YYYY-MM-DD HH:MM>"

    def take(self, tokens: list[str], i: int) -> tuple[Any, int]:
        first = tokens[i]
        if "T" in first:
            return self._parse(first.replace("T", " ")), i + 1
        if i + 1 >= len(tokens):
            raise ArgError(
                _(
                    "'{token}' needs a time too: use YYYY-MM-DD HH:MM, e.g. 2026-03-09 09:30",
                    token=brief(first),
                )
            )
        return self._parse(f"{first} {tokens[i + 1]}"), i + 2

    @staticmethod
    def _parse(text: str) -> datetime:
        try:
            return datetime.strptime(text, "%Y-%m-%d %H:%M")
        except ValueError:
            raise ArgError(
                _(
                    "'{token}' is not a date and time: use YYYY-MM-DD HH:MM, e.g. 2026-03-09 09:30",
                    token=brief(text),
                )
            ) from None


class DurationArg(Arg):
    def __init__(self, name: str = "duration like 90m", *, key: str = "duration") -> None:
        super().__init__(name, key=key)

    def convert(self, token: str) -> timedelta:
        match = DURATION_RE.match(token.lower())
        if not match or not any(match.groups()):
            raise ArgError(
                _("'{token}' is not a duration: write it like 90m, 2h or 1h30m", token=brief(token))
            )
        hours, minutes = (int(g) if g else 0 for g in match.groups())
        total = timedelta(hours=hours, minutes=minutes)
        if not timedelta(minutes=1) <= total <= timedelta(hours=24):
            raise ArgError(
                _("'{token}' is out of range: a duration is between 1m and 24h", token=brief(token))
            )
        return total


class ZoneArg(Arg):
    def convert(self, token: str) -> str:
        try:
            ZoneInfo(token)
        except (ZoneInfoNotFoundError, ValueError):
            near = difflib.get_close_matches(token, sorted(available_timezones()), n=1)
            hint = " " + _("Did you mean {near}?", near=near[0]) if near else ""
            raise ArgError(
                _("'{token}' is not a known time zone (IANA names like Europe/Paris).", token=brief(token))
                + hint
            ) from None
        return token


class Choice(Arg):
    def __init__(self, name: str, options: tuple[str, ...], *, optional: bool = False) -> None:
        super().__init__(name, optional=optional)
        self.options = options

    @property
    def shown(self) -> str:
        text = "|".join(self.options)
        return f"[{text}]" if self.optional else text

    def convert(self, token: str) -> str:
        low = token.lower()
        if low in self.options:
            return low
        near = difflib.get_close_matches(low, self.options, n=1)
        hint = " " + _("Did you mean {near}?", near=near[0]) if near else ""
        raise ArgError(
            _("'{token}' is not one of {options}.", token=brief(token), options=", ".join(self.options))
            + hint
        )


class Literal(Arg):
    """A fixed word in the grammar, like `due` in `module <cohort> "<title>" due <date>`."""

    def __init__(self, word: str) -> None:
        super().__init__(word)

    @property
    def shown(self) -> str:
        return self.name

    def convert(self, token: str) -> str:
        if token.lower() != self.name:
            raise ArgError(
                _("expected the word '{word}' here, not '{token}'", word=self.name, token=brief(token))
            )
        return token


class Many(Arg):
    """One or more of the remaining positional tokens (people, options...)."""

    def __init__(self, name: str, *, minimum: int = 1) -> None:
        super().__init__(name, optional=minimum == 0)
        self.minimum = minimum

    @property
    def shown(self) -> str:
        return f"<{self.label}...>" if self.minimum else f"[<{self.label}...>]"

    def take(self, tokens: list[str], i: int) -> tuple[Any, int]:
        return list(tokens[i:]), len(tokens)


class Rest(Arg):
    """All remaining tokens as one text (free comments, reasons)."""

    @property
    def shown(self) -> str:
        return f"[<{self.label}>]" if self.optional else f"<{self.label}>"

    def take(self, tokens: list[str], i: int) -> tuple[Any, int]:
        return " ".join(tokens[i:]), len(tokens)


Handler = Callable[..., Awaitable[Any]]


@dataclass
class Verb:
    """One verb of the grammar: its arguments, `key=value` options, help, and handler."""

    name: str
    args: tuple[Arg, ...]
    summary: str
    handler: Handler | None = None
    options: dict[str, Arg] = field(default_factory=dict)
    example: str = ""
    staff_only: bool = False  # shown in help under "for trainers and admins"
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # language -> other names
    for_managers: bool = False  # shown in help to managers (and staff), not to learners

    def name_in(self, lang: str) -> str:
        """What a reader of `lang` types: their first alias, else the English name."""
        return next(iter(self.aliases.get(lang, ())), self.name)

    @property
    def usage(self) -> str:
        parts = [self.name_in(i18n.current()), *(a.shown for a in self.args)]
        parts += [f"[{k}=<{v.label}>]" for k, v in self.options.items()]
        return " ".join(parts)


@dataclass(frozen=True)
class Parsed:
    verb: Verb
    values: dict[str, Any]


@dataclass(frozen=True)
class ParseError:
    reason: str
    usage: str | None = None
    suggestion: str | None = None  # the nearest valid form of what was typed
    example: str | None = None

    def render(self) -> str:
        lines = [self.reason]
        if self.suggestion:
            lines.append(_("Did you mean: `{suggestion}`", suggestion=self.suggestion))
        if self.usage:
            lines.append(_("Usage: `{usage}`", usage=self.usage))
        if self.example:
            lines.append(_("Example: `{example}`", example=self.example))
        return "\n".join(lines)


def tokenize(text: str) -> list[str]:
    """Split like a shell, accepting the smart quotes chat clients like to insert.

    An apostrophe inside a word (can't, doctor's, l'équipe) is a letter, not a quote.
    """
    guarded = INNER_APOSTROPHE_RE.sub(APOSTROPHE_STANDIN, text.translate(SMART_QUOTES))
    return [token.replace(APOSTROPHE_STANDIN, "'") for token in shlex.split(guarded)]


def by_name(verbs: dict[str, Verb]) -> dict[str, Verb]:
    """Every name a verb answers to, in any language."""
    names = dict(verbs)
    for verb in verbs.values():
        for aliases in verb.aliases.values():
            names.update({alias: verb for alias in aliases if alias not in verbs})
    return names


ECHOED = 40  # characters of a typed word said back: a pasted token or essay is not echoed in full


def brief(text: str, limit: int = ECHOED) -> str:
    """What we say back of something typed: at most a short prefix."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def typos(a: str, b: str) -> int:
    """Edits between two words (insert, delete, replace, swap two neighbours)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]


def close_enough(word: str, name: str) -> bool:
    """A typo of `name`: one slip in a short word, two in a long one. `hello` is not `help`, `as`
    is not `teams`: a far-fetched suggestion is worse than the list of commands."""
    allowed = 1 if len(name) < 8 else 2
    return abs(len(word) - len(name)) <= allowed and typos(word, name) <= allowed


def nearest_verb(word: str, verbs: dict[str, Verb], lang: str) -> str | None:
    """The name closest to `word`: in the reader's language first, then English, then any."""
    if len(word) < 3:
        return None
    own = [alias for v in verbs.values() for alias in v.aliases.get(lang, ())]
    every = [alias for v in verbs.values() for names in v.aliases.values() for alias in names]
    for candidates in (own, list(verbs), every):
        near = [
            c for c in difflib.get_close_matches(word, candidates, n=3, cutoff=0.5) if close_enough(word, c)
        ]
        if near:
            return near[0]
    return None


def parse(text: str, verbs: dict[str, Verb], lang: str | None = None) -> Parsed | ParseError:
    lang = lang or i18n.current()
    try:
        tokens = tokenize(text)
    except ValueError:
        return ParseError(_('Unbalanced quotes: close every " you open.'), usage=None)
    if tokens and tokens[0].lower() in ("/cohort", "cohort", "@cohortbot"):
        tokens = tokens[1:]
    help_usage = f"{_help_name(verbs, lang)} [<{_('verb')}>]"
    if not tokens:
        return ParseError(_("Say what you want to do, e.g. `help`."), usage=help_usage)
    name = unicodedata.normalize("NFC", tokens[0]).lower()
    verb = by_name(verbs).get(name)
    if verb is None:
        near = nearest_verb(name, verbs, lang)
        if near:
            suggestion = " ".join([near, *(_quote(brief(t)) for t in tokens[1:])])
            return ParseError(
                _("Unknown command '{word}'.", word=brief(tokens[0])),
                usage=by_name(verbs)[near].usage,
                suggestion=suggestion,
            )
        known = ", ".join(sorted(v.name_in(lang) for v in verbs.values()))
        return ParseError(
            _("Unknown command '{word}'. Commands: {commands}.", word=brief(tokens[0]), commands=known),
            usage=help_usage,
        )
    return parse_args(verb, tokens[1:])


def _help_name(verbs: dict[str, Verb], lang: str) -> str:
    return verbs["help"].name_in(lang) if "help" in verbs else "help"


def _quote(token: str) -> str:
    return f'"{token}"' if (" " in token or not token) else token


def parse_args(verb: Verb, tokens: list[str]) -> Parsed | ParseError:
    values: dict[str, Any] = {}
    positional: list[str] = []
    for token in tokens:
        key, sep, raw = token.partition("=")
        if sep and key.lower() in verb.options:
            option = verb.options[key.lower()]
            try:
                values[key.lower()] = option.convert(raw)
            except ArgError as e:
                return _error(verb, str(e))
        elif sep and key.isidentifier() and key.lower() not in verb.options and not token.startswith("<"):
            known = ", ".join(f"{k}=" for k in verb.options) or _("none")
            return _error(
                verb,
                _(
                    "Unknown option '{key}='. Options for {verb}: {known}.",
                    key=key,
                    verb=verb.name_in(i18n.current()),
                    known=known,
                ),
            )
        else:
            positional.append(token)
    i = 0
    for arg in verb.args:
        key = arg.key
        if i >= len(positional):
            if arg.optional:
                values[key] = [] if isinstance(arg, Many) else None
                continue
            return _error(
                verb, _("Missing {arg} for `{verb}`.", arg=arg.shown, verb=verb.name_in(i18n.current()))
            )
        try:
            values[key], i = arg.take(positional, i)
        except ArgError as e:
            return _error(verb, str(e))
        if isinstance(arg, Many) and len(values[key]) < arg.minimum:
            return _error(
                verb, _("Missing {arg} for `{verb}`.", arg=arg.shown, verb=verb.name_in(i18n.current()))
            )
    if i < len(positional):
        extra = " ".join(positional[i:])
        return _error(
            verb,
            _("Unexpected '{extra}' at the end of `{verb}`.", extra=extra, verb=verb.name_in(i18n.current())),
        )
    for key in verb.options:
        values.setdefault(key, None)
    return Parsed(verb, values)


def _error(verb: Verb, reason: str) -> ParseError:
    return ParseError(reason, usage=verb.usage, example=verb.example or None)
