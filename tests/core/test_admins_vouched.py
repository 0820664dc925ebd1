"""Configured admins (ADMINS) are matched only on what a platform vouches for: the platform user id,
the email its profile API returned, or a console name in the console. Never a display name."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app.bootstrap import App, build
from bot.core.clock import SimulatedClock
from bot.core.inbound import Inbound, Profile
from bot.core.render_text import render_text
from bot.core.settings import Settings
from tests.conftest import RecordingSender
from tests.dbsnapshot import snapshot

ADMINS = "boss@corp.example,U0ROOT,root"
REFUSED = "Only the configured cohortbot admins"


@pytest.fixture
async def guarded(db_url: str, clock: SimulatedClock, sender: RecordingSender) -> AsyncIterator[App]:
    app = await build(
        Settings(database_url=db_url, admins=ADMINS), {"console": sender}, clock, schema="create"
    )
    yield app
    await app.close()


async def _create(app: App, sender: Profile, slug: str) -> str:
    reply = await app.engine.handle(Inbound(sender=sender, text=f"create {slug}"))
    assert reply is not None
    return render_text(reply.message)


@pytest.mark.parametrize(
    "impostor",
    [
        # Slack: display_name / real_name are the user's to choose.
        Profile("slack", "T1", "U0MAL", name="boss@corp.example"),
        Profile("slack", "T1", "U0MAL", name="root"),
        Profile("slack", "T1", "U0MAL", name="U0ROOT"),
        # Teams: `from.name` likewise.
        Profile("teams", "tenant-1", "29:mallory", name="boss@corp.example"),
        # An email another platform's profile gave does not make a console user an admin.
        Profile("console", "", "mallory", name="boss@corp.example", email="boss@corp.example"),
    ],
)
async def test_a_display_name_never_makes_an_admin(guarded: App, impostor: Profile) -> None:
    assert REFUSED in await _create(guarded, impostor, "stolen")
    assert (await snapshot(guarded))["cohort"] == []


async def test_a_person_renamed_like_an_admin_after_their_first_message_is_still_refused(
    guarded: App,
) -> None:
    first = Profile("slack", "T1", "U0MAL", name="mallory", email="mallory@corp.example")
    assert REFUSED in await _create(guarded, first, "one")
    renamed = Profile("slack", "T1", "U0MAL", name="boss@corp.example", email="mallory@corp.example")
    assert REFUSED in await _create(guarded, renamed, "two")


@pytest.mark.parametrize(
    "admin",
    [
        Profile("slack", "T1", "U0BOSS", name="Boss", email="boss@corp.example"),  # users.info email
        Profile("teams", "tenant-1", "29:boss", name="Boss", email="BOSS@corp.example"),  # member lookup
        Profile("slack", "T1", "U0ROOT", name="whoever"),  # platform user id
        Profile("console", "", "root", name="root"),  # console name, in the console
    ],
)
async def test_what_the_platform_vouches_for_makes_an_admin(guarded: App, admin: Profile) -> None:
    assert "Created cohort" in await _create(guarded, admin, "real")


async def test_an_email_typed_by_a_trainer_does_not_make_an_admin(guarded: App) -> None:
    # root (an admin) creates a cohort and enrols boss@corp.example by email: a stored email, typed.
    assert "Created cohort" in await _create(guarded, Profile("console", "", "root", "root"), "spoc")
    reply = await guarded.engine.handle(
        Inbound(sender=Profile("console", "", "root", "root"), text="enroll spoc boss@corp.example")
    )
    assert reply is not None and "Enrolled 1" in render_text(reply.message)
    # A console user cannot claim that email; only the platform's profile API can.
    assert REFUSED in await _create(guarded, Profile("console", "", "boss@corp.example"), "mine")
