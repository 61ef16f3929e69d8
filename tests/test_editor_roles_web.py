"""Roles, drafts and proposals in the editor's pages (SPEC §6): each action by each role,
an author's draft and proposal, a publisher's review (approve, decline, a conflict)."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from icalpub.live import Live
from icalpub.service import create_service

from .conftest import require
from .editing import add_editor, form_of, hidden, log_in

EVENT = "es-diena-2018"
NOW = dt.datetime(2026, 12, 3, 8, 0, tzinfo=dt.UTC)  # the service's clock, fixed


def git(folder: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=folder, capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def app(site: Path) -> Flask:
    require("git")
    folder = site.parent
    git(folder, "init", "-q")
    git(folder, "add", "events.yaml", "events.lock")
    git(folder, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    add_editor(site)
    add_editor(site, "ilze", "ilze@example.lv", role="author")
    found = create_service(live=Live(site, background=False, now=lambda: NOW))
    found.config["TESTING"] = True
    return found


@pytest.fixture
def publisher(app: Flask) -> Any:
    client = app.test_client()
    assert log_in(client).status_code == 302
    return client


@pytest.fixture
def author(app: Flask) -> Any:
    client = app.test_client()
    assert log_in(client, "ilze").status_code == 302
    return client


def _block(site: Path, event_id: str) -> str:
    text = site.read_text("utf-8")
    return text.split(f"- id: {event_id}\n")[1].split("- id:")[0]


def _new_draft(client: Any, event_id: str = "macibas-2026-12") -> Any:
    form = form_of(client.get("/edit/new").get_data(as_text=True))
    form.update(id=event_id, title="Mācības", start_date="2026-12-10", allday="1", draft="1")
    return client.post("/edit/new", data=form)


def _propose(author: Any, location: str) -> str:
    form = form_of(author.get(f"/edit/events/{EVENT}").get_data(as_text=True))
    form["location"] = location
    response = author.post(f"/edit/events/{EVENT}", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    found = re.fullmatch(r"/edit/proposals/([a-z0-9]+)\?proposed=1", response.headers["Location"])
    assert found
    return found.group(1)


def test_an_authors_new_event_is_a_draft_whatever_the_form_says(
    author: Any, site: Path, app: Flask
) -> None:
    page = author.get("/edit/new").get_data(as_text=True)
    assert 'id="f-draft" type="checkbox" checked disabled' in page
    form = form_of(page)
    form.pop("draft", None)  # a hand-made post without the box
    form.update(id="macibas-2026-12", title="Mācības", start_date="2026-12-10", allday="1")
    assert author.post("/edit/new", data=form).status_code == 302
    assert "    draft: true\n" in _block(site, "macibas-2026-12")
    public = app.test_client().get("/events/macibas-2026-12")
    assert public.status_code == 404  # a draft is published nowhere
    listed = author.get("/edit/?when=all").get_data(as_text=True)
    row = re.search(r"<tr>(?:(?!</tr>).)*macibas-2026-12.*?</tr>", listed, re.S)
    assert row and 'class="tag draft"' in row.group(0)
    preview = author.get("/edit/events/macibas-2026-12/preview")
    assert preview.status_code == 200 and preview.headers["Cache-Control"] == "no-store"
    assert "Mācības" in preview.get_data(as_text=True)
    assert app.test_client().get("/edit/events/macibas-2026-12/preview").status_code == 302


def test_a_publisher_publishes_a_draft_and_schedules_it(publisher: Any, site: Path) -> None:
    assert _new_draft(publisher).status_code == 302
    page = publisher.get("/edit/events/macibas-2026-12").get_data(as_text=True)
    form = form_of(page)
    assert form["draft"] == "1"
    form.pop("draft")
    form.update(publish_date="2026-12-07", publish_time="09:00")
    assert publisher.post("/edit/events/macibas-2026-12", data=form).status_code == 302
    block = _block(site, "macibas-2026-12")
    assert "draft" not in block and "    publish_at: 2026-12-07 09:00\n" in block
    listed = publisher.get("/edit/?when=all").get_data(as_text=True)
    assert "published from 2026-12-07 09:00" in listed or "publicēts no 2026-12-07 09:00" in listed


def test_an_author_edits_a_draft_but_cannot_publish_it(author: Any, site: Path) -> None:
    assert _new_draft(author).status_code == 302
    form = form_of(author.get("/edit/events/macibas-2026-12").get_data(as_text=True))
    form["location"] = "Rīga"
    assert author.post("/edit/events/macibas-2026-12", data=form).status_code == 302
    assert "    location: Rīga\n" in _block(site, "macibas-2026-12")
    before = site.read_bytes()
    form = form_of(author.get("/edit/events/macibas-2026-12").get_data(as_text=True))
    form.pop("draft")
    refused = author.post("/edit/events/macibas-2026-12", data=form)
    assert refused.status_code == 403 and site.read_bytes() == before
    assert 'id="e-draft"' in refused.get_data(as_text=True)


def test_an_authors_change_of_a_published_event_waits_and_a_publisher_approves_it(
    author: Any, publisher: Any, site: Path
) -> None:
    before = site.read_bytes()
    proposal = _propose(author, "Rīga, Brīvības iela 1")
    assert site.read_bytes() == before
    mine = author.get(f"/edit/proposals/{proposal}?proposed=1").get_data(as_text=True)
    assert "Approve" not in mine and "Apstiprināt" not in mine
    review = publisher.get(f"/edit/proposals/{proposal}").get_data(as_text=True)
    assert "<del>Visa Latvija</del>" in review and "<ins>Rīga, Brīvības iela 1</ins>" in review
    missing = re.search(r'<div class="warning".*?</div>', review, re.S)
    assert missing and ("English" in missing.group(0) or "angļu" in missing.group(0))
    answer = publisher.post(
        f"/edit/proposals/{proposal}/approve", data={"csrf_token": hidden(review, "csrf_token")}
    )
    assert answer.status_code == 302
    assert "    location: Rīga, Brīvības iela 1\n" in _block(site, EVENT)
    log = git(site.parent, "log", "-1", "--format=%an|%(trailers:key=Approved-by,valueonly)")
    assert log.strip() == "ilze|anna <anna@example.lv>"


def test_a_declined_proposal_shows_its_note_to_the_author(
    author: Any, publisher: Any, site: Path
) -> None:
    proposal = _propose(author, "Cēsis")
    review = publisher.get(f"/edit/proposals/{proposal}").get_data(as_text=True)
    before = site.read_bytes()
    answer = publisher.post(
        f"/edit/proposals/{proposal}/decline",
        data={"csrf_token": hidden(review, "csrf_token"), "note": "Vieta <vēl> nav zināma"},
    )
    assert answer.status_code == 302 and site.read_bytes() == before
    seen = author.get(f"/edit/proposals/{proposal}").get_data(as_text=True)
    assert "Vieta &lt;vēl&gt; nav zināma" in seen


def test_approving_after_the_event_changed_shows_both_versions(
    author: Any, publisher: Any, site: Path
) -> None:
    proposal = _propose(author, "Liepāja")
    form = form_of(publisher.get(f"/edit/events/{EVENT}").get_data(as_text=True))
    form["summary"] = "Jauns kopsavilkums."
    assert publisher.post(f"/edit/events/{EVENT}", data=form).status_code == 302
    review = publisher.get(f"/edit/proposals/{proposal}").get_data(as_text=True)
    assert "Jauns kopsavilkums." in review  # what changed since, on the review page
    saved = site.read_bytes()
    answer = publisher.post(
        f"/edit/proposals/{proposal}/approve", data={"csrf_token": hidden(review, "csrf_token")}
    )
    assert answer.status_code == 409 and site.read_bytes() == saved
    page = answer.get_data(as_text=True)
    merged = form_of(page)
    assert merged["location"] == "Liepāja" and merged["summary"] == "Jauns kopsavilkums."
    assert publisher.post(f"/edit/events/{EVENT}", data=merged).status_code == 302
    block = _block(site, EVENT)
    assert "location: Liepāja" in block and "summary: Jauns kopsavilkums." in block


# (action, what a publisher gets, what an author gets); 403 leaves the file as it was.
MATRIX = [
    ("new event", 302, 302),
    ("edit draft", 302, 302),
    ("publish draft", 302, 403),
    ("edit published", 302, 302),
    ("cancel", 302, 403),
    ("delete page", 200, 403),
    ("delete", 302, 403),
    ("restore", 302, 403),
    ("settings page", 200, 403),
    ("settings", 302, 403),
    ("approve", 302, 403),
    ("decline", 302, 403),
]


@pytest.mark.parametrize(("action", "role"), [(a, r) for a, *_ in MATRIX for r in (0, 1)])
def test_roles_matrix_form(publisher: Any, author: Any, site: Path, action: str, role: int) -> None:
    client = (publisher, author)[role]
    expected = next(row for row in MATRIX if row[0] == action)[1 + role]
    assert _new_draft(publisher, "luma-2026-12").status_code == 302
    page = client.get(f"/edit/events/{EVENT}").get_data(as_text=True)
    token, version = hidden(page, "csrf_token"), hidden(page, "version")
    before = site.read_bytes()
    if action == "new event":
        response = _new_draft(client)
    elif action in ("edit draft", "publish draft"):
        form = form_of(client.get("/edit/events/luma-2026-12").get_data(as_text=True))
        form["location"] = "Rīga"
        if action == "publish draft":
            form.pop("draft")
        response = client.post("/edit/events/luma-2026-12", data=form)
    elif action == "edit published":
        form = form_of(page)
        form["location"] = "Rīga"
        response = client.post(f"/edit/events/{EVENT}", data=form)
    elif action == "cancel":
        data = {"csrf_token": token, "version": version, "status": "cancelled"}
        response = client.post(f"/edit/events/{EVENT}/status", data=data)
    elif action == "delete page":
        response = client.get(f"/edit/events/{EVENT}/delete")
    elif action == "delete":
        data = {"csrf_token": token, "version": version, "confirm": EVENT}
        response = client.post(f"/edit/events/{EVENT}/delete", data=data)
    elif action == "restore":
        first = git(site.parent, "rev-list", "--max-parents=0", "HEAD").strip()
        data = {"csrf_token": token, "version": version, "commit": first}
        response = client.post(f"/edit/events/{EVENT}/restore", data=data)
    elif action == "settings page":
        response = client.get("/edit/settings")
    elif action == "settings":
        data = {"csrf_token": token, "what": "topic", "topic": "seminar", "title_lv": "S"}
        response = client.post("/edit/settings", data=data)
    else:
        proposal = _propose(author, "Rīga")
        before = site.read_bytes()
        response = client.post(
            f"/edit/proposals/{proposal}/{action}", data={"csrf_token": token, "note": "x"}
        )
    assert response.status_code == expected, response.get_data(as_text=True)[:2000]
    if expected == 403:
        assert site.read_bytes() == before
        body = response.get_data(as_text=True)
        assert "publisher" in body or "publicētāj" in body
