"""The editor in real headless Chromium: what a ministry editor does, end to end.

Each save is checked where subscribers see it: the served `calendar.ics`,
parsed with icalendar and vobject, a moment later (the service's reload).
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import icalendar
import pytest
import vobject

from icalpub.live import Live
from icalpub.service import create_service

from . import test_browser
from .conftest import ROOT, require
from .editing import PASSWORD, add_editor
from .test_browser import SCREENSHOTS, serious_violations

DOCS = ROOT / "docs" / "screenshots"
browser = test_browser.browser  # the page tests' Chromium, shared


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("editor-site")
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
    return folder / "events.yaml"


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    with test_browser.serving(create_service(live=Live(site))) as url:
        yield url


@pytest.fixture
def editor(browser: Any, base_url: str) -> Iterator[Any]:
    context = browser.new_context(
        locale="lv-LV", base_url=base_url, viewport={"width": 1280, "height": 1000}
    )
    tab = context.new_page()
    log_in(tab)
    try:
        yield tab
    finally:
        context.close()


def log_in(tab: Any) -> None:
    tab.goto("/edit/")
    assert "/edit/login" in tab.url
    tab.get_by_label("Vārds vai e-pasts").fill("anna")
    tab.get_by_label("Parole").fill(PASSWORD)
    tab.get_by_role("button", name="Pieteikties").click()
    assert tab.url.endswith("/edit/")


def served_event(
    base_url: str, event_id: str, ready: Callable[[Any], bool], path: str = "calendar.ics"
) -> Any:
    """Return the event's VEVENT from the served calendar once `ready` holds (the reload)."""
    for _ in range(100):
        with urllib.request.urlopen(f"{base_url}/{path}") as response:
            body = response.read()
        calendar = icalendar.Calendar.from_ical(body)
        found = [c for c in calendar.walk("VEVENT") if str(c["UID"]).startswith(f"{event_id}@")]
        if found and ready(found[0]):
            parsed = vobject.readOne(body.decode())  # a second parser agrees
            assert any(v.uid.value.startswith(f"{event_id}@") for v in parsed.vevent_list)
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"{event_id} never reached the served calendar in the wanted state")


def test_create_a_two_day_all_day_training(editor: Any, base_url: str, site: Path) -> None:
    editor.get_by_role("link", name="Jauns notikums").first.click()
    editor.get_by_label("Id (adreses daļa, nekad nemainās)").fill("macibas-2027-02")
    editor.get_by_label("Nosaukums (latviešu)").fill("Mācības pašvaldību darbiniekiem")
    editor.get_by_label("Nosaukums (English)").fill("Training for municipal staff")
    editor.get_by_label("Visu dienu").check()
    editor.get_by_label("Sākuma datums").fill("2027-02-10")
    editor.get_by_label("Pēdējā diena (ieskaitot) vai beigu datums").fill("2027-02-11")
    editor.get_by_label("Vieta (latviešu)").fill("Rīga")
    editor.get_by_label("Mācības").check()
    editor.get_by_role("button", name="Saglabāt").click()
    assert "saved=macibas-2027-02" in editor.url
    assert "Saglabāts: macibas-2027-02" in editor.content()
    text = site.read_text("utf-8")
    assert (
        "  - id: macibas-2027-02\n"
        "    title: {lv: Mācības pašvaldību darbiniekiem, en: Training for municipal staff}\n"
        "    start: 2027-02-10\n    end: 2027-02-11\n    location: Rīga\n"
        "    topics: [training]\n"
    ) in text
    event = served_event(base_url, "macibas-2027-02", lambda e: True)
    assert event.decoded("DTSTART") == dt.date(2027, 2, 10)
    assert event.decoded("DTEND") == dt.date(2027, 2, 12)  # RFC 5545: exclusive
    assert str(event["SUMMARY"]) == "Mācības pašvaldību darbiniekiem"
    english = served_event(base_url, "macibas-2027-02", lambda e: True, "en/calendar.ics")
    assert str(english["SUMMARY"]) == "Training for municipal staff"
    assert english["LOCATION"].params["LANGUAGE"] == "lv"  # no English place given
    assert english.decoded("DTSTART") == dt.date(2027, 2, 10) and english["UID"] == event["UID"]
    log = subprocess.run(
        ["git", "log", "-1", "--format=%an|%s"], cwd=site.parent, capture_output=True, text=True
    )
    assert log.stdout.strip() == "anna|Add macibas-2027-02"


def test_a_weekly_meeting_skips_one_date(editor: Any, base_url: str, site: Path) -> None:
    editor.goto("/edit/new")
    editor.get_by_label("Id (adreses daļa, nekad nemainās)").fill("sanaksme-2027")
    editor.get_by_label("Nosaukums (latviešu)").fill("Darba grupas sanāksme")
    editor.get_by_label("Sākuma datums").fill("2027-01-05")
    editor.get_by_label("Sākuma laiks (ne visas dienas notikumiem)").fill("10:00")
    editor.get_by_label("Beigu laiks").fill("11:30")
    editor.get_by_label("Atkārtojas").select_option("weekly")
    editor.get_by_label("otrdiena").check()
    editor.get_by_label("Beidzas").select_option("count")
    editor.get_by_label("Reižu skaits").fill("6")
    editor.get_by_role("button", name="Saglabāt").click()
    assert "saved=sanaksme-2027" in editor.url, editor.content()
    editor.goto("/edit/events/sanaksme-2027")
    editor.get_by_label("2027-01-19").check()
    editor.get_by_role("button", name="Saglabāt").click()
    assert "saved=sanaksme-2027" in editor.url
    assert "    repeat: FREQ=WEEKLY;BYDAY=TU;COUNT=6\n    except: [2027-01-19]\n" in (
        site.read_text("utf-8")
    )
    event = served_event(base_url, "sanaksme-2027", lambda e: "EXDATE" in e)
    assert [d.dt for d in event["EXDATE"].dts] == [
        dt.datetime(2027, 1, 19, 10, 0, tzinfo=event.decoded("DTSTART").tzinfo)
    ]
    assert int(event["SEQUENCE"]) == 1


