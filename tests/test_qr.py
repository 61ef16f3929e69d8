"""QR codes on the subscribe page, event pages and posters: drawn by Chromium, read back by zbar.

The SVG a page carries is shown in real Chromium, photographed, and decoded
with zbarimg (Debian's zbar-tools), as a phone's camera would read the screen
or the printed poster: the decoded text must be exactly the address.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import html5lib
import pytest
from flask.testing import FlaskClient

from icalpub.live import Live
from icalpub.qr import svg
from icalpub.service import create_service

from . import test_browser
from .conftest import require

browser = test_browser.browser  # the page tests' Chromium, shared


@pytest.fixture
def client(site: Path) -> FlaskClient:
    moment = dt.datetime(2022, 1, 1, 12, tzinfo=dt.UTC)
    app = create_service(live=Live(site, background=False, now=lambda: moment), editor=False)
    return app.test_client()


@pytest.fixture
def tab(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 600, "height": 600})
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def decode(tab: Any, drawing: str, folder: Path) -> str:
    """Show `drawing` (an inline SVG) in Chromium at 330 px, photograph it, decode it with zbar."""
    zbarimg = require("zbarimg")
    tab.set_content(
        "<!doctype html><body style='margin:20px;background:#fff'>"
        f"<div style='width:330px'>{drawing}</div></body>"
    )
    shot = folder / "qr.png"
    tab.locator("svg").screenshot(path=str(shot))
    found = subprocess.run(
        [zbarimg, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(shot)],
        capture_output=True,
        text=True,
        check=True,
    )
    return found.stdout.rstrip("\n")


def the_qr(html: str) -> str:
    """Return the page's one QR code, as its markup (the page must be valid HTML5)."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    parser.parse(html)
    start = html.index('<svg role="img"')
    assert html.count('<svg role="img"') == 1
    return html[start : html.index("</svg>", start) + len("</svg>")]


def test_subscribe_page_code_reads_as_the_calendar_address(
    client: FlaskClient, tab: Any, tmp_path: Path
) -> None:
    html = client.get("/en/subscribe?topic=training&topic=meeting").text
    drawing = the_qr(html)
    assert 'aria-label="QR code of the calendar address"' in drawing
    assert decode(tab, drawing, tmp_path) == (
        "https://calendar.example.lv/en/calendar.ics?topic=meeting&topic=training"
    )


def test_event_page_code_reads_as_the_pages_own_address(
    client: FlaskClient, tab: Any, tmp_path: Path
) -> None:
    html = client.get("/events/robezsardzes-macibas-2022-01").text
    drawing = the_qr(html)
    assert 'aria-label="Šīs lapas adreses QR kods"' in drawing
    assert decode(tab, drawing, tmp_path) == (
        "https://calendar.example.lv/events/robezsardzes-macibas-2022-01"
    )


def test_poster_shows_title_next_events_code_and_short_address(
    client: FlaskClient, tab: Any, tmp_path: Path
) -> None:
    html = client.get("/en/poster/meeting").text
    assert "<h1>Meetings</h1>" in html
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    root = parser.parse(html)
    items = root.findall(".//ol[@class='events poster-events']/li")
    assert len(items) == 5  # the next five: the monthly meeting and the project meeting
    assert "".join(items[0].itertext()).split()[:3] == ["January", "12,", "2022,"]
    address = root.find(".//figcaption/a[@class='address']")
    assert address.text == "calendar.example.lv/en/subscribe?topic=meeting"
    assert decode(tab, the_qr(html), tmp_path) == (
        "https://calendar.example.lv/en/subscribe?topic=meeting"
    )
    assert client.get("/poster/no-such-topic").status_code == 404


def test_a_long_address_with_every_topic_still_decodes(tab: Any, tmp_path: Path) -> None:
    address = "https://calendar.example.lv/en/calendar.ics?" + "&".join(
        f"topic=topic-number-{n}" for n in range(12)
    )
    assert decode(tab, str(svg(address, "QR")), tmp_path) == address


def test_the_same_address_draws_the_same_bytes() -> None:
    first = str(svg("https://calendar.example.lv/", "QR"))
    svg.cache_clear()
    assert str(svg("https://calendar.example.lv/", "QR")) == first
