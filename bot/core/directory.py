"""How the core asks a platform who is behind an email, without knowing the platform.

Each chat adapter implements `Directory` (Slack: `users.lookupByEmail` / `users.list`; Teams: team
rosters and 1:1 conversations) and the composition root puts it in `App.directories`. The answer
sorts every email into found (an account the platform vouches for), missing (with a reason a
trainer can act on) or not looked up yet (rate limited, failing: try again later).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.core.inbound import Profile

# Why someone cannot be reached (stored on their lookup row; `reach` explains each one).
NOT_IN_WORKSPACE = "not_in_workspace"  # no account with this email where the app is installed
DEACTIVATED = "deactivated"  # the account exists but is disabled
NOT_INSTALLED = "not_installed"  # Teams: in no team the app is in, and no personal install
LOOKUP_PENDING = "lookup_pending"  # not looked up yet, or the platform asked us to wait
LOOKUP_FAILING = "lookup_failing"  # the platform refuses the lookup (e.g. a missing scope)
APP_BLOCKED = "app_blocked"  # the person blocked the app (the platform refuses our messages)
UNINSTALLED = "uninstalled"  # the person removed the app


@dataclass(frozen=True)
class Found:
    """A platform account that the platform says has `email` (profile data, not a display name)."""

    email: str
    profile: Profile
    # Teams: the 1:1 conversation opened with them, so they get DMs without installing anything.
    conversation_ref: dict[str, Any] | None = None


@dataclass
class Lookup:
    """What one directory said about a batch of emails."""

    found: list[Found] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)  # email -> reason
    pending: list[str] = field(default_factory=list)  # not answered: ask again later
    error: str | None = None  # why some were not answered, for the trainer (e.g. a missing scope)

    def merge(self, other: Lookup) -> None:
        self.found.extend(other.found)
        self.missing.update(other.missing)
        self.pending.extend(other.pending)
        self.error = other.error or self.error


class Directory(Protocol):
    """A platform's people directory, as the identity resolver uses it."""

    platform: str

    async def resolve(self, emails: Sequence[str]) -> Lookup:
        """Find the platform account of each email (lowercased). Paces itself to the platform's
        limits; an email it could not ask about in time goes to `pending`, never to `missing`."""
        ...
