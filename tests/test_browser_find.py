"""Where people look for events, in real Chromium: the agenda, the archive, the poster, the
clients page (axe), the <icalpub-events> widget and the /embed/ iframe on a page of another
origin (another port), and their screenshots.

The calendar's "today" is 1 January 2022 on both sides: the service is given that moment,
and the browser's clock is set to it (the widget decides what is upcoming in the browser).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.server
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from icalpub.live import Live
from icalpub.service import create_service

from . import test_browser
from .conftest import SHIPPED, free_port, http_get
from .test_browser import SCREENSHOTS, serious_violations

browser = test_browser.browser  # the page tests' Chromium, shared
MOMENT = dt.datetime(2022, 1, 1, 10, tzinfo=dt.UTC)


@contextlib.contextmanager
def calendar_at(folder: Path) -> Iterator[tuple[str, Any]]:
    """Serve the shipped registry, its base_url this server's own address; yield URL and app."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    text = SHIPPED.read_text("utf-8").replace("https://calendar.example.lv/", url + "/")
    (folder / "events.yaml").write_text(text, "utf-8")
    shutil.copy(SHIPPED.with_suffix(".lock"), folder / "events.lock")
    app = create_service(live=Live(folder / "events.yaml", now=lambda: MOMENT), editor=False)
    with test_browser.serving(app, port):
        yield url, app


@contextlib.contextmanager
def foreign_site(html: str) -> Iterator[str]:
    """Serve one page, `html`, from another origin (its own port); yield its URL."""
    body = html.encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def calendar(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with calendar_at(tmp_path_factory.mktemp("find")) as (url, _):
        yield url


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve the shipped registry as it is (its addresses read calendar.example.lv)."""
    folder = tmp_path_factory.mktemp("shipped")
    shutil.copy(SHIPPED, folder / "events.yaml")
    shutil.copy(SHIPPED.with_suffix(".lock"), folder / "events.lock")
    app = create_service(live=Live(folder / "events.yaml", now=lambda: MOMENT), editor=False)
    with test_browser.serving(app) as url:
        yield url


def ministry_page(calendar: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ministry of the Interior</title>
<style>body {{ font-family: sans-serif; margin: 2rem; max-width: 44rem; }}
header {{ border-bottom: 3px solid #7a1f2b; margin-bottom: 1rem; }}
icalpub-events ol {{ padding-left: 1.2rem; }} icalpub-events li {{ margin: .4rem 0; }}
icalpub-events .when, icalpub-events .where {{ display: block; color: #555; }}</style></head>
<body><header><h1>Ministry of the Interior</h1></header>
<h2>Coming up: meetings</h2>
<icalpub-events topic="meeting" lang="en" limit="3">
<a href="{calendar}/en/events/?topic=meeting">Meetings in the calendar</a></icalpub-events>
<h2>Framed</h2>
<iframe title="Training" src="{calendar}/en/embed/?topic=training&amp;limit=3"
 width="600" height="260"></iframe>
<script src="{calendar}/static/icalpub-events.js"></script>
</body></html>"""


def visit(browser: Any, url: str, **options: Any) -> Any:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1000, "height": 900}, **options)
    page = context.new_page()
    page.clock.set_fixed_time(MOMENT)
    return context, page


def framed(page: Any) -> str | None:
    """Return the heading of the page's iframe, None when the browser refused to show it."""
    child = next(f for f in page.frames if f is not page.main_frame)
    if not child.url.startswith("http"):  # Chromium's error page: framing was refused
        return None
    heading: str = child.locator("h1").inner_text()
    return heading


