"""Errors a user can cause: values carrying a message for them, never a stack trace."""

from __future__ import annotations

from bot.core.i18n import _


class UserError(Exception):
    """Something the caller asked that cannot be done; `message` is shown to them as is.

    Raising it inside a command rolls the command's changes back.
    """

    def __init__(self, message: str, *, usage: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage
        self.hint = hint

    def render(self) -> str:
        lines = [self.message]
        if self.usage:
            lines.append(_("Usage: `{usage}`", usage=self.usage))
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)


class PermissionDenied(UserError):
    """The caller's role does not allow this."""


class ConfigurationError(RuntimeError):
    """The settings cannot work (e.g. half a set of credentials): `cohortbot run` says why and stops."""


# What reading a platform payload of an unexpected shape raises (`body["team"]["id"]` on
# `team: null`, a list where a dict was expected): the sender's mistake, answered with a 400.
PAYLOAD_SHAPE_ERRORS: tuple[type[Exception], ...] = (
    KeyError,
    TypeError,
    AttributeError,
    IndexError,
    ValueError,
)
