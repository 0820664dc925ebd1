"""The engine remembers who is behind a platform account between clicks: a merge, another
process's write and an undone change must each be seen by the very next click."""

from __future__ import annotations

import sqlite3

from sqlmodel import select

from bot.app.bootstrap import App
from bot.core.context import Ctx
from bot.core.errors import UserError
from bot.core.inbound import Action, Inbound, Profile
from bot.core.merging import merge_people
from bot.core.messages import Reply, say
from bot.core.models import Identity, Person
from bot.core.registry import action


@action("test.identity_cache.whoami")
async def whoami(ctx: Ctx, value: str, inputs: dict[str, str]) -> Reply:
    if value == "rename-then-refuse":
        ctx.actor.display_name = "Renamed"
        ctx.session.add(ctx.actor)
        await ctx.session.flush()
        raise UserError("refused")
    return say(f"{ctx.actor.id}:{ctx.actor.display_name}")


async def whoami_of(app: App, user: str, value: str = "") -> str:
    reply = await app.engine.handle(
        Inbound(
            sender=Profile("slack", "T1", user, name=user), action=Action("test.identity_cache.whoami", value)
        )
    )
    assert reply is not None
    return reply.message.summary


async def seen_twice(app: App, user: str) -> str:
    """Click twice: the first click creates the account, the second one loads it (remembered)."""
    await whoami_of(app, user)
    return await whoami_of(app, user)


async def test_a_merge_is_seen_by_the_next_click(app: App) -> None:
    first = await seen_twice(app, "U1")
    async with app.store.transaction() as session:
        enrolled = Person(display_name="Ada (imported)", email="ada@corp.example", created_at=app.clock.now())
        session.add(enrolled)
        await session.flush()
        assert enrolled.id is not None
        await merge_people(
            session, keep=enrolled.id, merge=int(first.split(":")[0]), now=app.clock.now(), reason="test"
        )
    assert await whoami_of(app, "U1") == f"{enrolled.id}:Ada (imported)"


async def test_another_process_writing_is_seen_by_the_next_click(app: App) -> None:
    person_id = (await seen_twice(app, "U2")).split(":")[0]
    path = app.store.engine.url.database
    assert path is not None
    with sqlite3.connect(path) as other:  # a CLI command, say
        other.execute("UPDATE person SET display_name = 'Grace' WHERE id = ?", (person_id,))
    assert await whoami_of(app, "U2") == f"{person_id}:Grace"


async def test_an_undone_change_is_not_remembered(app: App) -> None:
    person_id = (await seen_twice(app, "U3")).split(":")[0]
    assert await whoami_of(app, "U3", "rename-then-refuse") == "refused"
    assert await whoami_of(app, "U3") == f"{person_id}:U3"
    async with app.store.transaction() as session:
        identity = (await session.exec(select(Identity).where(Identity.user_id == "U3"))).one()
        assert str(identity.person_id) == person_id
