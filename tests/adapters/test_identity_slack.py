"""Learners known only by email reach Slack: imported from a CSV with the real CLI (never having
written to the bot), resolved through `users.list` / `users.lookupByEmail` on the Web API
stand-in with Slack's tier limits, then welcomed and sent their check-in card; `reach` names the
ones who cannot be reached and why. And a person split by a failed profile lookup is merged."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from adapters.slack.directory import SlackDirectory
from bot.capabilities.reach.models import IdentityLookup
from bot.capabilities.reach.resolver import IdentityResolver
from bot.core.clock import SimulatedClock
from bot.core.models import Activity, Enrolment, Identity, Person
from tests.capabilities.attendance_helpers import run_until
from tests.conftest import START
from tests.standins.slack_harness import SlackHarness

ROOT = Path(__file__).resolve().parents[2]
LEARNERS = 40
WORKSPACE = 250  # more people than learners: the roster takes two pages of 200


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[SlackHarness]:
    harness = await SlackHarness.start(
        f"sqlite:///{tmp_path / 'slack.db'}", SimulatedClock(START), schema="migrate"
    )
    harness.api.add_user("UTINA", "tina", "tina@acme.test", "Europe/Paris")
    for n in range(WORKSPACE):
        harness.api.add_user(f"U{n:05d}", f"learner{n}", f"Learner{n}@Acme.test")
    harness.api.add_user("UGONE", "gone", "gone@acme.test")
    harness.api.deactivated.add("UGONE")
    harness.api.limit_tiers()  # Tier 3 lookups 50/min, Tier 2 users.list 20/min, answered 429 beyond
    yield harness
    await harness.stop()


async def import_learners(db: str, csv: Path, cohort: str) -> str:
    """`cohortbot import learners FILE --cohort NAME`, as an operator runs it (its own process)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.app.cli",
        "import",
        "learners",
        str(csv),
        "--cohort",
        cohort,
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": db},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    assert process.returncode == 0, out.decode()
    return out.decode()


def resolver(slack: SlackHarness) -> IdentityResolver:
    app = slack.app
    return IdentityResolver(app.store, app.clock, app.settings, app.directories)


async def rows(slack: SlackHarness, query: Any) -> list[Any]:
    async with slack.app.store.transaction() as session:
        return list((await session.exec(query)).all())


def shown(answer: dict[str, Any]) -> str:
    """Every text of a Block Kit answer."""
    return json.dumps(answer["blocks"], ensure_ascii=False)


def posts_to(slack: SlackHarness, user: str) -> list[dict[str, Any]]:
    return [c.args for c in slack.api.called("chat.postMessage") if c.args["channel"] == user]


async def test_learners_imported_by_email_are_found_welcomed_and_get_their_check_in_card(
    slack: SlackHarness, tmp_path: Path
) -> None:
    await slack.command("UTINA", "create spoc", channel="C0SPOC", channel_name="spoc")
    csv = tmp_path / "learners.csv"
    emails = [f"learner{n}@acme.test" for n in range(LEARNERS)]
    csv.write_text("email\n" + "\n".join([*emails, "nobody@acme.test", "gone@acme.test"]) + "\n")
    report = await import_learners(str(slack.app.settings.database_url), csv, "spoc")
    assert "42" in report

    await slack.app.worker.drain()
    assert slack.api.called("chat.postMessage") == []  # nobody has a Slack id yet

    outcome = await resolver(slack).run_once()
    assert (outcome.asked, outcome.found, outcome.missing, outcome.pending) == ({"slack": 42}, 40, 2, 0)
    pages = slack.api.called("users.list")
    assert len(pages) == 2  # 251 members, 200 a page
    assert pages[0].args["limit"] == "200" and pages[1].args["cursor"]
    assert slack.api.called("users.lookupByEmail") == []  # a roster sync beats 42 Tier-3 lookups

    await slack.app.worker.drain()
    for n in range(LEARNERS):
        (welcome,) = posts_to(slack, f"U{n:05d}")
        assert "Welcome to *spoc*" in welcome["text"]

    await slack.command("UTINA", 'session spoc "Kick-off" 2027-03-01 09:00 90m')
    await run_until(slack.app, slack.app.clock, datetime(2027, 3, 1, 7, 55, tzinfo=UTC))  # type: ignore[arg-type]
    for n in range(LEARNERS):
        posts = posts_to(slack, f"U{n:05d}")
        cards = [p for p in posts if "attendance.checkin" in json.dumps(p["blocks"])]
        assert len(cards) == 1, posts  # the check-in card, once
        assert len({json.dumps(p["blocks"]) for p in posts}) == len(posts)  # nothing twice

    reach = shown(await slack.command("UTINA", "reach spoc"))
    assert "40 of 42 learners" in reach
    assert "nobody (nobody@acme.test): no Slack account has this email" in reach
    assert "gone (gone@acme.test): their Slack account is deactivated" in reach
    status = shown(await slack.command("UTINA", "status spoc"))
    assert "Reach: 40 of 42 learners (Slack 40). 2 cannot be reached: see `reach spoc`." in status

    again = await resolver(slack).run_once()
    assert again.asked == {}  # the missing are looked up again hours later, not every minute