def test_the_widget_renders_the_next_events_on_another_origins_page_without_cookies(
    browser: Any, calendar: str
) -> None:
    with foreign_site(ministry_page(calendar)) as site:
        assert site.split(":")[2] != calendar.split(":")[2]  # another port: another origin
        context, page = visit(browser, site)
        context.add_cookies([{"name": "session", "value": "x", "url": calendar}])
        asked: list[dict[str, str]] = []
        page.on(
            "request",
            lambda r: asked.append(r.all_headers()) if r.url.endswith(".json") else None,
        )
        page.goto(site)
        widget = page.locator("icalpub-events[data-state=ready]")
        widget.wait_for()
        titles = widget.locator("li > a").all_inner_texts()
        assert titles == [
            "Inter-institutional working group on preventing human trafficking",
            "“HOME” project partners' meeting",
        ]
        hrefs = widget.locator("li > a").evaluate_all("links => links.map(a => a.href)")
        assert hrefs[0] == f"{calendar}/en/events/darba-grupa-2022"
        # The next meeting of the series is not in the feed: the feed has the event once.
        assert widget.locator("time").first.get_attribute("datetime") == (
            "2022-01-12T10:00:00+02:00"
        )
        subscribe = widget.locator("a.subscribe")
        assert subscribe.inner_text() == "Subscribe to the calendar"
        assert subscribe.get_attribute("href") == f"{calendar}/en/subscribe?topic=meeting"
        assert asked and all("cookie" not in headers for headers in asked)
        # The iframe is refused: by default only the calendar's own host may frame it.
        assert framed(page) is None
        context.close()


def test_the_embed_frames_only_on_the_sites_the_setting_names(browser: Any, tmp_path: Path) -> None:
    with calendar_at(tmp_path) as (calendar, app), foreign_site(ministry_page(calendar)) as site:
        app.config["ICALPUB_EMBED_ANCESTORS"] = site.rstrip("/")  # this foreign page's origin
        context, page = visit(browser, site)
        page.goto(site)
        assert framed(page) == "Calendar of events: Training"
        frame = page.frame_locator("iframe")
        assert frame.locator("li a").count() == 2  # the training events still to come
        assert frame.locator("li a").first.get_attribute("target") == "_top"
        page.locator("icalpub-events[data-state=ready]").wait_for()
        page.screenshot(path=str(SCREENSHOTS / "widget-foreign-page.png"), full_page=True)
        # Another site named instead: this page may no longer frame it.
        context.close()
        app.config["ICALPUB_EMBED_ANCESTORS"] = "https://www.iem.gov.lv"
        context, page = visit(browser, site)  # a new browser cache
        page.goto(site)
        page.locator("icalpub-events[data-state=ready]").wait_for()
        assert framed(page) is None
        context.close()


def test_axe_and_screenshots_of_the_agenda_archive_poster_and_clients(
    browser: Any, shipped: str
) -> None:
    calendar = shipped
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for path, locale, width in [
        ("/events/", "lv-LV", 1280),
        ("/en/events/?q=riga&topic=meeting&topic=conference", "en-GB", 1280),
        ("/events/?from=2022-02-01", "lv-LV", 375),
        ("/archive/2021", "lv-LV", 1280),
        ("/en/archive/2019", "en-GB", 375),
        ("/en/poster/training", "en-GB", 1280),
        ("/clients", "lv-LV", 1280),
        ("/en/subscribe?topic=training", "en-GB", 375),
        ("/en/embed/?topic=training", "en-GB", 600),
    ]:
        context = browser.new_context(
            base_url=calendar,
            locale=locale,
            bypass_csp=True,
            viewport={"width": width, "height": 900},
        )
        page = context.new_page()
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        assert page.evaluate("document.documentElement.lang") == locale[:2]
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
        assert serious_violations(page) == [], path
        context.close()
    for path, name, media in [
        ("/events/", "agenda-1280.png", "screen"),
        ("/en/poster/training", "poster-en.png", "print"),
    ]:
        context = browser.new_context(
            base_url=calendar, locale="lv-LV", viewport={"width": 1280, "height": 1000}
        )
        page = context.new_page()
        page.emulate_media(media=media)
        page.goto(path)
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)
        assert (SCREENSHOTS / name).stat().st_size > 10_000
        context.close()


def test_the_poster_prints_on_one_a4_page(browser: Any, shipped: str) -> None:
    context = browser.new_context(base_url=shipped)
    page = context.new_page()
    page.goto("/poster/training")
    pdf = page.pdf(format="A4", print_background=True)
    context.close()
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1


def test_the_service_lets_any_origin_read_the_feeds(calendar: str) -> None:
    port = int(calendar.rsplit(":", 1)[1])
    for path in ("/feed.json", "/en/topics/meeting.json", "/calendar.ics?topic=a&topic=b"):
        status, headers, _ = http_get(port, path, {"Origin": "http://elsewhere.example"})
        if status == 200:
            assert headers["access-control-allow-origin"] == "*", path
    status, headers, _ = http_get(port, "/events/")
    assert status == 200 and "access-control-allow-origin" not in headers  # pages: no
