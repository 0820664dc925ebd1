"""The report page over HTTP: figures as in chat, charts, downloads, rights, refused links."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import datetime, timedelta

import aiohttp
from openpyxl import load_workbook
from pypdf import PdfReader

from bot.core.clock import SimulatedClock
from bot.core.messages import Fields
from tests.capabilities.report_page_support import report_link, served
from tests.capabilities.reports_fixture import REPORT_AT, build_fixture
from tests.conftest import Chat


async def fetch(url: str) -> tuple[int, str, bytes]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.read()


async def test_the_page_shows_the_chat_figures_charts_and_every_section(
    chat: Chat, clock: SimulatedClock
) -> None:
    await build_fixture(chat)
    clock.set(REPORT_AT)
    async with served(chat.app):
        reply, url = await report_link(chat, "tina")
        status, kind, body = await fetch(url)
        html = body.decode()
    assert status == 200 and kind.startswith("text/html")
    (fields,) = [b for b in reply.message.blocks if isinstance(b, Fields)]
    for label, value in fields.pairs[:6]:  # the headline figures, word for word
        assert f"<dt>{label}</dt><dd" in html and f">{value}</dd>" in html
    assert html.count("<svg") == 2 and 'role="img"' in html and "<desc" in html
    assert "M2: 25% (1/4) (under 50%)" in html  # the chart's text alternative carries the values
    assert "As of Fri 12 Mar 2027" in html or "As of" in html
    assert "⚠ Completion is 38%, under 50%" in html
    assert "dan</strong>: missed 2 sessions, 2 overdue modules, no activity yet" in html
    assert "department Ops: 2 learners" in html
    # Nothing to fetch from elsewhere: no script, no source, every link back to this page's downloads.
    assert "<script" not in html and " src=" not in html and "<link" not in html
    hrefs = re.findall(r'href="([^"]*)"', html)
    path = url.split(":", 2)[2].split("/", 1)[1]
    assert hrefs and all(h.startswith("/" + path + "/") for h in hrefs)


async def test_downloads_are_real_files(chat: Chat, clock: SimulatedClock) -> None:
    await build_fixture(chat)
    clock.set(REPORT_AT)
    async with served(chat.app):
        _reply, url = await report_link(chat, "tina")
        status, kind, body = await fetch(f"{url}/learners.csv")
        assert status == 200 and kind.startswith("text/csv")
        rows = list(csv.reader(io.StringIO(body.decode())))
        assert rows[0][:2] == ["person_id", "name"] and {r[1] for r in rows[1:]} == {
            "ann",
            "ben",
            "cat",
            "dan",
        }
        status, _kind, body = await fetch(f"{url}/report.xlsx")
        book = load_workbook(io.BytesIO(body))
        assert status == 200 and "learners" in book.sheetnames
        # Dates are real dates a spreadsheet can sort and compute with, in the cohort's wall time.
        modules = list(book["modules"].iter_rows(values_only=True))
        assert modules[0][2] == "due_at" and all(isinstance(row[2], datetime) for row in modules[1:])
        assert book["summary"]["B3"].value == datetime(2027, 3, 15, 10, 0)  # REPORT_AT in Paris
        status, kind, body = await fetch(f"{url}/report.pdf")
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
        assert status == 200 and kind == "application/pdf" and "spoc: training report" in text
        assert (await fetch(f"{url}/nothing.csv"))[0] == 404
        # On SQLite the signing key lives beside the database: staff get the signed audit pack.
        status, kind, body = await fetch(f"{url}/audit-pack.zip")
        assert status == 200 and kind == "application/zip"
        assert "evidence/public-key.pem" in zipfile.ZipFile(io.BytesIO(body)).namelist()


async def test_a_managers_link_shows_only_their_people(chat: Chat, clock: SimulatedClock) -> None:
    await build_fixture(chat)
    clock.set(REPORT_AT)
    async with served(chat.app):
        reply, url = await report_link(chat, "maya")
        _status, _kind, body = await fetch(url)
        html = body.decode()
        _status, _kind, people = await fetch(f"{url}/learners.csv")
    assert "spoc: your people's report" in reply.message.summary
    assert '<th scope="row">ann</th>' in html and '<th scope="row">ben</th>' in html
    for outsider in ("cat", "dan"):
        assert not re.search(rf"\b{outsider}\b", html) and not re.search(rf"\b{outsider}\b", people.decode())
    assert "Audit pack" not in html
    async with served(chat.app):
        _reply, url = await report_link(chat, "maya")
        assert (await fetch(f"{url}/audit-pack.zip"))[0] == 404  # it names everyone: staff only


async def test_expired_tampered_and_malformed_links_are_refused(chat: Chat, clock: SimulatedClock) -> None:
    await build_fixture(chat)
    clock.set(REPORT_AT)
    async with served(chat.app) as base:
        _reply, url = await report_link(chat, "tina")
        payload, signature = url.rsplit("/", 1)[1].split(".")
        forged = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
        for bad in (
            f"{base}/reports/{forged}.{signature}",
            f"{base}/reports/{payload}.{signature[:-1]}",
            f"{base}/reports/nonsense",
            f"{base}/reports/{'x' * 5000}",
            f"{base}/reports/{forged}.{signature}/learners.csv",
        ):
            status, _kind, body = await fetch(bad)
            assert status == 403 and b"not valid" in body, bad
        assert (await fetch(url))[0] == 200
        clock.advance(timedelta(hours=chat.app.settings.report_link_hours, seconds=1))
        assert (await fetch(url))[0] == 403
        assert (await fetch(f"{url}/report.xlsx"))[0] == 403


async def test_malformed_links_get_4xx_never_5xx(chat: Chat, clock: SimulatedClock) -> None:
    import base64
    import hashlib
    import hmac

    from bot.capabilities.reports.links import link_key

    await build_fixture(chat)
    clock.set(REPORT_AT)

    def signed(payload: bytes) -> str:
        body = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
        mac = hmac.new(link_key(chat.app.settings), body.encode(), hashlib.sha256).digest()
        return body + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    async with served(chat.app) as base:
        paths = [
            "%00",
            "a.b.c",
            "..%2F..%2Fetc",
            "%FF%FE.%FF",
            "." * 10,
            signed(b"\xff\xfe not json"),
            signed(b"[1, 2]"),
            signed(b'{"c": "x", "p": 1, "s": "staff", "e": 1}'),
            signed(b'{"c": 1, "p": 1, "s": "god", "e": 99999999999}'),
            signed(b'{"c": 999, "p": 1, "s": "staff", "e": 99999999999}'),  # no such cohort
            signed(b'{"c": 1, "p": 1, "s": "staff", "e": 1e300}'),
        ]
        for path in paths:
            for suffix in ("", "/learners.csv", "/x", "/report.exe"):
                status = (await fetch(f"{base}/reports/{path}{suffix}"))[0]
                assert 400 <= status < 500, (path, suffix, status)


async def test_the_page_and_the_digest_speak_the_viewers_language(chat: Chat, clock: SimulatedClock) -> None:
    await build_fixture(chat)
    clock.set(REPORT_AT)
    await chat.say("maya", "lang fr")
    digest = await chat.say("maya", "digest spoc")
    assert "spoc : votre équipe cette semaine" in digest and "Relancer ben" in digest
    async with served(chat.app):
        _reply, url = await report_link(chat, "maya")
        html = (await fetch(url))[2].decode()
        english = (await fetch((await report_link(chat, "tina"))[1]))[2].decode()
    assert '<html lang="fr">' in html and "Chiffres clés" in html and "Achèvement par module" in html
    assert "Seules les personnes qui vous sont rattachées sont affichées." in html
    assert '<html lang="en">' in english and "Headline figures" in english
