"""Unchanged polls answered before Flask: the same answers and counts as the Flask view."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import Client

from icalpub.live import Live
from icalpub.service import create_service
from icalpub.web.polls import Polls

from .conftest import FakeClock

PATHS = [
    "/calendar.ics",
    "/feed.atom",
    "/topics/training.json",
    "/en/calendar.ics",
    "/en/topics/meeting.rss",
]
ENCODINGS = [None, "gzip", "gzip;q=0", "br, gzip;q=0.5", "identity;q=0", "*"]


class Recorder:
    """A counter that only records what it is asked to count."""

    def __init__(self) -> None:
        self.polls: list[tuple[str, str, str]] = []

    def count(self, resource: str, address: str, user_agent: str) -> None:
        self.polls.append((resource, address, user_agent))

    def due(self) -> bool:
        return False

    def flush(self) -> None:  # pragma: no cover - never due
        pass


@pytest.fixture
def app(site: Path) -> Flask:
    return create_service(live=Live(site, background=False), editor=False)


def answer(
    wsgi: Any, path: str, method: str, headers: dict[str, str]
) -> tuple[str, list[Any], bytes]:
    response = Client(wsgi).open(path, method=method, headers=headers)
    return response.status, list(response.headers.items()), response.get_data()


def tags_for(app: Flask, path: str) -> list[str]:
    etag = Client(app).get(path).headers["ETag"]
    gz = etag[:-1] + '-gz"'
    return [etag, gz, f"W/{etag}", "*", f'"other", {gz}', '"other"', ""]


def test_the_fast_path_is_installed_and_answers_a_poll_without_the_view(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(app.wsgi_app, Polls)
    etag = Client(app).get("/calendar.ics").headers["ETag"]
    monkeypatch.setattr(app.wsgi_app, "app", None)  # Flask is out of reach
    response = Client(app).get("/calendar.ics", headers={"If-None-Match": etag})
    assert response.status_code == 304 and response.get_data() == b""


def test_every_poll_gets_the_same_answer_and_count_as_from_the_flask_view(app: Flask) -> None:
    fast = app.wsgi_app
    assert isinstance(fast, Polls)
    flask_only = fast.app
    seen = 0
    for path in PATHS:
        for tag, encoding, method in itertools.product(
            tags_for(app, path), ENCODINGS, ("GET", "HEAD")
        ):
            headers = {"User-Agent": "Thunderbird/115.0"}
            if tag:
                headers["If-None-Match"] = tag
            if encoding is not None:
                headers["Accept-Encoding"] = encoding
            counts = []
            answers = []
            for wsgi in (fast, flask_only):
                recorder = Recorder()
                app.extensions["icalpub"].counter = recorder
                answers.append(answer(wsgi, path, method, headers))
                counts.append(recorder.polls)
            assert answers[0] == answers[1], (path, tag, encoding, method)
            assert counts[0] == counts[1], (path, tag, encoding, method)
            seen += answers[0][0].startswith("304")
    assert seen > 100  # most of these are 304s, answered by the fast path


def test_a_poll_with_a_query_or_of_an_event_file_goes_to_flask(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    union = Client(app).get("/calendar.ics?topic=training&topic=project").headers["ETag"]
    event = Client(app).get("/events/es-diena-2018.ics").headers["ETag"]
    fast = app.wsgi_app
    assert isinstance(fast, Polls)
    called: list[str] = []
    inner = fast.app

    def flask(environ: dict[str, Any], start_response: Any) -> Any:
        called.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    monkeypatch.setattr(fast, "app", flask)
    client = Client(app)
    assert (
        client.get(
            "/calendar.ics?topic=training&topic=project", headers={"If-None-Match": union}
        ).status_code
        == 304
    )
    assert (
        client.get("/events/es-diena-2018.ics", headers={"If-None-Match": event}).status_code == 304
    )
    assert client.get("/de/calendar.ics", headers={"If-None-Match": "*"}).status_code == 404
    assert called == ["/calendar.ics", "/events/es-diena-2018.ics", "/de/calendar.ics"]


def test_a_changed_publication_is_not_answered_with_the_old_etag(
    site: Path, clock: FakeClock
) -> None:
    app = create_service(live=Live(site, background=False, clock=clock), editor=False)
    etag = Client(app).get("/calendar.ics").headers["ETag"]
    text = site.read_text("utf-8")
    old = "title: Eiropas Cilvēku tirdzniecības apkarošanas diena 2021"
    site.write_text(text.replace(old, "title: Jauns", 1), "utf-8")
    clock.advance()  # the next poll sees the file changed, and the fast path the new ETag
    response = Client(app).get("/calendar.ics", headers={"If-None-Match": etag})
    assert response.status_code == 200 and b"SUMMARY:Jauns" in response.get_data()
