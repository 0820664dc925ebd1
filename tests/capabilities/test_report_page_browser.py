"""The report page in a real headless browser (Debian's chromium, driven by Playwright).

Never downloads a browser: it launches `/usr/bin/chromium` (`make browser` installs it; CI does).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.clock import SimulatedClock
from bot.core.messages import Fields
from tests.capabilities.report_page_support import report_link, served
from tests.capabilities.reports_fixture import REPORT_AT, build_fixture
from tests.conftest import Chat

CHROMIUM = os.environ.get("COHORTBOT_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="playwright is not installed (pip install -e .[dev])"
)
pytestmark = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None,
    reason=f"no chromium at {CHROMIUM}: `make browser` (apt-get install chromium) installs it",
)


@pytest.fixture
async def page(tmp_path: Path) -> AsyncIterator[object]:
    async with playwright_api.async_playwright() as p:
        context = await p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh user-data dir per test
            executable_path=CHROMIUM,
            args=FLAGS,
            headless=True,
            accept_downloads=True,
            offline=False,
        )
        try:
            yield context.pages[0] if context.pages else await context.new_page()
        finally:
            await context.close()


async def test_the_page_from_a_chat_link_matches_the_chat_report(
    chat: Chat, clock: SimulatedClock, page: object, tmp_path: Path
) -> None:
    await build_fixture(chat)
    clock.set(REPORT_AT)
    async with served(chat.app):
        reply, url = await report_link(chat, "tina")
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))  # type: ignore[attr-defined]
        response = await page.goto(url)  # type: ignore[attr-defined]
        assert response.status == 200
        (fields,) = [b for b in reply.message.blocks if isinstance(b, Fields)]
        shown = await page.locator("#figures dd").all_inner_texts()  # type: ignore[attr-defined]
        assert shown == [value for _label, value in fields.pairs[:6]]
        # Both charts are drawn: real boxes with bars, and readable names for assistive technology.
        for chart in ("modules", "sessions"):
            svg = page.locator(f"svg#{chart}")  # type: ignore[attr-defined]
            box = await svg.bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 50
            assert await svg.get_attribute("role") == "img"
            assert await page.locator(f"svg#{chart} rect[width]").count() >= 2  # type: ignore[attr-defined]
        title = await page.locator("svg#modules title").text_content()  # type: ignore[attr-defined]
        assert title == "Completion per module"
        assert "25% (1/4)" in await page.locator("svg#modules").text_content()  # type: ignore[attr-defined]
        warning = await page.locator("#warning").inner_text()  # type: ignore[attr-defined]
        assert warning.startswith("⚠ Completion is 38%, under 50%")
        # A download through the browser, as a person would click it.
        async with page.expect_download() as info:  # type: ignore[attr-defined]
            await page.click("text=XLSX workbook")  # type: ignore[attr-defined]
        download = await info.value
        saved = tmp_path / "report.xlsx"
        await download.save_as(saved)
        assert saved.read_bytes()[:2] == b"PK" and download.suggested_filename == "spoc-report.xlsx"
        async with page.expect_download() as info:  # type: ignore[attr-defined]
            await page.click("text=CSV: learners")  # type: ignore[attr-defined]
        csv_file = tmp_path / "learners.csv"
        await (await info.value).save_as(csv_file)
        assert "dan" in csv_file.read_text()
    # Nothing was asked of any other server.
    assert requests and all(r.startswith(url.split("/reports/")[0]) for r in requests)


async def test_a_managers_page_and_refused_links_in_the_browser(
    chat: Chat, clock: SimulatedClock, page: object
) -> None:
    await build_fixture(chat)
    clock.set(REPORT_AT)
    async with served(chat.app):
        _reply, url = await report_link(chat, "maya")
        await page.goto(url)  # type: ignore[attr-defined]
        names = await page.locator("#learners tbody th").all_inner_texts()  # type: ignore[attr-defined]
        assert names == ["ann", "ben"]
        token = url.rsplit("/", 1)[1]
        tampered = url.replace(token, token[:5] + ("x" if token[5] != "x" else "y") + token[6:])
        response = await page.goto(tampered)  # type: ignore[attr-defined]
        assert response.status == 403
        assert "not valid" in await page.locator("body").inner_text()  # type: ignore[attr-defined]
        clock.advance(timedelta(hours=chat.app.settings.report_link_hours + 1))
        response = await page.goto(url)  # type: ignore[attr-defined]
        assert response.status == 403
