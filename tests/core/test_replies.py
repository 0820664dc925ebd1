"""An answer in place is queued with the inbound's own commit, held by this process's delivery
worker; the same answer is never queued twice, and nothing is queued where the platform takes no
answers in place."""

from __future__ import annotations

from sqlmodel import select

from bot.app.bootstrap import App
from bot.core.context import Ctx
from bot.core.inbound import Action, Inbound, Profile
from bot.core.messages import Reply, say
from bot.core.models import OutboxMessage
from bot.core.registry import action

ALICE = Profile("slack", "T1", "UALICE", "alice")


@action("repliestest.click")
async def _click(ctx: Ctx, value: str, inputs: dict[str, str]) -> Reply:
    await ctx.log("repliestest.clicked", person_id=ctx.actor.id)
    return say(f"Clicked {value}", "replace")


def _click_inbound(*, reply_to: str | None = None, dedupe_key: str | None = None) -> Inbound:
    return Inbound(
        sender=ALICE, action=Action("repliestest.click", "s1"), reply_to=reply_to, dedupe_key=dedupe_key
    )


async def _answers(app: App) -> list[OutboxMessage]:
    async with app.store.transaction() as session:
        return list((await session.exec(select(OutboxMessage).where(OutboxMessage.kind == "reply"))).all())


async def test_the_answer_is_queued_with_the_click_and_held_by_this_process(app: App) -> None:
    reply = await app.engine.handle(_click_inbound(reply_to="https://hooks.example/r1", dedupe_key="c1"))
    assert reply is not None and reply.held is not None
    (row,) = await _answers(app)
    assert row.id == reply.held.id
    assert (row.status, row.claimed_by, row.priority, row.address) == (
        "sending",
        app.worker.instance_id,
        0,
        "UALICE",
    )
    assert row.person_id is not None
    assert row.payload["reply_to"] == "https://hooks.example/r1"
    assert row.payload["visibility"] == "replace"
    assert row.payload["summary"] == "Clicked s1"


async def test_the_same_answer_is_queued_once(app: App) -> None:
    first = await app.engine.handle(_click_inbound(reply_to="https://hooks.example/r2"))
    again = await app.engine.handle(_click_inbound(reply_to="https://hooks.example/r2"))
    assert first is not None and first.held is not None
    assert again is None  # queued before: nothing more to send
    assert len(await _answers(app)) == 1


async def test_nothing_is_queued_without_an_answer_address(app: App) -> None:
    reply = await app.engine.handle(_click_inbound(dedupe_key="c3"))
    assert reply is not None and reply.held is None
    assert await _answers(app) == []
