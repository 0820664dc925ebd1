"""`reach <cohort>` and the `status` line: how many learners can be reached, per platform, and for
each one who cannot, why and what to do. Directories here answer like a platform would (found,
not there, refused), at the `Directory` port the adapters implement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import select

from bot.app.bootstrap import App
from bot.capabilities.reach.resolver import IdentityResolver
from bot.core.clock import SimulatedClock
from bot.core.context import EventContext
from bot.core.directory import NOT_IN_WORKSPACE, Found, Lookup
from bot.core.inbound import Inbound, Profile
from bot.core.models import Identity, OutboxMessage, Person
from tests.conftest import Chat


@dataclass
class ScriptedDirectory:
    """A platform's answers, decided by the test: who exists, and whether lookups are refused."""

    platform: str
    accounts: dict[str, str] = field(default_factory=dict)  # email -> user id
    refuse: str | None = None
    asked: list[list[str]] = field(default_factory=list)

    async def resolve(self, emails: Sequence[str]) -> Lookup:
        self.asked.append(list(emails))
        if self.refuse:
            return Lookup(pending=list(emails), error=self.refuse)
        result = Lookup()
        for email in emails:
            if email in self.accounts:
                result.found.append(Found(email, Profile(self.platform, "W1", self.accounts[email], email)))
            else:
                result.missing[email] = NOT_IN_WORKSPACE
        return result


async def block(app: App, user_id: str, *, uninstalled: bool) -> None:
    async with app.store.transaction() as session:
        identity = (await session.exec(select(Identity).where(Identity.user_id == user_id))).one()
        identity.blocked_at = app.clock.now()
        session.add(identity)
        if uninstalled:
            ctx = EventContext(session=session, now=app.clock.now(), settings=app.settings)
            await ctx.log("teams.uninstalled", person_id=identity.person_id, scope="personal")


async def test_reach_counts_per_platform_and_says_why_and_what_to_do(
    app: App, chat: Chat, clock: SimulatedClock
) -> None:
    await chat.say("tina", "create spoc")
    await chat.say("tina", "enroll spoc alice dave erin")
    await chat.say("tina", "enroll spoc bob@acme.test carol@acme.test fay@acme.test gus@acme.test")
    await block(app, "dave", uninstalled=False)
    await block(app, "erin", uninstalled=True)
    before = await chat.say("tina", "reach spoc")
    assert "Can be reached : 1 of 7 learners" in before
    assert "fay (fay@acme.test): not looked up yet" in before

    slack = ScriptedDirectory("slack", {"gus@acme.test": "UGUS"})
    await IdentityResolver(app.store, clock, app.settings, {"slack": slack}).run_once()
    assert sorted(slack.asked[0]) == ["bob@acme.test", "carol@acme.test", "fay@acme.test", "gus@acme.test"]
    slack.refuse = "missing_scope: users:read.email"
    clock.advance(timedelta(hours=7))  # the not-found are asked again after a few hours
    await IdentityResolver(app.store, clock, app.settings, {"slack": slack}).run_once()

    answer = await chat.say("tina", "reach spoc")
    assert "Can be reached : 2 of 7 learners" in answer
    assert "console        : 1" in answer and "Slack          : 1" in answer
    assert "6 cannot be reached" not in answer and "5 cannot be reached:" in answer
    assert "bob (bob@acme.test): Slack refuses the lookup (missing_scope: users:read.email)" in answer
    assert "dave: they blocked the app. Ask them to unblock it." in answer
    assert "erin: they removed the app. Ask them to add it again, or pre-install it." in answer
    status = await chat.say("tina", "status spoc")
    assert "Reach: 2 of 7 learners (console 1, Slack 1). 5 cannot be reached: see `reach spoc`." in status


async def test_not_in_the_workspace_is_explained_and_a_learner_cannot_ask(
    app: App, chat: Chat, clock: SimulatedClock
) -> None:
    await chat.say("tina", "create spoc")
    await chat.say("tina", "enroll spoc alice hugo@acme.test")
    await IdentityResolver(app.store, clock, app.settings, {"slack": ScriptedDirectory("slack")}).run_once()
    answer = await chat.say("tina", "reach spoc")
    assert "hugo (hugo@acme.test): no Slack account has this email. Invite them" in answer
    assert "Only admins and trainers" in await chat.say("alice", "reach spoc")
    async with app.store.transaction() as session:
        assert len((await session.exec(select(Person))).all()) == 3


async def test_an_account_slack_says_is_gone_is_told_apart_from_a_blocked_app(app: App, chat: Chat) -> None:
    await chat.say("tina", "create spoc")
    await app.engine.handle(
        Inbound(sender=Profile("slack", "T1", "UIVAN", "ivan", "ivan@acme.test"), text="list")
    )
    await chat.say("tina", "enroll spoc ivan@acme.test")
    await app.worker.drain()  # no Slack sender here: nothing leaves
    async with app.store.transaction() as session:
        identity = (await session.exec(select(Identity).where(Identity.user_id == "UIVAN"))).one()
        identity.blocked_at = app.clock.now()
        session.add(identity)
        welcome = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.person_id == identity.person_id))
        ).one()
        welcome.status, welcome.last_error = "failed", "account_inactive"  # as chat.postMessage answered
        session.add(welcome)
    answer = await chat.say("tina", "reach spoc")
    assert "ivan (ivan@acme.test): their Slack account is deactivated. Ask your workspace admin." in answer
