"""Weekly digests: one event per zone, each manager sees only their own people, staff get the report."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.capabilities.reports.digests import manager_digests
from bot.capabilities.reports.load import manager_links
from bot.capabilities.reports.service import build_report
from bot.core.clock import SimulatedClock
from bot.core.messages import Buttons, Image, Link
from bot.core.outbox import compose
from bot.core.render_text import render_text
from tests.capabilities.reports_fixture import REPORT_AT, build_fixture
from tests.conftest import Chat, RecordingSender

PARIS_8AM = datetime(2027, 3, 15, 7, 0, tzinfo=UTC)  # Monday 08:00 in Paris (CET)
NEW_YORK_8AM = datetime(2027, 3, 15, 12, 0, tzinfo=UTC)  # Monday 08:00 in New York (EDT since 14 March)


async def test_one_event_per_zone_and_week_not_per_manager(chat: Chat) -> None:
    await build_fixture(chat)
    events = [e for e in await chat.app.runner.plan() if e.kind.startswith("reports.")]
    week_11 = sorted((e.key, e.due_at) for e in events if "2027-W11" in e.key)
    assert week_11 == [
        ("reports.digest:1:2027-W11:America/New_York", NEW_YORK_8AM),
        ("reports.digest:1:2027-W11:Europe/Paris", PARIS_8AM),
        ("reports.staff_digest:1:2027-W11", PARIS_8AM),
    ]
    # Weekly from the cohort's start (1 March) to a week after its last date (M3 due 26 March).
    assert sorted({e.payload["week"] for e in events}) == [
        "2027-W09",
        "2027-W10",
        "2027-W11",
        "2027-W12",
        "2027-W13",
    ]


async def test_each_manager_gets_only_their_own_people_at_their_morning(
    chat: Chat, clock: SimulatedClock, sender: RecordingSender, tmp_path: Path
) -> None:
    await build_fixture(chat)
    chat.app.settings.export_dir = str(tmp_path)
    clock.set(PARIS_8AM)
    await chat.app.runner.tick()
    await chat.app.worker.drain()
    assert sender.to("maya") == []  # 08:00 in Paris is 03:00 in New York
    (marc_digest,) = sender.to("marc")
    text = render_text(marc_digest)
    assert "*cat*" in text and "*dan*" in text
    assert "ann" not in text and "ben" not in text
    (tina_report,) = sender.to("tina")  # the admin gets the training-manager report
    assert "training report" in tina_report.summary
    # The charts are on the report page: the weekly card links there instead of carrying an image.
    assert not [b for b in tina_report.blocks if isinstance(b, Image)]
    (link,) = [b for b in tina_report.blocks if isinstance(b, Link)]
    assert link.url.startswith("http://localhost:3000/reports/")

    clock.set(NEW_YORK_8AM)
    await chat.app.runner.tick()
    await chat.app.worker.drain()
    (maya_digest,) = sender.to("maya")
    text = render_text(maya_digest)
    assert "*ann*" in text and "*ben*" in text
    assert "cat" not in text and "dan" not in text
    assert "ben*: modules 1 done, 1 due, 1 overdue · sessions 1/2 attended" in text
    assert "⚠ *at risk*: 1 overdue module." in text
    # Only ben is at risk, so only ben has a Nudge button.
    (buttons,) = [b for b in maya_digest.blocks if isinstance(b, Buttons)]
    assert [b.label for b in buttons.buttons] == ["Nudge ben"]
    # A second tick the same week sends nothing again.
    await chat.app.runner.tick()
    await chat.app.worker.drain()
    assert len(sender.to("maya")) == 1 and len(sender.to("marc")) == 1


async def test_manager_digests_cover_every_manager_with_their_reports_only(chat: Chat) -> None:
    fixture = await build_fixture(chat)
    async with fixture.app.store.transaction() as session:
        report = await build_report(session, fixture.cohort, REPORT_AT)
        links = await manager_links(session, fixture.cohort.id or 0)
    ids = fixture.ids
    zones = {ids["maya"]: "America/New_York", ids["marc"]: "Europe/Paris"}
    digests = {r.person_id: r for r in manager_digests(report, links, zones, "2027-W11")}
    assert set(digests) == {ids["maya"], ids["marc"]}
    named = {
        who: {
            name
            for name in ("ann", "ben", "cat", "dan")
            if f"*{name}*" in render_text(compose(digests[ids[who]].message, "en"))
        }
        for who in ("maya", "marc")
    }
    assert named == {"maya": {"ann", "ben"}, "marc": {"cat", "dan"}}
    assert digests[ids["marc"]].key == f"reports.digest:{fixture.cohort.id}:2027-W11:{ids['marc']}"


async def test_digests_can_be_switched_off(chat: Chat) -> None:
    fixture = await build_fixture(chat)
    async with fixture.app.store.transaction() as session:
        cohort = await session.get_one(type(fixture.cohort), fixture.cohort.id)
        cohort.programme = {"digests": {"enabled": False}}
        session.add(cohort)
    assert [e for e in await chat.app.runner.plan() if e.kind.startswith("reports.")] == []
