"""The command grammar shared by every platform: tokenising, typed arguments, usage and suggestions.

Parsing is pure (no database): `parse(text)` returns a `Parsed` command or a `ParseError`, never raises.
"""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


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
        return f"[<{self.name}>]" if self.optional else f"<{self.name}>"

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
                f"'{token}' is not a valid cohort name: use letters, digits, - and _ (up to 63 characters)"
            )
        return slug


class Title(Arg):
    @property
    def shown(self) -> str:
        return f'"<{self.name}>"'

    def convert(self, token: str) -> str:
        if not token.strip():
            raise ArgError(f"the {self.name} is empty")
        return token.strip()


class Number(Arg):
    def __init__(self, name: str, *, low: int = 0, high: int = 10**9, optional: bool = False) -> None:
        super().__init__(name, optional=optional)
        self.low, self.high = low, high

    def convert(self, token: str) -> int:
        try:
            value = int(token)
        except ValueError:
            raise ArgError(f"'{token}' is not a whole number ({self.name})") from None
        if not self.low <= value <= self.high:
            raise ArgError(f"{self.name} must be between {self.low} and {self.high}, not {value}")
        return value


class DateArg(Arg):
    def __init__(self, name: str = "YYYY-MM-DD", *, optional: bool = False, key: str = "date") -> None:
        super().__init__(name, optional=optional, key=key)

    def convert(self, token: str) -> date:
        try:
            return date.fromisoformat(token)
        except ValueError:
            raise ArgError(f"'{token}' is not a date: use YYYY-MM-DD, e.g. 2026-03-09") from None


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
            raise ArgError(f"'{first}' needs a time too: use YYYY-MM-DD HH:MM, e.g. 2026-03-09 09:30")
        return self._parse(f"{first} {tokens[i + 1]}"), i + 2

    @staticmethod
    def _parse(text: str) -> datetime:
        try:
            return datetime.strptime(text, "%Y-%m-%d %H:%M")
        except ValueError:
            raise ArgError(
                f"'{text}' is not a date and time: use YYYY-MM-DD HH:MM, e.g. 2026-03-09 09:30"
            ) from None


class DurationArg(Arg):
    def __init__(self, name: str = "duration like 90m", *, key: str = "duration") -> None:
        super().__init__(name, key=key)

    def convert(self, token: str) -> timedelta:
        match = DURATION_RE.match(token.lower())
        if not match or not any(match.groups()):
            raise ArgError(f"'{token}' is not a duration: write it like 90m, 2h or 1h30m")
        hours, minutes = (int(g) if g else 0 for g in match.groups())
        total = timedelta(hours=hours, minutes=minutes)
        if not timedelta(minutes=1) <= total <= timedelta(hours=24):
            raise ArgError(f"'{token}' is out of range: a duration is between 1m and 24h")
        return total


class ZoneArg(Arg):
    def convert(self, token: str) -> str:
        try:
            ZoneInfo(token)
        except (ZoneInfoNotFoundError, ValueError):
            near = difflib.get_close_matches(token, sorted(available_timezones()), n=1)
            hint = f" Did you mean {near[0]}?" if near else ""
            raise ArgError(
                f"'{token}' is not a known time zone (IANA names like Europe/Paris).{hint}"
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
        hint = f" Did you mean {near[0]}?" if near else ""
        raise ArgError(f"'{token}' is not one of {', '.join(self.options)}.{hint}")


class Literal(Arg):
    """A fixed word in the grammar, like `due` in `module <cohort> "<title>" due <date>`."""

    def __init__(self, word: str) -> None:
        super().__init__(word)

    @property
    def shown(self) -> str:
        return self.name

    def convert(self, token: str) -> str:
        if token.lower() != self.name:
            raise ArgError(f"expected the word '{self.name}' here, not '{token}'")
        return token


class Many(Arg):
    """One or more of the remaining positional tokens (people, options...)."""

    def __init__(self, name: str, *, minimum: int = 1) -> None:
        super().__init__(name, optional=minimum == 0)
        self.minimum = minimum

    @property
    def shown(self) -> str:
        return f"<{self.name}...>" if self.minimum else f"[<{self.name}...>]"

    def take(self, tokens: list[str], i: int) -> tuple[Any, int]:
        return list(tokens[i:]), len(tokens)


class Rest(Arg):
    """All remaining tokens as one text (free comments, reasons)."""

    @property
    def shown(self) -> str:
        return f"[<{self.name}>]" if self.optional else f"<{self.name}>"

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

    @property
    def usage(self) -> str:
        parts = [self.name, *(a.shown for a in self.args)]
        parts += [f"[{k}=<{v.name}>]" for k, v in self.options.items()]
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
            lines.append(f"Did you mean: `{self.suggestion}`")
        if self.usage:
            lines.append(f"Usage: `{self.usage}`")
        if self.example:
            lines.append(f"Example: `{self.example}`")
        return "\n".join(lines)


def tokenize(text: str) -> list[str]:
    """Split like a shell, accepting the smart quotes chat clients like to insert.

    An apostrophe inside a word (can't, doctor's, l'équipe) is a letter, not a quote.
    """
    guarded = INNER_APOSTROPHE_RE.sub(APOSTROPHE_STANDIN, text.translate(SMART_QUOTES))
    return [token.replace(APOSTROPHE_STANDIN, "'") for token in shlex.split(guarded)]


def parse(text: str, verbs: dict[str, Verb]) -> Parsed | ParseError:
    try:
        tokens = tokenize(text)
    except ValueError:
        return ParseError('Unbalanced quotes: close every " you open.', usage=None)
    if tokens and tokens[0].lower() in ("/cohort", "cohort", "@cohortbot"):
        tokens = tokens[1:]
    if not tokens:
        return ParseError("Say what you want to do, e.g. `help`.", usage="help [<verb>]")
    name = tokens[0].lower()
    verb = verbs.get(name)
    if verb is None:
        near = difflib.get_close_matches(name, list(verbs), n=1, cutoff=0.5)
        if near:
            suggestion = " ".join([near[0], *(_quote(t) for t in tokens[1:])])
            return ParseError(
                f"Unknown command '{tokens[0]}'.", usage=verbs[near[0]].usage, suggestion=suggestion
            )
        return ParseError(
            f"Unknown command '{tokens[0]}'. Commands: {', '.join(sorted(verbs))}.", usage="help [<verb>]"
        )
    return parse_args(verb, tokens[1:])


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
            known = ", ".join(f"{k}=" for k in verb.options) or "none"
            return _error(verb, f"Unknown option '{key}='. Options for {verb.name}: {known}.")
        else:
            positional.append(token)
    i = 0
    for arg in verb.args:
        key = arg.key
        if i >= len(positional):
            if arg.optional:
                values[key] = [] if isinstance(arg, Many) else None
                continue
            return _error(verb, f"Missing {arg.shown} for `{verb.name}`.")
        try:
            values[key], i = arg.take(positional, i)
        except ArgError as e:
            return _error(verb, str(e))
        if isinstance(arg, Many) and len(values[key]) < arg.minimum:
            return _error(verb, f"Missing {arg.shown} for `{verb.name}`.")
    if i < len(positional):
        extra = " ".join(positional[i:])
        return _error(verb, f"Unexpected '{extra}' at the end of `{verb.name}`.")
    for key in verb.options:
        values.setdefault(key, None)
    return Parsed(verb, values)


def _error(verb: Verb, reason: str) -> ParseError:
    return ParseError(reason, usage=verb.usage, example=verb.example or None)
