"""Review before publishing in real headless Chromium (#25): an author drafts a training and
proposes a change to a published event; a publisher reviews the proposal field by field,
approves it, and publishes the draft. Each step is checked where subscribers look (the
served calendar, parsed), and the pages are photographed (copies in docs/screenshots/)."""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import icalendar
import pytest

from icalpub.live import Live
from icalpub.service import create_service

from . import test_browser
from .conftest import ROOT, require
from .editing import PASSWORD, add_editor
from .test_browser import SCREENSHOTS, serious_violations

browser = test_browser.browser  # the page tests' Chromium, shared
TRAINING = "macibas-par-cilveku-tirdzniecibu-2026-12"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("review-site")
    shutil.copy(ROOT / "events.yaml", folder / "events.yaml")
    shutil.copy(ROOT / "events.lock", folder / "events.lock")
    require("git")
    for command in (
        ["git", "init", "-q"],
        ["git", "add", "."],
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start"],
    ):
        subprocess.run(command, cwd=folder, check=True)
    add_editor(folder / "events.yaml")
    add_editor(folder / "events.yaml", "ilze", "ilze@example.lv", role="author")
    return folder / "events.yaml"


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    with test_browser.serving(create_service(live=Live(site))) as url:
        yield url


def _tab(browser: Any, base_url: str, name: str) -> Any:
    context = browser.new_context(
        locale="lv-LV", base_url=base_url, viewport={"width": 1280, "height": 1000}, bypass_csp=True
    )
    tab = context.new_page()
    tab.goto("/edit/")
    tab.get_by_label("Vārds vai e-pasts").fill(name)
    tab.get_by_label("Parole").fill(PASSWORD)
    tab.get_by_role("button", name="Pieteikties").click()
    assert tab.url.endswith("/edit/")
    return tab


def _served(base_url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base_url}/calendar.ics") as response:
        calendar = icalendar.Calendar.from_ical(response.read())
    return {str(c["UID"]).split("@")[0]: c for c in calendar.walk("VEVENT")}


def _until(base_url: str, ready: Any) -> dict[str, Any]:
    """The served calendar once `ready` holds (the service reloads a moment after a save)."""
    for _ in range(100):
        found = _served(base_url)
        if ready(found):
            return found
        time.sleep(0.1)
    raise AssertionError("the served calendar never reached the wanted state")


def _shot(tab: Any, name: str) -> None:
    """Photograph the page into test-output/ (docs/screenshots/ keeps a copy, updated by hand:
    a test run leaves the work tree as it was)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}-1280.png"
    tab.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 10_000


def test_an_author_drafts_and_proposes_a_publisher_reviews_and_publishes(
    browser: Any, base_url: str, site: Path
) -> None:
    author = _tab(browser, base_url, "ilze")
    # The author drafts a training: no id typed, the draft box ticked and fixed.
    author.get_by_role("link", name="Jauns notikums").first.click()
    draft_box = author.get_by_label("Melnraksts: redzams tikai redaktorā, netiek publicēts")
    assert draft_box.is_checked() and draft_box.is_disabled()
    author.get_by_label("Nosaukums (latviešu)").fill("Mācības par cilvēku tirdzniecību")
    author.get_by_label("Visu dienu").check()
    author.get_by_label("Sākuma datums").fill("2026-12-10")
    author.get_by_label("Pēdējā diena (ieskaitot) vai beigu datums").fill("2026-12-11")
    author.get_by_label("Vieta (latviešu)").fill("Rīga")
    # The id the server suggests is shown as the title and date are typed, and can be edited.
    author.wait_for_function(
        f"document.getElementById('f-id').value === '{TRAINING}'", timeout=10_000
    )
    author.get_by_role("button", name="Saglabāt").click()
    assert f"saved={TRAINING}" in author.url
    assert f"  - id: {TRAINING}\n" in site.read_text("utf-8")
    assert "Saglabāts kā melnraksts" in author.content()
    row = author.locator("tr", has=author.get_by_text(TRAINING))
    assert "melnraksts" in row.inner_text()
    _shot(author, "review-author-list")
    assert TRAINING not in _served(base_url)  # a draft is published nowhere
    # The author proposes a new place for a published event; the file does not change.
    before = site.read_bytes()
    author.goto("/edit/events/es-diena-2018")
    assert "jūsu izmaiņas nonāk pie publicētāja" in author.content()
    author.get_by_label("Vieta (latviešu)").fill("Rīga, Brīvības iela 1")
    author.get_by_role("button", name="Saglabāt").click()
    assert "/edit/proposals/" in author.url and "proposed=1" in author.url
    assert "saglabātas kā priekšlikums" in author.content()
    assert site.read_bytes() == before
    _shot(author, "review-author-proposal")
    author.context.close()

    publisher = _tab(browser, base_url, "anna")
    publisher.get_by_role("link", name="Priekšlikumi").click()
    publisher.get_by_role("link", name="es-diena-2018").click()
    changes = publisher.locator("table.changes").inner_text()
    assert "Visa Latvija" in changes and "Rīga, Brīvības iela 1" in changes
    assert "Trūkst tulkojuma" in publisher.content()  # no English place
    assert serious_violations(publisher) == []
    _shot(publisher, "review-publisher-proposal")
    publisher.get_by_role("button", name="Apstiprināt un publicēt").click()
    assert "saved=es-diena-2018" in publisher.url
    served = _until(
        base_url, lambda found: str(found["es-diena-2018"]["LOCATION"]) == "Rīga, Brīvības iela 1"
    )
    assert TRAINING not in served
    log = subprocess.run(
        ["git", "log", "-1", "--format=%an|%(trailers:key=Approved-by,valueonly)"],
        cwd=site.parent,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert log == "ilze|anna <anna@example.lv>"
    # The publisher publishes the draft.
    publisher.goto(f"/edit/events/{TRAINING}")
    publisher.get_by_label("Melnraksts: redzams tikai redaktorā, netiek publicēts").uncheck()
    publisher.get_by_role("button", name="Saglabāt").click()
    assert f"saved={TRAINING}" in publisher.url
    served = _until(base_url, lambda found: TRAINING in found)
    assert str(served[TRAINING]["SUMMARY"]) == "Mācības par cilvēku tirdzniecību"
    # The history says who changed what, in Latvian.
    publisher.goto("/edit/events/es-diena-2018/history")
    current = publisher.locator("tr.current").inner_text()
    assert "pašreizējā versija" in current and "ilze" in current
    assert "Rīga, Brīvības iela 1" in current
    assert serious_violations(publisher) == []
    _shot(publisher, "review-history")
    publisher.context.close()
