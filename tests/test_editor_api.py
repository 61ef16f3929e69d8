"""The editor's JSON API: tokens, ETag/If-Match, the validator's messages, conflicts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from icalpub.live import Live
from icalpub.service import create_service
from icalpub.site import audit_path

from .editing import add_editor, log_in


@pytest.fixture
def api(site: Path) -> tuple[Any, dict[str, str]]:
    token = add_editor(site)
    app = create_service(live=Live(site, background=False))
    app.config["TESTING"] = True
    return app.test_client(), {"Authorization": f"Bearer {token}"}


def test_without_a_valid_token_the_api_is_401(api: tuple[Any, dict[str, str]]) -> None:
    client, _ = api
    for headers in ({}, {"Authorization": "Bearer icp_wrong"}, {"Authorization": "Basic eDp5"}):
        response = client.get("/edit/api/events", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_session_cookie_does_not_open_the_api(api: tuple[Any, dict[str, str]]) -> None:
    client, _ = api
    assert log_in(client).status_code == 302
    assert client.get("/edit/").status_code == 200
    assert client.get("/edit/api/events").status_code == 401


def test_get_returns_the_event_as_written_with_its_version(
    api: tuple[Any, dict[str, str]],
) -> None:
    client, auth = api
    response = client.get("/edit/api/events/es-diena-2018", headers=auth)
    assert response.status_code == 200
    event = response.get_json()
    assert event["start"] == "2018-10-18" and event["topics"] == ["campaign"]
    assert event["contact"] == {"name": "Iekšlietu ministrija", "phone": "67829674"}
    assert list(event)[:3] == ["id", "title", "start"]
    listed = client.get("/edit/api/events", headers=auth).get_json()
    assert response.headers["ETag"] == f'"{listed["versions"]["es-diena-2018"]}"'
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get("/edit/api/events/nav-tada", headers=auth).status_code == 404


def test_put_takes_back_what_get_gave_and_changes_nothing(
    api: tuple[Any, dict[str, str]], site: Path
) -> None:
    client, auth = api
    before = site.read_bytes()
    got = client.get("/edit/api/events/frem-ii-macibas-2018-09", headers=auth)
    put = client.put(
        "/edit/api/events/frem-ii-macibas-2018-09",
        json=got.get_json(),
        headers={**auth, "If-Match": got.headers["ETag"]},
    )
    assert put.status_code == 200
    assert site.read_bytes() == before


def test_texts_per_language_go_through_the_api_as_objects(
    api: tuple[Any, dict[str, str]], site: Path
) -> None:
    client, auth = api
    url = "/edit/api/events/es-diena-2023"
    got = client.get(url, headers=auth)
    event = got.get_json()
    assert event["title"] == {
        "lv": "Eiropas Cilvēku tirdzniecības apkarošanas diena 2023",
        "en": "EU Anti-Trafficking Day 2023",
    }
    headers = {**auth, "If-Match": got.headers["ETag"]}
    wrong = client.put(url, json=dict(event, title={"en": "Only English"}), headers=headers)
    assert wrong.status_code == 422
    assert wrong.get_json()["fields"]["title"] == [
        "event 'es-diena-2023' title has no text in 'lv', the default language; "
        "add 'lv: …' — the other languages fall back to it"
    ]
    german = client.put(url, json=dict(event, summary={"lv": "X", "de": "Y"}), headers=headers)
    assert german.status_code == 422
    assert (
        "which is not in calendar.languages (lv, en)" in german.get_json()["fields"]["summary"][0]
    )
    title = {"lv": event["title"]["lv"], "en": "European Anti-Trafficking Day 2023"}
    put = client.put(url, json=dict(event, title=title), headers=headers)
    assert put.status_code == 200
    assert "      en: European Anti-Trafficking Day 2023\n" in site.read_text("utf-8")


def test_put_needs_if_match_and_refuses_a_stale_one(
    api: tuple[Any, dict[str, str]], site: Path
) -> None:
    client, auth = api
    got = client.get("/edit/api/events/es-diena-2018", headers=auth)
    event = dict(got.get_json(), title="Jauns")
    url = "/edit/api/events/es-diena-2018"
    assert client.put(url, json=event, headers=auth).status_code == 428
    first = client.put(url, json=event, headers={**auth, "If-Match": got.headers["ETag"]})
    assert first.status_code == 200 and first.headers["ETag"] != got.headers["ETag"]
    before = site.read_bytes()
    stale = client.put(
        url, json=dict(event, title="Vecs"), headers={**auth, "If-Match": got.headers["ETag"]}
    )
    assert stale.status_code == 412
    assert stale.headers["ETag"] == first.headers["ETag"]
    assert site.read_bytes() == before
    assert "    title: Jauns\n" in site.read_text("utf-8")


def test_invalid_events_are_422_with_messages_per_field(
    api: tuple[Any, dict[str, str]], site: Path
) -> None:
    client, auth = api
    got = client.get("/edit/api/events/es-diena-2018", headers=auth)
    headers = {**auth, "If-Match": got.headers["ETag"]}
    url = "/edit/api/events/es-diena-2018"
    bad = client.put(
        url, json=dict(got.get_json(), end="2018-10-01", topics=["sports"]), headers=headers
    )
    assert bad.status_code == 422
    assert bad.get_json()["fields"] == {
        "end": [
            "event 'es-diena-2018' ends before it starts; "
            "for all-day events 'end' is the last day, inclusive"
        ],
        "topics": [
            "event 'es-diena-2018' has the unknown topic 'sports'; declare it under 'topics:'"
        ],
    }
    unknown = client.put(url, json=dict(got.get_json(), titel="x"), headers=headers)
    assert unknown.status_code == 422
    assert unknown.get_json()["fields"] == {"titel": ["unknown key 'titel'; did you mean 'title'?"]}
    renamed = client.put(url, json=dict(got.get_json(), id="cits"), headers=headers)
    assert renamed.status_code == 422
    assert client.put(url, data="not json", headers=headers).status_code == 400


def test_post_adds_an_event_and_refuses_a_taken_or_deleted_id(
    api: tuple[Any, dict[str, str]], site: Path
) -> None:
    client, auth = api
    event = {
        "id": "jauns-2031",
        "title": "Jauns",
        "start": "2031-02-03 10:00",
        "end": "2031-02-03 12:00",
    }
    created = client.post("/edit/api/events", json=event, headers=auth)
    assert created.status_code == 201
    assert created.headers["Location"] == "/edit/api/events/jauns-2031"
    assert created.get_json() == event
    assert client.post("/edit/api/events", json=event, headers=auth).status_code == 409
    got = client.get("/edit/api/events/jauns-2031", headers=auth)
    url = "/edit/api/events/jauns-2031"
    assert client.delete(url, headers=auth).status_code == 428
    assert client.delete(url, headers={**auth, "If-Match": '"stale"'}).status_code == 412
    assert client.delete(url, headers={**auth, "If-Match": got.headers["ETag"]}).status_code == 204
    again = client.post("/edit/api/events", json=event, headers=auth)
    assert again.status_code == 409 and "deleted" in again.get_json()["error"]
    changes = [json.loads(line)["change"] for line in audit_path(site).read_text().splitlines()]
    assert changes == ["Add jauns-2031", "Delete jauns-2031"]
    editors = {json.loads(line)["editor"] for line in audit_path(site).read_text().splitlines()}
    assert editors == {"anna"}