async def test_a_few_emails_use_lookup_by_email_and_wait_out_a_429(slack: SlackHarness) -> None:
    await slack.command("UTINA", "create spoc")
    await slack.command("UTINA", "enroll spoc learner1@acme.test learner2@acme.test stranger@acme.test")
    slack.api.fail("users.lookupByEmail", status=429, retry_after=1)
    started = time.monotonic()
    outcome = await resolver(slack).run_once()
    assert time.monotonic() - started >= 1.0  # Retry-After was honoured
    assert (outcome.found, outcome.missing, outcome.pending) == (2, 1, 0)
    assert len(slack.api.called("users.lookupByEmail")) == 4  # three emails, one asked twice
    assert slack.api.called("users.list") == []
    await slack.app.worker.drain()
    assert len(posts_to(slack, "U00001")) == 1 and len(posts_to(slack, "U00002")) == 1


async def test_a_missing_scope_is_explained_and_retried_later(slack: SlackHarness) -> None:
    slack.api.scopes = [s for s in slack.api.granted_scopes() if s != "users:read.email"]
    await slack.command("UTINA", "create spoc")
    await slack.command("UTINA", "enroll spoc learner1@acme.test")
    outcome = await resolver(slack).run_once()
    assert (outcome.found, outcome.pending) == (0, 1)
    (lookup,) = await rows(slack, select(IdentityLookup))
    assert lookup.detail == "missing_scope: users:read.email"
    reach = shown(await slack.command("UTINA", "reach spoc"))
    assert "Slack refuses the lookup (missing_scope: users:read.email)" in reach
    assert "`users:read.email`" in reach


async def test_a_learner_split_by_a_rate_limited_profile_lookup_is_merged_into_their_enrolment(
    slack: SlackHarness,
) -> None:
    """Issue 13, point 7: their first message came while users.info answered 429 (and the Retry-After
    was too long to wait for), so their Slack id got a new, empty person. It must not stay so."""
    await slack.command("UTINA", "create spoc")
    await slack.command("UTINA", "enroll spoc learner7@acme.test")
    slack.api.fail("users.info", status=429, retry_after=30)
    event = {"type": "message", "channel_type": "im", "user": "U00007", "text": "list", "channel": "D00007"}
    status, _ = await slack.http.send(slack.http.event({**event, "ts": "1700000000.1"}, event_id="EvSplit"))
    assert status == 200
    await slack.bot.settle()
    split = await rows(slack, select(Identity).where(Identity.user_id == "U00007"))
    (empty,) = await rows(slack, select(Person).where(Person.id == split[0].person_id))
    assert empty.email is None  # bound to a new person: the lookup failed

    outcome = await resolver(slack).run_once()  # the enrolled email is found: it is that same account
    assert outcome.found == 1
    (identity,) = await rows(slack, select(Identity).where(Identity.user_id == "U00007"))
    (person,) = await rows(slack, select(Person).where(Person.id == identity.person_id))
    assert (person.email, person.display_name) == ("learner7@acme.test", "learner7")  # not "U00007"
    assert await rows(slack, select(Person).where(Person.id == empty.id)) == []
    assert len(await rows(slack, select(Enrolment).where(Enrolment.person_id == person.id))) == 1
    (merged,) = await rows(slack, select(Activity).where(Activity.kind == "person.merged"))
    assert merged.data["merged"] == empty.id and merged.data["into"] == person.id
    await slack.app.worker.drain()
    assert len(posts_to(slack, "U00007")) == 1  # the welcome, once (the answer to `list` went to D00007)


