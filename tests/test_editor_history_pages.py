"""The history people can read (#25 item 5): every commit that changed the event, whoever made
it, with what changed per field and language, in the calendar's zone and the interface's
language; the current version marked and not restorable; a version previewed, then restored."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from icalpub.editor.changes import FieldChange
from icalpub.editor.event_history import rows, when_text
from icalpub.editor.history import Version
from icalpub.live import Live
from icalpub.service import create_service

from .conftest import ROOT, require
from .editing import add_editor, form_of, hidden, log_in

EVENT = "es-diena-2018"
NOW = dt.datetime(2026, 12, 3, 6, 22, tzinfo=dt.UTC)


def git(folder: Path, *args: str, when: str = "") -> str:
    env = {**os.environ}
    if when:
        env.update(GIT_AUTHOR_DATE=when, GIT_COMMITTER_DATE=when)
    return subprocess.run(
        ["git", *args], cwd=folder, capture_output=True, text=True, check=True, env=env
    ).stdout


@pytest.fixture
def client(site: Path) -> Any:
    """A publisher logged in to a registry with a history made by hand before the editor."""
    require("git")
    folder = site.parent
    git(folder, "init", "-q")
    git(folder, "add", "events.yaml", "events.lock")
    who = ("-c", "user.name=Jānis Ozols", "-c", "user.email=janis@example.lv")
    git(folder, *who, "commit", "-qm", "The registry", when="2026-11-30T09:00:00+00:00")
    text = site.read_text("utf-8")
    site.write_text(text.replace("    location: Visa Latvija\n", "    location: Rīga\n", 1))
    git(folder, *who, "commit", "-qam", "Vieta", when="2026-12-01T12:05:00+00:00")
    add_editor(site)
    app: Flask = create_service(live=Live(site, background=False, now=lambda: NOW))
    app.config["TESTING"] = True
    found = app.test_client()
    assert log_in(found).status_code == 302
    return found


def _rows(page: str) -> list[str]:
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    return re.findall(r"<tr.*?</tr>", body, re.S)


def test_every_commit_that_changed_the_event_is_a_row_with_what_changed_and_who(
    client: Any, site: Path
) -> None:
    form = form_of(client.get(f"/edit/events/{EVENT}").get_data(as_text=True))
    form["summary_en"] = "The EU Anti-Trafficking Day."
    assert client.post(f"/edit/events/{EVENT}", data=form).status_code == 302
    page = client.get(f"/edit/events/{EVENT}/history").get_data(as_text=True)
    found = _rows(page)
    assert len(found) == 3  # the editor's save, the hand edit, the first version
    newest, hand, first = found
    assert "2026. gada 3. decembris, 08:22" in newest  # Riga, in Latvian
    assert ("anna" in newest and "current" in newest) or "pašreizējā" in newest
    assert "Restore" not in newest and "Atjaunot" not in newest and 'name="commit"' not in newest
    assert "(English)" in newest and "<ins>The EU Anti-Trafficking Day.</ins>" in newest
    assert "2026. gada 1. decembris, 14:05" in hand and "Jānis Ozols" in hand
    assert "<del>Visa Latvija</del>" in hand and "<ins>Rīga</ins>" in hand
    assert 'name="commit"' in hand and 'name="commit"' in first
    assert "30. novembris" in first


def test_a_version_is_previewed_then_restored_as_a_new_version(client: Any, site: Path) -> None:
    page = client.get(f"/edit/events/{EVENT}/history").get_data(as_text=True)
    first = _rows(page)[-1]
    commit = re.search(r'name="commit" value="([0-9a-f]{40})"', first)
    assert commit
    before = site.read_bytes()
    preview = client.get(f"/edit/events/{EVENT}/history/{commit.group(1)}")
    assert preview.status_code == 200 and site.read_bytes() == before
    shown = preview.get_data(as_text=True)
    assert "<del>Rīga</del>" in shown and "<ins>Visa Latvija</ins>" in shown
    answer = client.post(
        f"/edit/events/{EVENT}/restore",
        data={
            "csrf_token": hidden(shown, "csrf_token"),
            "version": hidden(shown, "version"),
            "commit": commit.group(1),
        },
    )
    assert answer.status_code == 302
    assert "    location: Visa Latvija\n" in site.read_text("utf-8")
    after = _rows(client.get(f"/edit/events/{EVENT}/history").get_data(as_text=True))
    assert len(after) == 3 and "<ins>Visa Latvija</ins>" in after[0] and "pašreizējā" in after[0]
    log = git(site.parent, "log", "-1", "--format=%an|%s")
    assert log.strip() == f"anna|Restore {EVENT}"


def test_rows_compare_texts_per_language_and_mark_the_current_version() -> None:
    def file(title: str) -> bytes:
        return (
            "calendar: {title: K, base_url: 'https://x.lv/', timezone: Europe/Riga}\n"
            f"events:\n  - id: a\n    title: {title}\n    start: 2026-12-10\n"
        ).encode()

    versions = [
        (
            Version("c3", "b <b@x.lv>", "2026-12-03T08:00:00+00:00", "Edit a"),
            file("{lv: X, en: Y}"),
        ),
        (Version("c2", "b <b@x.lv>", "2026-12-02T08:00:00+00:00", "unrelated"), file("X")),
        (Version("c1", "a <a@x.lv>", "2026-12-01T08:00:00+00:00", "Add a"), file("X")),
    ]
    found = rows(
        versions,
        "a",
        ("lv", "en"),
        {"id": "a", "title": {"lv": "X", "en": "Y"}, "start": "2026-12-10"},
    )
    assert [r.commit for r in found] == ["c3", "c1"]  # c2 did not change the event
    assert found[0].current and not found[1].current
    assert found[0].changes == (FieldChange("title", "en", "", "Y"),)
    assert ("title", "lv", "", "X") in [
        (c.field, c.language, c.old, c.new) for c in found[1].changes
    ]


def test_times_are_in_the_calendars_zone_and_the_interfaces_language() -> None:
    moment = dt.datetime(2026, 12, 3, 6, 22, tzinfo=dt.UTC)
    assert when_text(moment, "Europe/Riga", "lv") == "2026. gada 3. decembris, 08:22"
    assert when_text(moment, "Europe/Riga", "en").startswith("December 3, 2026, 8:22")


def test_an_event_is_read_from_its_own_lines_or_from_the_whole_file_alike() -> None:
    from icalpub.editor.event_history import _Reader
    from icalpub.editor.yamltext import read_bytes

    text = (ROOT / "events.yaml").read_bytes()
    whole = read_bytes(text)
    for item in whole.items:
        assert _Reader(item.id)(text) == whole.values(item), item.id
    # an alias to an anchor outside the event, a comment inside it, a flow mapping
    odd = (
        b"calendar: {title: K, base_url: 'https://x.lv/', timezone: Europe/Riga}\n"
        b"contacts:\n  ministry: &ministry {name: IeM}\n"
        b"events:\n  - id: a\n    title: A\n# a note\n    contact: *ministry\n"
        b"  - {id: b, title: B, start: 2026-12-10}\n"
    )
    document = read_bytes(odd)
    for event_id in ("a", "b"):
        item = document.item(event_id)
        assert item is not None and _Reader(event_id)(odd) == document.values(item)
    assert _Reader("c")(odd) is None
