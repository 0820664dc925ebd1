"""Who may run which command, as one table: cohort admin, trainer, learner and outsider against the
commands that change a cohort, including who may change admins. A refusal changes nothing."""

from __future__ import annotations

import pytest

from tests.conftest import Chat
from tests.dbsnapshot import snapshot

ROLES = ("tina", "tom", "alice", "eve")  # admin (creator), trainer, learner, outsider
ALL, STAFF, ADMIN = set(ROLES), {"tina", "tom"}, {"tina"}

MATRIX: list[tuple[str, set[str]]] = [
    ("enroll spoc carol", STAFF),
    ('session spoc "Extra" 2027-03-02 14:00 90m', STAFF),
    ('module spoc "Extra" due 2027-03-05', STAFF),
    ("manager spoc bob alice", STAFF),
    ("role spoc trainer carol", STAFF),
    ("pause spoc", STAFF),
    ("role spoc admin carol", ADMIN),
    # Demoting an admin (here ada, made admin by the creator) is changing admins: admins only.
    ("role spoc trainer ada", ADMIN),
    ("status spoc", ALL - {"eve"}),
]


@pytest.fixture
async def cohort(chat: Chat) -> Chat:
    await chat.say("tina", "create spoc tz=Europe/Paris")
    await chat.say("tina", "enroll spoc alice bob")
    await chat.say("tina", "role spoc trainer tom")
    await chat.say("tina", "role spoc admin ada")
    for who in ("alice", "eve", "carol"):
        await chat.say(who, "list")  # everyone exists before the snapshots
    return chat


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("command,allowed", MATRIX, ids=[c for c, _ in MATRIX])
async def test_role_by_command(cohort: Chat, who: str, command: str, allowed: set[str]) -> None:
    before = await snapshot(cohort.app)
    answer = await cohort.say(who, command)
    refused = "Only admins" in answer or "You are not in 'spoc'" in answer
    if who in allowed:
        assert not refused, answer
    else:
        assert refused, answer
        assert await snapshot(cohort.app) == before


async def test_a_trainer_cannot_demote_the_creator(cohort: Chat) -> None:
    before = await snapshot(cohort.app)
    assert "Only admins of 'spoc' can change admins" in await cohort.say("tom", "role spoc trainer tina")
    assert await snapshot(cohort.app) == before
    assert "*spoc*: admin" in await cohort.say("tina", "list")


async def test_a_cohort_never_loses_its_last_admin(cohort: Chat) -> None:
    assert "now trainer" in await cohort.say("tina", "role spoc trainer ada")
    before = await snapshot(cohort.app)
    answer = await cohort.say("tina", "role spoc trainer tina")
    assert "would have no admin left" in answer
    assert await snapshot(cohort.app) == before
    # Both at once is refused too; with another admin in place, the creator may step down.
    assert "now admin" in await cohort.say("tina", "role spoc admin ada")
    assert "would have no admin left" in await cohort.say("tina", "role spoc trainer tina ada")
    assert "now trainer" in await cohort.say("tina", "role spoc trainer tina")
    assert "*spoc*: trainer" in await cohort.say("tina", "list")