def test_cancel_an_event_and_subscribers_see_it_cancelled(
    editor: Any, base_url: str, site: Path
) -> None:
    before = served_event(base_url, "es-diena-2018", lambda e: True)
    editor.goto("/edit/events/es-diena-2018")
    editor.get_by_role("button", name="Atcelt notikumu").click()
    assert "saved=es-diena-2018" in editor.url
    event = served_event(base_url, "es-diena-2018", lambda e: e.get("STATUS") == "CANCELLED")
    assert int(event["SEQUENCE"]) == int(before["SEQUENCE"]) + 1
    row = editor.locator("tr.cancelled", has_text="es-diena-2018")
    editor.goto("/edit/?when=all")
    assert row.count() == 1


def test_a_moved_event_reaches_subscribers_with_a_new_sequence(editor: Any, base_url: str) -> None:
    before = served_event(base_url, "frem-ii-macibas-2018-09", lambda e: True)
    editor.goto("/edit/events/frem-ii-macibas-2018-09")
    editor.get_by_label("Sākuma datums").fill("2018-09-27")
    editor.get_by_label("Pēdējā diena (ieskaitot) vai beigu datums").fill("2018-09-28")
    editor.get_by_role("button", name="Saglabāt").click()
    event = served_event(
        base_url, "frem-ii-macibas-2018-09", lambda e: e.decoded("DTSTART") == dt.date(2018, 9, 27)
    )
    assert int(event["SEQUENCE"]) == int(before["SEQUENCE"]) + 1


def test_two_browsers_in_conflict_lose_nothing(browser: Any, base_url: str, site: Path) -> None:
    contexts = [
        browser.new_context(
            locale="en-GB", base_url=base_url, viewport={"width": 1280, "height": 1000}
        )
        for _ in range(2)
    ]
    first, second = (context.new_page() for context in contexts)
    for tab in (first, second):
        tab.goto("/edit/")
        tab.get_by_label("Name or e-mail").fill("anna")
        tab.get_by_label("Password").fill(PASSWORD)
        tab.get_by_role("button", name="Log in").click()
        tab.goto("/edit/events/skolotaju-seminars-2019-03")
    first.get_by_label("Place (latviešu)").fill("Valmiera")
    second.get_by_label("Title (latviešu)", exact=True).fill("Seminārs skolotājiem (papildināts)")
    first.get_by_role("button", name="Save").click()
    assert "saved=" in first.url
    second.get_by_role("button", name="Save").click()
    assert "Someone else saved this event while you were editing" in second.content()
    conflict = second.locator("section.conflict")
    assert "Valmiera" in conflict.inner_text()
    assert second.get_by_label("Place (latviešu)").input_value() == "Valmiera"
    assert second.get_by_label("Title (latviešu)", exact=True).input_value() == (
        "Seminārs skolotājiem (papildināts)"
    )
    second.get_by_role("button", name="Save").click()
    assert "saved=" in second.url
    text = site.read_text("utf-8")
    assert "location: Valmiera" in text and "title: Seminārs skolotājiem (papildināts)" in text
    for context in contexts:
        context.close()


@pytest.mark.parametrize(
    ("path", "locale"),
    [
        ("/edit/login", "lv-LV"),
        ("/edit/", "lv-LV"),
        ("/edit/events/es-diena-2018", "lv-LV"),
        ("/edit/new", "en-GB"),
        ("/edit/events/es-diena-2018/delete", "en-GB"),
        ("/edit/events/es-diena-2018/history", "lv-LV"),
        ("/edit/settings", "lv-LV"),
        ("/edit/subscribers/", "en-GB"),
    ],
)
def test_axe_finds_no_serious_violations_in_the_editor(
    browser: Any,
    base_url: str,
    path: str,
    locale: str,
) -> None:
    context = browser.new_context(
        base_url=base_url, locale=locale, bypass_csp=True, viewport={"width": 1280, "height": 900}
    )
    tab = context.new_page()
    if path != "/edit/login":
        tab.goto("/edit/login")
        tab.fill("#f-login", "anna")
        tab.fill("#f-password", PASSWORD)
        tab.click("button[type=submit]")
    tab.goto(path)
    serious = serious_violations(tab)
    context.close()
    assert serious == []


def test_the_form_works_from_the_keyboard_and_shows_errors_linked_to_fields(
    editor: Any, site: Path
) -> None:
    before = site.read_bytes()
    editor.goto("/edit/events/es-diena-2018")
    editor.get_by_label("Pēdējā diena (ieskaitot) vai beigu datums").fill("2018-10-01")
    editor.get_by_role("button", name="Saglabāt").focus()
    editor.keyboard.press("Enter")
    summary = editor.locator(".error-summary")
    assert "Beigas ir pirms sākuma;" in summary.inner_text()
    summary.get_by_role("link").first.click()
    assert editor.evaluate("document.activeElement.id") == "f-end_date"
    assert editor.locator("#f-end_date").get_attribute("aria-invalid") == "true"
    assert site.read_bytes() == before


def test_screenshots_of_the_list_and_the_form(editor: Any) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, path in (
        ("editor-list", "/edit/?when=all"),
        ("editor-form", "/edit/events/darba-grupa-2022"),
    ):
        editor.goto(path)
        target = SCREENSHOTS / f"{name}-1280.png"
        editor.screenshot(path=str(target), full_page=name == "editor-list")
        assert target.stat().st_size > 10_000
