"""Clicks that arrive together share one SQLite commit: each still happens once, a refused one
changes nothing of its own yet does not undo the others, and every caller hears back only after
the commit."""

from __future__ import annotations

import asyncio

from sqlalchemy import create_engine, text
from sqlmodel import func, select

from bot.app.bootstrap import App
from bot.core.context import Ctx
from bot.core.errors import UserError
from bot.core.inbound import Action, Inbound, Profile
from bot.core.messages import Reply, say
from bot.core.models import Activity, ProcessedInbound
from bot.core.registry import action


@action("test.group_commit.click")
async def counted_click(ctx: Ctx, value: str, inputs: dict[str, str]) -> Reply:
    await ctx.log("test.group_commit.clicked", person_id=ctx.actor.id, value=value)
    if value == "refuse":
        raise UserError("refused")  # after a write: the write must be undone
    return say(f"counted {value}")


def click(user: str, key: str, value: str = "ok") -> Inbound:
    return Inbound(
        sender=Profile("slack", "T1", user, locale="en-US"),
        action=Action("test.group_commit.click", value),
        dedupe_key=key,
    )


async def count(app: App, model: object, *where: object) -> int:
    async with app.store.transaction() as session:
        return int((await session.exec(select(func.count()).select_from(model).where(*where))).one())  # type: ignore[call-overload]


async def test_concurrent_clicks_share_commits_and_each_counts_once(app: App) -> None:
    # 400 clicks from 40 people, every one delivered twice (Slack retries), a tenth refused.
    inbounds = [click(f"U{i % 40}", f"k{i}", "refuse" if i % 10 == 3 else "ok") for i in range(400)]
    replies = await asyncio.gather(*(app.engine.handle(i) for i in inbounds + inbounds))

    texts = [r.message.blocks[0].text if r else None for r in replies]  # type: ignore[attr-defined]
    first, retried = texts[:400], texts[400:]
    assert first.count("counted ok") == 360 and first.count("refused") == 40
    assert retried == [None] * 400  # each retry recognised, whatever batch it landed in
    assert await count(app, Activity, Activity.kind == "test.group_commit.clicked") == 360
    assert await count(app, ProcessedInbound) == 400  # refused ones remembered too
    group = app.engine.group_commit
    assert group is not None and group.units >= 800 and group.batches < group.units / 4
    assert group.reruns > 0  # the batches with a refusal ran again, unit by unit


async def test_a_caller_hears_back_only_once_its_click_is_committed(app: App) -> None:
    # Another connection than the engine's one: only committed rows are visible to it.
    other = create_engine(app.store.engine.url.set(drivername="sqlite"))
    visible: list[bool] = []

    async def press_and_look(i: int) -> None:
        await app.engine.handle(click(f"U{i}", f"c{i}"))
        with other.connect() as conn:
            query = text("SELECT count(*) FROM processed_inbound WHERE key = :key")
            visible.append(conn.execute(query, {"key": f"c{i}"}).scalar_one() == 1)

    await asyncio.gather(*(press_and_look(i) for i in range(40)))
    other.dispose()
    assert visible == [True] * 40
