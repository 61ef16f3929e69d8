"""The live service's feed URLs: static-build bytes, caching headers, 304, gzip, errors, reload."""

from __future__ import annotations

import datetime as dt
import gc
import gzip
import logging
from pathlib import Path
from typing import Any

import icalendar
import pytest
from flask.testing import FlaskClient

from icalpub import live as live_module
from icalpub.errors import RegistryError
from icalpub.live import Live
from icalpub.service import create_service
from icalpub.settings import Settings
from icalpub.snapshot import Snapshot

from .conftest import ROOT, FakeClock

EXPECTED = ROOT / "tests" / "expected"
PATHS = sorted(
    str(p.relative_to(EXPECTED))
    for p in EXPECTED.rglob("*")
    if p.suffix in {".ics", ".rss", ".atom", ".json"} and p.name != "index.json"
)
TYPES = {
    "ics": "text/calendar; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}


@pytest.mark.parametrize("path", PATHS)
def test_every_url_serves_the_static_build_bytes(client: FlaskClient, path: str) -> None:
    response = client.get("/" + path)
    assert response.status_code == 200
    assert response.data == (EXPECTED / path).read_bytes()
    assert response.headers["Content-Type"] == TYPES[path.rsplit(".", 1)[1]]
    assert response.headers["ETag"].startswith('"') and len(response.headers["ETag"]) == 34
    assert response.headers["Cache-Control"] == "public, max-age=43200"
    assert response.headers["Vary"] == "Accept-Encoding"
    assert response.headers["Last-Modified"].endswith(" GMT")


def test_etag_is_the_same_after_a_restart(site: Path, client: FlaskClient) -> None:
    first = client.get("/calendar.ics").headers["ETag"]
    again = create_service(Settings.from_environment(registry=site)).test_client()
    assert again.get("/calendar.ics").headers["ETag"] == first


def test_if_none_match_and_if_modified_since_answer_304(client: FlaskClient) -> None:
    response = client.get("/feed.atom")
    etag, modified = response.headers["ETag"], response.headers["Last-Modified"]
    conditional = client.get("/feed.atom", headers={"If-None-Match": etag})
    assert conditional.status_code == 304 and conditional.data == b""
    assert conditional.headers["ETag"] == etag
    assert client.get("/feed.atom", headers={"If-None-Match": f'"x", W/{etag}'}).status_code == 304
    assert client.get("/feed.atom", headers={"If-None-Match": "*"}).status_code == 304
    assert client.get("/feed.atom", headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get("/feed.atom", headers={"If-Modified-Since": modified}).status_code == 304
    earlier = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert client.get("/feed.atom", headers={"If-Modified-Since": earlier}).status_code == 200


@pytest.mark.parametrize("header", ["If-None-Match", "If-Modified-Since"])
@pytest.mark.parametrize("value", ["", "garbage", "Mon, 99 Foo 2001", '"unterminated', "\x7f"])
def test_malformed_conditionals_are_ignored_not_errors(
    client: FlaskClient, header: str, value: str
) -> None:
    assert client.get("/calendar.ics", headers={header: value}).status_code == 200


def test_gzip_for_clients_that_accept_it(client: FlaskClient) -> None:
    response = client.get("/calendar.ics", headers={"Accept-Encoding": "gzip, deflate"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.data) == (EXPECTED / "calendar.ics").read_bytes()
    plain_etag = client.get("/calendar.ics").headers["ETag"]
    assert response.headers["ETag"] != plain_etag  # a strong ETag names one representation
    again = client.get(
        "/calendar.ics",
        headers={"Accept-Encoding": "gzip", "If-None-Match": response.headers["ETag"]},
    )
    assert again.status_code == 304


def test_head_has_headers_and_no_body(client: FlaskClient) -> None:
    response = client.head("/calendar.ics")
    assert response.status_code == 200
    assert response.data == b""
    assert int(response.headers["Content-Length"]) == (EXPECTED / "calendar.ics").stat().st_size


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_other_methods_are_405(client: FlaskClient, method: str) -> None:
    assert client.open("/calendar.ics", method=method).status_code == 405


def test_topic_query_equals_the_topic_file(client: FlaskClient) -> None:
    one = client.get("/calendar.ics?topic=training")
    assert one.data == (EXPECTED / "topics" / "training.ics").read_bytes()


def test_topic_union_is_canonical_and_cached(client: FlaskClient, app: object) -> None:
    a = client.get("/calendar.ics?topic=training&topic=project&topic=training")
    b = client.get("/calendar.ics?topic=project&topic=training")
    assert a.status_code == 200 and a.data == b.data
    assert a.headers["ETag"] == b.headers["ETag"]
    uids = {str(e["UID"]) for e in icalendar.Calendar.from_ical(a.data).walk("VEVENT")}
    assert "frem-ii-macibas-2018-09@calendar.example.lv" in uids
    assert "es-diena-2018@calendar.example.lv" not in uids
    served = app.extensions["icalpub"].live.current()  # type: ignore[attr-defined]
    assert served.on_demand.keys() == [("ics", ("project", "training"))]


def test_a_thousand_topic_parameters_is_400(client: FlaskClient) -> None:
    query = "&".join(["topic=training"] * 1000)
    response = client.get(f"/calendar.ics?{query}")
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_unknown_topic_is_404_naming_the_known_ones(client: FlaskClient) -> None:
    for url in ("/topics/trainng.ics", "/feed.rss?topic=trainng"):
        response = client.get(url)
        assert response.status_code == 404
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert response.text == (
            "Unknown topic 'trainng'. Known topics: training, project, campaign, meeting, "
            "conference.\n"
        )


def test_unknown_event_is_404(client: FlaskClient) -> None:
    response = client.get("/events/nope.ics")
    assert response.status_code == 404
    assert "No event has the id 'nope'." in response.text


def test_event_download_has_content_disposition(client: FlaskClient) -> None:
    response = client.get("/events/es-diena-2018.ics")
    assert response.headers["Content-Disposition"] == 'attachment; filename="es-diena-2018.ics"'
    assert response.data == (EXPECTED / "events" / "es-diena-2018.ics").read_bytes()


def test_healthz_reports_ok(client: FlaskClient) -> None:
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok"
    assert body["events"] == 17
    assert body["ledger"] == "current"
    assert body["last_error"] is None
    assert len(body["version"]) == 16


def test_broken_file_keeps_serving_the_last_good_version(
    site: Path, client: FlaskClient, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    before = client.get("/calendar.ics")
    good = site.read_text("utf-8")
    site.write_text(good.replace("start: 2018-09-25", "strat: 2018-09-25"), "utf-8")
    clock.advance()
    with caplog.at_level(logging.ERROR, logger="icalpub"):
        during = client.get("/calendar.ics")
    assert during.data == before.data
    health = client.get("/healthz").get_json()
    assert health["status"] == "degraded"
    assert any("unknown key 'strat'" in line for line in health["last_error"])
    assert f"{site}:38:5: error: unknown key 'strat'" in caplog.text
    # fixed, with one more event
    site.write_text(
        good + ("\n  - id: new-event\n    title: Jauns notikums\n    start: 2024-01-10\n"), "utf-8"
    )
    clock.advance()
    after = client.get("/calendar.ics")
    assert after.headers["ETag"] != before.headers["ETag"]
    assert b"UID:new-event@calendar.example.lv" in after.data
    health = client.get("/healthz").get_json()
    assert health["status"] == "ok" and health["events"] == 18
    assert health["ledger"] == "behind"


def test_no_reload_without_a_change(site: Path, app: object, clock: FakeClock) -> None:
    live: Live = app.extensions["icalpub"].live  # type: ignore[attr-defined]
    served = live.current()
    clock.advance(5)
    assert live.current() is served


def test_an_edit_moves_last_modified_forward_and_sequence_up(
    site: Path, client: FlaskClient, clock: FakeClock
) -> None:
    import email.utils
    import os

    before = client.get("/events/es-diena-2018.ics")
    site.write_text(
        site.read_text("utf-8").replace(
            "Eiropas Savienības Cilvēku tirdzniecības apkarošanas diena\n",
            "Eiropas Savienības Cilvēku tirdzniecības apkarošanas diena (labots)\n",
        ),
        "utf-8",
    )
    os.utime(site, (2_000_000_000, 2_000_000_000))  # a clock that was wrong: 2033-05-18
    clock.advance()
    started = dt.datetime.now(dt.UTC).replace(microsecond=0)
    after = client.get("/events/es-diena-2018.ics")
    event = icalendar.Calendar.from_ical(after.data).walk("VEVENT")[0]
    assert event["SEQUENCE"] == 1
    # seen when the service loaded it, not at the future modification time (SPEC §5)
    assert started <= event.decoded("LAST-MODIFIED") <= dt.datetime.now(dt.UTC)
    lm = email.utils.parsedate_to_datetime(after.headers["Last-Modified"])
    assert lm > email.utils.parsedate_to_datetime(before.headers["Last-Modified"])


def test_invalid_registry_at_start_up_refuses_to_start(tmp_path: Path) -> None:
    path = tmp_path / "events.yaml"
    path.write_text("calendar: {title: X}\nevents: []\n")
    with pytest.raises(RegistryError, match="calendar has no 'base_url'"):
        create_service(Settings.from_environment(registry=path))


def test_a_replacement_worker_serves_the_last_good_version_while_the_file_is_broken(
    site: Path, client: FlaskClient, state_dir: Path
) -> None:
    good = client.get("/calendar.ics")
    site.write_text(site.read_text("utf-8").replace("events:\n", "events: [\n"), "utf-8")
    # A worker started now, under the same server (same parent process), as gunicorn
    # does after a crash: the file is broken, the last good version is served.
    live = Live(site, background=False, snapshot=Snapshot(site, state_dir))
    replacement = create_service(live=live).test_client()
    again = replacement.get("/calendar.ics")
    assert again.status_code == 200
    assert again.data == good.data
    assert again.headers["ETag"] == good.headers["ETag"]
    health = replacement.get("/healthz").get_json()
    assert health["status"] == "degraded"
    assert "YAML syntax" in health["last_error"][0]


def test_a_new_server_with_a_broken_file_still_refuses_to_start(
    site: Path, client: FlaskClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    client.get("/calendar.ics")
    site.write_text(site.read_text("utf-8").replace("events:\n", "events: [\n"), "utf-8")
    monkeypatch.setenv("ICALPUB_STATE_DIR", str(tmp_path / "another-server"))
    with pytest.raises(RegistryError, match="YAML syntax"):
        create_service(Settings.from_environment(registry=site))


def test_if_modified_since_in_the_future_is_ignored(client: FlaskClient) -> None:
    future = "Fri, 01 Jan 2100 00:00:00 GMT"
    assert client.get("/feed.atom", headers={"If-Modified-Since": future}).status_code == 200


def test_the_cycle_collector_is_paused_only_while_a_reload_compiles(
    site: Path, client: FlaskClient, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    real = live_module.compile_served

    def recording(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(live_module, "compile_served", recording)
    site.write_text(site.read_text("utf-8") + "\n# edited\n", "utf-8")
    clock.advance()
    assert client.get("/calendar.ics").status_code == 200
    assert seen == [False]
    assert gc.isenabled()


def test_cancelling_an_event_raises_its_sequence_in_the_calendar(
    site: Path, client: FlaskClient, clock: FakeClock
) -> None:
    def vevent(data: bytes) -> icalendar.Event:
        found = icalendar.Calendar.from_ical(data).walk("VEVENT")
        return next(e for e in found if str(e["UID"]).startswith("es-diena-2018@"))

    before = vevent(client.get("/calendar.ics").data)
    assert before["STATUS"] == "CONFIRMED"
    text = site.read_text("utf-8")
    start = text.index("  - id: es-diena-2018\n")
    site.write_text(
        text[:start] + "  - id: es-diena-2018\n    status: cancelled\n" + text[start + 22 :],
        "utf-8",
    )
    clock.advance()
    after = vevent(client.get("/calendar.ics").data)
    assert after["STATUS"] == "CANCELLED"
    assert after["SEQUENCE"] == before["SEQUENCE"] + 1
    assert str(after["SUMMARY"]).startswith("Atcelts: ")
    assert after.decoded("LAST-MODIFIED") > before.decoded("LAST-MODIFIED")


def test_last_modified_never_goes_backwards_across_edit_delete_and_restart(
    site: Path, clock: FakeClock
) -> None:
    import email.utils
    import os

    def served_last_modified(app_client: FlaskClient) -> dt.datetime:
        header = app_client.get("/calendar.ics").headers["Last-Modified"]
        return email.utils.parsedate_to_datetime(header)

    client = create_service(live=Live(site, background=False, clock=clock)).test_client()
    seen = [served_last_modified(client)]
    text = site.read_text("utf-8")
    # An edit saved with an old modification time (a copy that kept its times).
    site.write_text(text.replace("Rīgā notiek mācības", "Rīgā notika mācības", 1), "utf-8")
    os.utime(site, (1_000_000_000, 1_000_000_000))  # 2001
    clock.advance()
    seen.append(served_last_modified(client))
    # A deletion, saved later.
    start = text.index("  - id: es-diena-2018\n")
    end = text.index("  - id: ", start + 10)
    site.write_text(text[:start] + text[end:], "utf-8")
    os.utime(site, (1_000_000_100, 1_000_000_100))
    clock.advance()
    seen.append(served_last_modified(client))
    # A restart of the service on the same files.
    restarted = create_service(live=Live(site, background=False, clock=clock)).test_client()
    seen.append(served_last_modified(restarted))
    assert seen == sorted(seen), seen


def test_no_reload_when_the_utc_and_calendar_dates_differ(site: Path, clock: FakeClock) -> None:
    """Regression: the first check compared the UTC date with Riga's (a reload 21:00-24:00 UTC)."""
    late = dt.datetime(2026, 11, 29, 22, 30, tzinfo=dt.UTC)  # already 30 November in Riga
    live = Live(site, background=False, clock=clock, now=lambda: late)
    served = live.current()
    clock.advance(5)
    assert live.current() is served
    assert live.today() == dt.date(2026, 11, 30)


@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        (None, "identity"),
        ("", "identity"),
        ("gzip", "gzip"),
        ("gzip;q=0", "identity"),
        ("gzip;q=0, identity", "identity"),
        ("*", "gzip"),
        ("*;q=0, identity", "identity"),
        ("identity;q=0, gzip", "gzip"),
        ("gzip;q=0.4, identity;q=0.8", "identity"),
        ("x-gzip", "gzip"),
        ("br", "identity"),
        ("identity;q=0", None),
        ("*;q=0", None),
    ],
)
def test_accept_encoding_is_read_with_its_q_values(
    client: FlaskClient, accept: str | None, coding: str | None
) -> None:
    headers = {} if accept is None else {"Accept-Encoding": accept}
    response = client.get("/calendar.ics", headers=headers)
    plain = (ROOT / "tests" / "expected" / "calendar.ics").read_bytes()
    assert response.headers["Vary"] == "Accept-Encoding"
    if coding is None:
        assert response.status_code == 406
        assert "Accept-Encoding" in response.get_data(as_text=True)
        return
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == (None if coding == "identity" else "gzip")
    body = response.get_data()
    assert (gzip.decompress(body) if coding == "gzip" else body) == plain
    assert response.headers["ETag"].endswith('-gz"') == (coding == "gzip")


def test_head_and_304_carry_the_headers_of_the_representation(client: FlaskClient) -> None:
    for accept, suffix in (("gzip", '-gz"'), ("gzip;q=0", '"')):
        full = client.get("/calendar.ics", headers={"Accept-Encoding": accept})
        head = client.head("/calendar.ics", headers={"Accept-Encoding": accept})
        assert head.get_data() == b""
        for name in ("ETag", "Content-Type", "Content-Length", "Vary", "Cache-Control"):
            assert head.headers[name] == full.headers[name], name
        assert head.headers.get("Content-Encoding") == full.headers.get("Content-Encoding")
        again = client.get(
            "/calendar.ics",
            headers={"Accept-Encoding": accept, "If-None-Match": full.headers["ETag"]},
        )
        assert again.status_code == 304
        assert again.headers["ETag"] == full.headers["ETag"] and full.headers["ETag"].endswith(
            suffix
        )
        assert again.headers["Vary"] == "Accept-Encoding"
