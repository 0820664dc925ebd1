"""users.info is cached per user (with a TTL, shared by concurrent lookups, failures not cached),
and a click whose work outlasts the ack budget is acked in time and answered when done."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import select

from adapters.slack.profiles import ProfileCache
from bot.core.context import Ctx
from bot.core.messages import Reply, say
from bot.core.models import Activity
from bot.core.registry import action
from tests.standins.slack_api import SlackApiStandIn
from tests.standins.slack_harness import SlackHarness


@action("slacktest.slow")
async def _slow(ctx: Ctx, value: str, inputs: dict[str, str]) -> Reply:
    await asyncio.sleep(1.0)
    await ctx.log("slacktest.slow_done", person_id=ctx.actor.id)
    return say("✓ Done after a while", "replace")


async def test_users_info_is_cached_with_a_ttl_and_failures_are_retried() -> None:
    api = await SlackApiStandIn().start()
    api.add_user("UALICE", "alice", "alice@acme.test", "Asia/Tokyo")
    now = [0.0]
    async with aiohttp.ClientSession() as session:
        cache = ProfileCache(
            AsyncWebClient(token="x", base_url=api.api_url, session=session), 60, lambda: now[0]
        )
        first, second = await asyncio.gather(cache.get("T1", "UALICE"), cache.get("T1", "UALICE"))
        assert first == second and (first.name, first.email, first.tz) == (
            "alice",
            "alice@acme.test",
            "Asia/Tokyo",
        )
        assert len(api.called("users.info")) == 1  # concurrent lookups share one call
        now[0] = 61
        await cache.get("T1", "UALICE")
        assert len(api.called("users.info")) == 2  # expired: asked again

        api.fail("users.info", status=500)
        bare = await cache.get("T1", "UNEW")
        assert (bare.user_id, bare.name) == ("UNEW", None)  # the command still goes on
        api.add_user("UNEW", "newbie")
        assert (await cache.get("T1", "UNEW")).name == "newbie"  # the failure was not cached

        tokens = cache.mention_tokens("enroll spoc <@UALICE|alice> <@UNEW> bob@acme.test")
        mentions = await cache.mentions("T1", tokens)
        assert {k: v.name for k, v in mentions.items()} == {"<@UALICE|alice>": "alice", "<@UNEW>": "newbie"}
    await api.stop()


async def test_slow_work_is_acked_within_the_budget_and_answered_later(tmp_path: Path) -> None:
    slack = await SlackHarness.start(f"sqlite:///{tmp_path / 'slow.db'}")
    try:
        slack.api.add_user("UALICE", "alice")
        slack.bot.ack_budget = 0.05
        button = {"type": "button", "action_id": "b1:slacktest.slow", "value": ""}
        started = time.perf_counter()
        status, _ = await slack.http.send(
            slack.http.interaction(slack.http.block_actions_payload("UALICE", button))
        )
        acked_after = time.perf_counter() - started
        assert status == 200 and acked_after < 0.8
        await slack.bot.settle()
        async with slack.app.store.transaction() as session:
            assert (
                len(
                    (await session.exec(select(Activity).where(Activity.kind == "slacktest.slow_done"))).all()
                )
                == 1
            )
        assert [r["text"] for r in slack.api.responses] == ["✓ Done after a while"]
    finally:
        await slack.stop()
