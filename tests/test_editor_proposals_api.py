"""Roles and proposals through the API (SPEC §6): an author's PUT on a published event is a
proposal (202), a publisher approves it (one commit by the author, Approved-by the publisher)
or declines it with a note the author reads; 403 for what a role may not do."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from icalpub.live import Live
from icalpub.service import create_service

from .conftest import require
from .editing import add_editor

EVENT = "es-diena-2018"


def git(folder: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=folder, capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def team(site: Path) -> tuple[Any, dict[str, str], dict[str, str]]:
    """A client, a publisher's (anna) and an author's (ilze) API headers."""
    publisher = add_editor(site)
    author = add_editor(site, "ilze", "ilze@example.lv", role="author")
    app = create_service(live=Live(site, background=False))
    app.config["TESTING"] = True
    return (
        app.test_client(),
        {"Authorization": f"Bearer {publisher}"},
        {"Authorization": f"Bearer {author}"},
    )


def _event(
    client: Any, headers: dict[str, str], event_id: str = EVENT
) -> tuple[dict[str, Any], str]:
    response = client.get(f"/edit/api/events/{event_id}", headers=headers)
    assert response.status_code == 200
    return response.get_json(), response.headers["ETag"]


def _put(client: Any, headers: dict[str, str], body: dict[str, Any], etag: str) -> Any:
    return client.put(
        f"/edit/api/events/{body['id']}", json=body, headers={**headers, "If-Match": etag}
    )


def _propose_location(client: Any, author: dict[str, str], location: str) -> dict[str, Any]:
    body, etag = _event(client, author)
    body["location"] = location
    response = _put(client, author, body, etag)
    assert response.status_code == 202, response.get_json()
    found: dict[str, Any] = response.get_json()["proposal"]
    assert response.headers["Location"] == f"/edit/api/proposals/{found['id']}" == found["url"]
    return found


def test_an_authors_put_on_a_published_event_is_a_proposal_and_the_file_is_unchanged(
    team: tuple[Any, dict[str, str], dict[str, str]], site: Path
) -> None:
    client, _, author = team
    before = site.read_bytes(), site.with_suffix(".lock").read_bytes()
    proposal = _propose_location(client, author, "Rīga, Brīvības iela 1")
    assert (site.read_bytes(), site.with_suffix(".lock").read_bytes()) == before
    assert proposal["status"] == "open" and proposal["author"] == "ilze"
    assert proposal["before"]["location"] == "Visa Latvija"
    assert proposal["after"]["location"] == "Rīga, Brīvības iela 1"
    folder = site.parent / ".events.proposals"
    assert (folder / f"{proposal['id']}.json").is_file()
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "*"
    mine = client.get(proposal["url"], headers=author).get_json()
    assert mine["id"] == proposal["id"]


def test_a_proposal_that_would_be_invalid_is_422_and_not_kept(
    team: tuple[Any, dict[str, str], dict[str, str]], site: Path
) -> None:
    client, publisher, author = team
    body, etag = _event(client, author)
    body["end"] = "2018-10-01"  # before the start
    response = _put(client, author, body, etag)
    assert response.status_code == 422 and "end" in response.get_json()["fields"]
    assert client.get("/edit/api/proposals", headers=publisher).get_json()["proposals"] == []


def test_a_publisher_approves_one_commit_by_the_author_approved_by_the_publisher(
    team: tuple[Any, dict[str, str], dict[str, str]], site: Path
) -> None:
    require("git")
    folder = site.parent
    git(folder, "init", "-q")
    git(folder, "add", "events.yaml", "events.lock")
    git(folder, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    client, publisher, author = team
    proposal = _propose_location(client, author, "Rīga")
    offered = git(folder, "status", "--porcelain", "--untracked-files=all")
    assert "editors.toml" in offered and "proposals" not in offered  # git never offers them
    listed = client.get("/edit/api/proposals?status=open", headers=publisher).get_json()
    assert [p["id"] for p in listed["proposals"]] == [proposal["id"]]
    answer = client.post(f"{proposal['url']}/approve", headers=publisher)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "approved"
    assert answer.get_json()["decided_by"] == "anna <anna@example.lv>"
    assert _event(client, publisher)[0]["location"] == "Rīga"
    log = git(folder, "log", "-1", "--format=%an <%ae>%n%B")
    assert log.splitlines()[0] == "ilze <ilze@example.lv>"
    assert log.splitlines()[1] == f"Edit {EVENT}: location"
    trailers = git(folder, "log", "-1", "--format=%(trailers:key=Approved-by,valueonly)")
    assert trailers.strip() == "anna <anna@example.lv>"
    assert int(git(folder, "rev-list", "--count", "HEAD")) == 2
    again = client.post(f"{proposal['url']}/approve", headers=publisher)
    assert again.status_code == 409 and "approved already" in again.get_json()["error"]


def test_a_declined_proposal_changes_nothing_and_its_author_reads_the_note(
    team: tuple[Any, dict[str, str], dict[str, str]], site: Path
) -> None:
    client, publisher, author = team
    before = site.read_bytes()
    proposal = _propose_location(client, author, "Cēsis")
    note = "Vieta vēl nav apstiprināta"
    answer = client.post(f"{proposal['url']}/decline", json={"note": note}, headers=publisher)
    assert answer.status_code == 200 and answer.get_json()["status"] == "declined"
    assert site.read_bytes() == before
    seen = client.get(proposal["url"], headers=author).get_json()
    assert (seen["status"], seen["note"], seen["decided_by"]) == (
        "declined",
        note,
        "anna <anna@example.lv>",
    )
    late = client.post(f"{proposal['url']}/approve", headers=publisher)
    assert late.status_code == 409


def test_approving_a_proposal_whose_event_changed_since_answers_both_and_saves_nothing(
    team: tuple[Any, dict[str, str], dict[str, str]], site: Path
) -> None:
    client, publisher, author = team
    proposal = _propose_location(client, author, "Liepāja")
    body, etag = _event(client, publisher)
    body["location"] = "Daugavpils"
    assert _put(client, publisher, body, etag).status_code == 200
    saved = site.read_bytes()
    answer = client.post(f"{proposal['url']}/approve", headers=publisher)
    assert answer.status_code == 409
    data = answer.get_json()
    assert data["current"]["location"] == "Daugavpils"
    assert data["proposed"]["location"] == "Liepāja"
    assert site.read_bytes() == saved
    assert client.get(proposal["url"], headers=publisher).get_json()["status"] == "open"


# Each API action by each role: what it answers.
MATRIX = [
    # (action, publisher, author)
    ("put published", 200, 202),
    ("put draft", 200, 200),
    ("publish draft", 200, 403),
    ("post draft", 201, 201),
    ("post published", 201, 403),
    ("delete", 204, 403),
    ("list proposals", 200, 200),
    ("approve", 200, 403),
    ("decline", 200, 403),
]
DRAFT = {"id": "macibas-2026-12", "title": "Mācības", "start": "2026-12-10", "draft": True}


@pytest.mark.parametrize(("action", "role"), [(a, r) for a, *_ in MATRIX for r in (0, 1)])
def test_roles_matrix_api(
    team: tuple[Any, dict[str, str], dict[str, str]], site: Path, action: str, role: int
) -> None:
    client, publisher, author = team
    expected = next(row for row in MATRIX if row[0] == action)[1 + role]
    headers = (publisher, author)[role]
    assert client.post("/edit/api/events", json=DRAFT, headers=publisher).status_code == 201
    before = site.read_bytes()
    if action in ("put published", "put draft", "publish draft"):
        event_id = EVENT if action == "put published" else DRAFT["id"]
        body, etag = _event(client, headers, event_id)
        body["location"] = "Rīga"
        if action == "publish draft":
            del body["draft"]
        response = _put(client, headers, body, etag)
    elif action.startswith("post"):
        body = {**DRAFT, "id": "cits-2026-12"}
        if action == "post published":
            del body["draft"]
        response = client.post("/edit/api/events", json=body, headers=headers)
    elif action == "delete":
        etag = _event(client, headers)[1]
        response = client.delete(f"/edit/api/events/{EVENT}", headers={**headers, "If-Match": etag})
    elif action == "list proposals":
        response = client.get("/edit/api/proposals", headers=headers)
    else:
        proposal = _propose_location(client, author, "Rīga")
        before = site.read_bytes()
        response = client.post(f"{proposal['url']}/{action}", data=json.dumps({}), headers=headers)
    assert response.status_code == expected, response.get_json()
    if expected == 403:
        assert site.read_bytes() == before
        assert response.get_json()["error"].startswith(("Only a publisher", "An author"))
