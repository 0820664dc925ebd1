"""A signed slash command naming thousands of people must not turn into thousands of `users.info`
calls: mentions are looked up only after the permission check, at most MAX_MENTIONS per command,
and a failed lookup is not repeated right away."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.clock import SimulatedClock
from bot.core.mentions import MAX_MENTIONS
from tests.conftest import START
from tests.standins.slack_harness import SlackHarness

STAFF = ("UTINA", "UALICE")


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[SlackHarness]:
    harness = await SlackHarness.start(f"sqlite:///{tmp_path / 'slack.db'}", SimulatedClock(START))
    harness.api.add_user("UTINA", "tina", "tina@acme.test")
    harness.api.add_user("UALICE", "alice", "alice@acme.test")
    await harness.command("UTINA", "create spoc", channel="C0SPOC", channel_name="spoc")
    await harness.command("UTINA", "enroll spoc <@UALICE>", channel="C0SPOC")
    yield harness
    await harness.stop()


def _mentions(n: int) -> str:
    return " ".join(f"<@U{i:08d}>" for i in range(n))


def _lookups_of_others(slack: SlackHarness) -> int:
    return sum(1 for c in slack.api.called("users.info") if c.args.get("user") not in STAFF)


async def test_a_learner_naming_people_costs_no_lookup(slack: SlackHarness) -> None:
    refused = await slack.command("UALICE", f"enroll spoc {_mentions(60)}")
    assert "Only admins and trainers of 'spoc'" in refused["text"]
    assert _lookups_of_others(slack) == 0


async def test_too_many_mentions_are_refused_before_any_lookup(slack: SlackHarness) -> None:
    answer = await slack.command("UTINA", f"enroll spoc {_mentions(20_000)}")
    assert f"at most {MAX_MENTIONS} people" in answer["text"]
    assert _lookups_of_others(slack) == 0


async def test_failed_lookups_are_not_repeated_by_a_second_command(slack: SlackHarness) -> None:
    first = await slack.command("UTINA", f"enroll spoc {_mentions(40)}")
    assert "Enrolled 40" in first["text"]
    assert _lookups_of_others(slack) == 40  # unknown users: users.info answers user_not_found
    again = await slack.command("UTINA", f"manager spoc <@UALICE> {_mentions(40)}")
    assert "now manages" in again["text"]
    assert _lookups_of_others(slack) == 40
