"""The pages in real headless Chromium (Debian's), driven by Playwright; axe-core accessibility."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from werkzeug.serving import make_server

from icalpub.live import Live
from icalpub.service import create_service

from .conftest import ROOT, missing, require

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import shutil

    folder = tmp_path_factory.mktemp("site")
    shutil.copy(ROOT / "events.yaml", folder / "events.yaml")
    shutil.copy(ROOT / "events.lock", folder / "events.lock")
    with serving(create_service(live=Live(folder / "events.yaml"))) as url:
        yield url


@contextlib.contextmanager
def serving(app: Any, port: int = 0) -> Iterator[str]:
    """Serve a WSGI app on 127.0.0.1 (`port`, or any free one) from a thread; yield its
    base URL. Bodies are read whole and closed before they are sent: Werkzeug's
    development server skips an answer's close() when the browser drops the connection
    while it drains the request, and the open static file then fails the test as a
    ResourceWarning at teardown (gunicorn, which serves the product, always closes)."""
    server = make_server("127.0.0.1", port, _closed_first(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def _closed_first(app: Any) -> Any:
    def wsgi(environ: Any, start_response: Any) -> list[bytes]:
        answer = app(environ, start_response)
        try:
            return [b"".join(answer)]
        finally:
            if hasattr(answer, "close"):
                answer.close()

    return wsgi


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium = require("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - a test dependency
        missing("playwright")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def page(browser: Any, base_url: str) -> Iterator[Any]:
    context = browser.new_context(
        locale="lv-LV", base_url=base_url, viewport={"width": 1280, "height": 900}
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


def cell_texts(page: Any, day: str) -> str:
    return str(page.locator(f'td[data-date="{day}"]').inner_text())


def test_january_2022_shows_events_on_their_days(page: Any) -> None:
    page.goto("/calendar/2022/01")
    assert page.locator("h1").inner_text() == "Notikumu kalendārs - Janvāris, 2022"
    assert "darba grupas sēde" in cell_texts(page, "2022-01-12")
    for day in ("2022-01-18", "2022-01-19", "2022-01-20"):
        assert "Mācības pašvaldību sociālajiem darbiniekiem" in cell_texts(page, day)
    assert "Mācības pašvaldību" not in cell_texts(page, "2022-01-17")
    assert "Atcelts" in cell_texts(page, "2022-01-31")
    headers = page.locator("table.month thead th").all_inner_texts()
    assert headers[0].startswith("pirmd")  # Monday first


def test_clicking_an_event_opens_its_page(page: Any) -> None:
    page.goto("/calendar/2022/01")
    page.locator('td[data-date="2022-01-25"] a').first.click()
    page.wait_for_url("**/events/projekta-sanaksme-2022-01")
    assert page.locator("h1").inner_text() == "Projekta “HOME” partneru sanāksme"


def test_subscribe_urls_follow_the_chosen_topics_live(page: Any) -> None:
    page.goto("/subscribe")
    assert page.input_value("#url-https") == "https://calendar.example.lv/calendar.ics"
    from playwright.sync_api import expect

    page.check('input[value="training"]')
    expect(page.locator("#url-https")).to_have_value(
        "https://calendar.example.lv/topics/training.ics"
    )
    page.check('input[value="meeting"]')
    expected = "https://calendar.example.lv/calendar.ics?topic=meeting&topic=training"
    expect(page.locator("#url-https")).to_have_value(expected)
    assert page.input_value("#url-webcal") == expected.replace("https://", "webcal://")
    google = page.get_attribute("#google", "href")
    assert unquote(parse_qs(urlsplit(google).query)["cid"][0]) == expected.replace(
        "https://", "webcal://"
    )
    outlook = page.get_attribute("#outlook", "href")
    assert parse_qs(urlsplit(outlook).query)["url"] == [expected]


def test_copy_button_puts_the_url_on_the_clipboard(page: Any) -> None:
    page.goto("/subscribe?topic=campaign")
    from playwright.sync_api import expect

    page.click('button[data-copy="url-https"]')
    expect(page.locator("#addresses .status")).not_to_be_empty()
    assert page.evaluate("navigator.clipboard.readText()") == (
        "https://calendar.example.lv/topics/campaign.ics"
    )
    assert page.locator("#addresses .status").inner_text() == "Nokopēts starpliktuvē."


def test_pages_work_without_javascript(browser: Any, base_url: str) -> None:
    context = browser.new_context(java_script_enabled=False, base_url=base_url, locale="en-GB")
    tab = context.new_page()
    tab.goto("/en/subscribe")
    tab.check('input[value="project"]')
    tab.click("button[type=submit]")
    tab.wait_for_url("**/en/subscribe?*topic=project*")
    assert tab.input_value("#url-https") == "https://calendar.example.lv/en/topics/project.ics"
    context.close()


def test_the_root_follows_the_browser_language_and_the_switch_keeps_the_page(
    browser: Any, base_url: str
) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(base_url=base_url, locale="en-GB")
    tab = context.new_page()
    tab.goto("/")
    assert urlsplit(tab.url).path == "/en/"
    assert tab.evaluate("document.documentElement.lang") == "en"
    tab.goto("/en/events/darba-grupa-2022")
    expect(tab.locator("h1")).to_have_text(
        "Inter-institutional working group on preventing human trafficking"
    )
    tab.click('a[hreflang="lv"]')
    tab.wait_for_url("**/events/darba-grupa-2022")
    assert urlsplit(tab.url).path == "/events/darba-grupa-2022"  # Latvian stays Latvian
    expect(tab.locator("h1")).to_have_text(
        "Cilvēku tirdzniecības novēršanas starpinstitūciju darba grupas sēde"
    )
    assert tab.evaluate("document.documentElement.lang") == "lv"
    untranslated = tab.goto("/en/events/es-diena-2018")
    assert untranslated is not None and untranslated.status == 200
    assert tab.locator("h1 span").get_attribute("lang") == "lv"
    context.close()


PAGES = ["/calendar/2022/01", "/events/frem-ii-macibas-2018-09", "/subscribe?topic=training"]
ENGLISH = [*("/en" + p for p in PAGES), "/en/events/es-diena-2018", "/en/"]


@pytest.mark.parametrize(
    ("path", "locale", "width"),
    [(path, "lv-LV", 1280) for path in PAGES]
    + [(path, "en-GB", 1280) for path in ENGLISH]
    + [(path, "lv-LV", 375) for path in PAGES]
    + [("/no-such-page", "lv-LV", 1280), ("/en/no-such-page", "en-GB", 375)],
)
def test_axe_finds_no_serious_or_critical_violations(
    browser: Any, base_url: str, path: str, locale: str, width: int
) -> None:
    # The pages' CSP forbids inline scripts; the test's own injection is let through.
    context = browser.new_context(
        base_url=base_url,
        locale=locale,
        bypass_csp=True,
        viewport={"width": width, "height": 900},
    )
    page = context.new_page()
    response = page.goto(path)
    assert response is not None
    assert response.status == (404 if path.endswith("/no-such-page") else 200)
    assert page.evaluate("document.documentElement.lang") == locale[:2]
    serious = serious_violations(page)
    context.close()
    assert serious == []


def serious_violations(page: Any) -> list[tuple[str, str, list[Any]]]:
    """Run axe-core on the page (its context must bypass CSP); return what is serious."""
    if not AXE.exists():
        missing("node_modules/axe-core (.ci/run installs it with npm ci)")
    page.add_script_tag(content=AXE.read_text("utf-8"))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_month_page_screenshots_at_desktop_and_phone_width(browser: Any, base_url: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1280, 1000), (375, 800)):
        context = browser.new_context(
            viewport={"width": width, "height": height}, base_url=base_url, locale="lv-LV"
        )
        tab = context.new_page()
        tab.goto("/calendar/2022/01")
        path = SCREENSHOTS / f"month-{width}.png"
        tab.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000
        if width == 375:
            # the grid gives way to the list; nothing is wider than the screen
            assert tab.evaluate("document.documentElement.scrollWidth") <= 375
            assert tab.locator("table.month").is_hidden()
            assert tab.locator("ol.events li").count() == 5
        context.close()
    context = browser.new_context(
        viewport={"width": 1280, "height": 1000}, base_url=base_url, locale="en-GB"
    )
    tab = context.new_page()
    tab.goto("/en/calendar/2022/01")
    path = SCREENSHOTS / "month-en-1280.png"
    tab.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    context.close()
    context = browser.new_context(
        viewport={"width": 1280, "height": 1000}, base_url=base_url, locale="lv-LV"
    )
    tab = context.new_page()
    tab.goto("/subscribe?topic=training")
    tab.screenshot(path=str(SCREENSHOTS / "subscribe-1280.png"), full_page=True)
    context.close()


def test_screenshot_folder_is_ignored_by_git() -> None:
    assert "test-output/" in (ROOT / ".gitignore").read_text()
    assert Path(SCREENSHOTS).is_relative_to(ROOT)
