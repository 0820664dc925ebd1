"""Messages written in the reader's language later: `L_("English {x}", x=...)`.

schedules/ cannot reach the bot's catalogue (bot/core/i18n imports schedules, not the reverse), so
what it says to people is a `Later`: a str holding the English text, for whoever reads it as is (a
log, `cohortbot programme validate`, an LMS's HTTP error body), that also keeps its message id and
values, so the bot can write it in a reader's language (`bot.core.i18n.translated`). `L_` marks the
message for extraction as `_` does. Anything built from a `Later` (a join, an f-string) is plain
English: translate first, then compose.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Later(str):
    """English text that knows its message id (`template`) and the `values` that fill it."""

    template: str
    values: Mapping[str, Any]

    def __new__(cls, template: str, values: Mapping[str, Any]) -> Later:
        # As `bot.core.i18n._` does: a message without values is not formatted ({braces} stay).
        text = super().__new__(cls, template.format(**values) if values else template)
        text.template = template
        text.values = dict(values)
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        return (Later, (self.template, self.values))


def L_(template: str, /, **values: Any) -> Later:
    """`template` (English, a catalogue message id) with its `{placeholders}` filled from `values`,
    in English until the bot writes it for a reader. A value may itself be a `Later`."""
    return Later(template, values)
