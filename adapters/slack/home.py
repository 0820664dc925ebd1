"""The App Home tab: the engine's overview of a person's cohorts, for `views.publish`."""

from __future__ import annotations

from bot.bootstrap import App
from bot.cohorts import overview
from bot.context import Ctx
from bot.inbound import Inbound, Profile
from bot.messages import Message
from bot.people import upsert_profile


async def home_message(app: App, profile: Profile, auth: str) -> Message:
    """What `status` would show this person for each of their cohorts (read in one transaction)."""
    now = app.clock.now()
    async with app.store.transaction() as session:
        person, identity = await upsert_profile(session, profile, now)
        ctx = Ctx(
            session=session,
            now=now,
            settings=app.settings,
            inbound=Inbound(sender=profile, auth=auth),
            actor=person,
            identity=identity,
        )
        return await overview(ctx)