def test_directory_prefers_the_roster_once_it_knows_its_size() -> None:
    directory = SlackDirectory(client=None)  # type: ignore[arg-type]
    assert directory._lookups_are_quicker(20) and not directory._lookups_are_quicker(21)
    directory.roster_size = 10_000  # 50 pages at 3 s = 150 s; 100 lookups at 1.2 s = 120 s
    assert directory._lookups_are_quicker(100) and not directory._lookups_are_quicker(150)


async def test_a_short_retry_after_on_the_first_message_is_waited_and_the_learner_linked_at_once(
    slack: SlackHarness,
) -> None:
    await slack.command("UTINA", "create spoc")
    await slack.command("UTINA", "enroll spoc learner8@acme.test")
    slack.api.fail("users.info", status=429, retry_after=1)
    event = {"type": "message", "channel_type": "im", "user": "U00008", "text": "list", "channel": "D00008"}
    status, _ = await slack.http.send(slack.http.event({**event, "ts": "1700000000.2"}, event_id="EvShort"))
    assert status == 200
    await slack.bot.settle()
    asked = [c for c in slack.api.called("users.info") if c.args["user"] == "U00008"]
    assert len(asked) == 2  # asked again after the Retry-After
    (identity,) = await rows(slack, select(Identity).where(Identity.user_id == "U00008"))
    (person,) = await rows(slack, select(Person).where(Person.id == identity.person_id))
    assert person.email == "learner8@acme.test"
    assert await rows(slack, select(Activity).where(Activity.kind == "person.merged")) == []
    (linked,) = await rows(slack, select(Activity).where(Activity.kind == "identity.linked"))
    assert linked.data["source"] == "first message"


async def test_a_429_in_the_middle_of_the_roster_waits_and_resumes_from_the_same_page(
    slack: SlackHarness,
) -> None:
    await slack.command("UTINA", "create spoc")
    await slack.command(
        "UTINA", "enroll spoc " + " ".join(f"learner{n}@acme.test" for n in range(0, 250, 10))
    )
    directory = slack.app.directories["slack"]
    assert isinstance(directory, SlackDirectory)
    directory.listing.interval = 0.0  # the tier pacing itself is covered above; keep this test short
    slack.api.tier_limits["users.list"] = 1  # the second page is answered 429 + Retry-After
    slack.api.tier_window = 1.0
    outcome = await resolver(slack).run_once()
    assert (outcome.found, outcome.missing, outcome.pending) == (25, 0, 0)
    pages = slack.api.called("users.list")
    assert slack.api.rate_limited["users.list"] >= 1
    assert len(pages) == 2 + slack.api.rate_limited["users.list"]
    assert pages[-1].args["cursor"] == pages[1].args["cursor"]  # the refused page, asked again


async def test_the_running_resolver_looks_up_someone_enrolled_by_email_right_away(
    slack: SlackHarness,
) -> None:
    running = asyncio.create_task(resolver(slack).run_forever(every=3600))  # as `cohortbot run` starts it
    try:
        await slack.command("UTINA", "create spoc")
        await slack.command("UTINA", "enroll spoc learner3@acme.test")
        await slack.api.wait_for(lambda: slack.api.called("users.lookupByEmail"), within=5)
        for _ in range(50):  # the lookup's answer is linked in the resolver's next transaction
            if await rows(slack, select(Identity).where(Identity.user_id == "U00003")):
                break
            await asyncio.sleep(0.1)
        await slack.app.worker.drain()
        (welcome,) = posts_to(slack, "U00003")
        assert "Welcome to *spoc*" in welcome["text"]
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
