"""The editor's API after hand edits of the file, interleaved with its own saves: every
event it gives back is what the file says, versions change exactly for the events whose
text changed, and a save never loses a hand edit."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from icalpub.editor import yamltext
from icalpub.live import Live
from icalpub.service import create_service

from .editing import add_editor


@pytest.fixture
def api(site: Path) -> tuple[Any, dict[str, str]]:
    token = add_editor(site)
    app = create_service(live=Live(site, background=False))
    app.config["TESTING"] = True
    return app.test_client(), {"Authorization": f"Bearer {token}"}


def hand_edit(site: Path, old: str, new: str) -> None:
    text = site.read_text("utf-8")
    assert old in text
    site.write_text(text.replace(old, new, 1), "utf-8")
    stat = site.stat()
    os.utime(site, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))


def versions(client: Any, auth: dict[str, str]) -> dict[str, str]:
    listed = client.get("/edit/api/events", headers=auth)
    assert listed.status_code == 200
    return dict(listed.get_json()["versions"])


def test_hand_edits_between_api_saves_are_kept_and_only_their_versions_change(
    api: tuple[Any, dict[str, str]], site: Path
) -> None:
    client, auth = api
    first = versions(client, auth)
    ids = list(first)
    one, two = ids[0], ids[len(ids) // 2]
    document = yamltext.read(site.read_text("utf-8"))
    old_title = document.values(document.item(two))["title"]
    old_title = old_title if isinstance(old_title, str) else old_title["lv"]
    hand_edit(site, old_title, old_title + "\u00a0(labots ar roku)")
    second = versions(client, auth)
    assert {k for k in ids if first[k] != second[k]} == {two}

    got = client.get(f"/edit/api/events/{one}", headers=auth)
    event = got.get_json()
    event["location"] = "Rīga, Brīvības iela 1"
    put = client.put(
        f"/edit/api/events/{one}", json=event, headers={**auth, "If-Match": got.headers["ETag"]}
    )
    assert put.status_code == 200, put.get_json()
    third = versions(client, auth)
    assert {k for k in ids if second[k] != third[k]} == {one}
    text = site.read_text("utf-8")
    assert "(labots ar roku)" in text and "Brīvības iela 1" in text
    document = yamltext.read(text)
    for event_id in ids:
        shown = client.get(f"/edit/api/events/{event_id}", headers=auth)
        assert shown.headers["ETag"] == f'"{third[event_id]}"'
        assert shown.get_json()["id"] == event_id
    assert document.values(document.item(one))["location"] == "Rīga, Brīvības iela 1"


def test_a_list_emptied_by_hand_then_refilled_is_served_again(site: Path) -> None:
    ticks = iter(range(0, 10_000, 60))  # each request comes a minute after the last
    live = Live(site, background=False, clock=lambda: float(next(ticks)))
    app = create_service(live=live)
    client = app.test_client()
    head = site.read_text("utf-8").split("events:\n")[0] + "events:\n"
    hand_edit(
        site, site.read_text("utf-8"), head + "  - id: a\n    title: A\n    start: 2024-01-02\n"
    )
    assert client.get("/healthz").get_json()["events"] == 1
    hand_edit(site, site.read_text("utf-8"), head)  # every event deleted by hand
    assert client.get("/healthz").get_json()["events"] == 0
    hand_edit(site, head, head + "  - id: b\n    title: B\n    start: 2024-03-04\n")
    health = client.get("/healthz").get_json()
    assert health["last_error"] is None
    assert health["events"] == 1
    assert b"UID:" in client.get("/events/b.ics").data
