"""schema.org Event JSON-LD on event pages, read as a JSON-LD processor (pyld) reads it.

Google's event documentation names the properties checked here: required
`name`, `startDate`, `location` (Place with `address`, or VirtualLocation
with `url`); recommended `description`, `endDate`, `eventAttendanceMode`,
`eventStatus`, `organizer`, `previousStartDate` (when rescheduled); `image`,
`offers` and `performer` are recommended too, but the registry has none of
them and the page makes none up.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import html5lib
import pytest
from flask.testing import FlaskClient
from pyld import jsonld

from icalpub.jsonld import event_data, online, script
from icalpub.live import Live
from icalpub.reader import load
from icalpub.service import create_service

from .conftest import SHIPPED

S = "http://schema.org/"  # the vocabulary as schema.org's context expands it
E = "https://schema.org/"  # enumeration members as Google's examples write them
CONTEXT = Path(__file__).parent / "data" / "jsonld" / "schema.org-context.jsonld"
OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def offline_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Serve schema.org's context from the test data: tests do not reach the network."""
    if url.rstrip("/") not in ("https://schema.org", "http://schema.org"):
        raise AssertionError(f"the JSON-LD asks for another document: {url}")
    return {
        "contextUrl": None,
        "documentUrl": url,
        "document": json.loads(CONTEXT.read_text("utf-8")),
    }


def blocks(html: str) -> list[Any]:
    """Return the parsed JSON of each JSON-LD script of a (valid HTML5) page."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    root = parser.parse(html)
    return [
        json.loads(s.text) for s in root.iter("script") if s.get("type") == "application/ld+json"
    ]


def expanded(data: Any) -> dict[str, Any]:
    """Return the one node pyld expands `data` to."""
    nodes = jsonld.expand(data, {"documentLoader": offline_loader})
    assert len(nodes) == 1
    node: dict[str, Any] = nodes[0]
    return node


def value(node: dict[str, Any], name: str) -> Any:
    found = node[S + name][0]
    return found.get("@value", found.get("@id", found))


@pytest.fixture
def january(site: Path) -> FlaskClient:
    moment = dt.datetime(2022, 1, 1, 12, tzinfo=dt.UTC)
    app = create_service(live=Live(site, background=False, now=lambda: moment), editor=False)
    return app.test_client()


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_every_event_page_has_an_event_with_googles_required_and_recommended_properties(
    january: FlaskClient, prefix: str
) -> None:
    for event in load(SHIPPED).events:
        html = january.get(f"{prefix}/events/{event.id}").text
        found = blocks(html)
        assert len(found) == 1, event.id
        node = expanded(found[0])
        assert node["@type"] == [S + "Event"]
        for name in ("name", "startDate", "location", "description", "endDate", "organizer"):
            assert S + name in node, (event.id, name)
        start, end = value(node, "startDate"), value(node, "endDate")
        shape = DATE if event.all_day else OFFSET
        assert shape.match(start) and shape.match(end), (event.id, start, end)
        assert value(node, "eventStatus") in (E + "EventScheduled", E + "EventCancelled")
        assert value(node, "eventAttendanceMode").startswith(E)
        place = node[S + "location"][0]
        if place["@type"] == [S + "Place"]:
            assert S + "address" in place and S + "name" in place
        else:
            assert place["@type"] == [S + "VirtualLocation"] and S + "url" in place
        assert value(node, "url") == f"https://calendar.example.lv{prefix}/events/{event.id}"
        assert value(node, "inLanguage") in ("lv", "en")
        assert "<" not in value(node, "description")  # plain text


def test_cancelled_online_and_all_day_events_say_so(january: FlaskClient) -> None:
    cancelled = expanded(blocks(january.get("/en/events/konference-2022-01").text)[0])
    assert value(cancelled, "eventStatus") == E + "EventCancelled"
    assert value(cancelled, "startDate") == "2022-01-31T10:00:00+02:00"
    online_meeting = expanded(blocks(january.get("/events/projekta-sanaksme-2022-01").text)[0])
    assert value(online_meeting, "eventAttendanceMode") == E + "OnlineEventAttendanceMode"
    assert online_meeting[S + "location"][0]["@type"] == [S + "VirtualLocation"]
    training = expanded(blocks(january.get("/en/events/frem-ii-macibas-2018-09").text)[0])
    assert (value(training, "startDate"), value(training, "endDate")) == (
        "2018-09-25",
        "2018-09-26",
    )
    assert value(training, "inLanguage") == "en"
    assert value(training, "name").startswith("Ombudsman's Office staff")
    place = training[S + "location"][0]
    assert value(place, "name") == "Riga"
    assert value(training, "eventAttendanceMode") == E + "OfflineEventAttendanceMode"


def test_a_repeating_event_shows_its_next_occurrence(site: Path) -> None:
    moment = dt.datetime(2022, 4, 20, 12, tzinfo=dt.UTC)
    client = create_service(live=Live(site, background=False, now=lambda: moment)).test_client()
    node = expanded(blocks(client.get("/events/darba-grupa-2022").text)[0])
    assert value(node, "startDate") == "2022-05-11T10:00:00+03:00"
    assert value(node, "endDate") == "2022-05-11T12:30:00+03:00"


def test_a_moved_event_is_rescheduled_with_its_previous_start() -> None:
    registry = load(SHIPPED)
    event = registry.event("robezsardzes-macibas-2022-01")
    assert event is not None
    before = dt.datetime(2022, 1, 20, 9, tzinfo=event.start.tzinfo)  # type: ignore[union-attr]
    page = "https://calendar.example.lv/events/" + event.id
    data = event_data(event, None, registry.calendar, page, "lv", previous_start=before)
    node = expanded(data)
    assert value(node, "eventStatus") == E + "EventRescheduled"
    assert value(node, "previousStartDate") == "2022-01-20T09:00:00+02:00"
    same = event_data(event, None, registry.calendar, page, "lv", previous_start=event.start)
    assert same["eventStatus"] == "https://schema.org/EventScheduled"


def test_the_place_tells_whether_an_event_is_online() -> None:
    registry = load(SHIPPED)
    found = {e.id for e in registry.events if online(e)}
    assert found == {
        "tiessaistes-seminars-2021-05",
        "pasvaldibu-macibas-2022-01",
        "projekta-sanaksme-2022-01",
    }


def test_no_text_can_break_out_of_the_script_element() -> None:
    registry = load(SHIPPED)
    event = registry.event("es-diena-2018")
    assert event is not None
    from dataclasses import replace

    hostile = replace(event, title="</script><script>alert(1)</script><!-- & ")
    html = str(script(event_data(hostile, None, registry.calendar, "https://x/", "lv")))
    assert html.count("</script>") == 1 and "<!--" not in html
    assert blocks(f"<!doctype html><title>t</title>{html}")[0]["name"] == hostile.title


def test_an_editor_moving_an_event_makes_it_rescheduled_with_its_previous_start(
    site: Path,
) -> None:
    from icalpub import ledger as ledgers
    from icalpub.editor import yamltext
    from icalpub.editor.history import AuditLog, Author
    from icalpub.editor.store import Change, Store

    shipped = (site.parent / "events.lock").read_bytes()
    assert ledgers.dumps(ledgers.loads(shipped)) == shipped  # no previous_start: same bytes
    now = dt.datetime(2026, 11, 29, 12, tzinfo=dt.UTC)
    document = yamltext.read(site.read_text("utf-8"))
    item = document.item("robezsardzes-macibas-2022-01")
    assert item is not None
    fields = dict(document.values(item))
    fields["start"] = "2022-02-03 09:00"
    fields["end"] = "2022-02-03 17:00"
    change = Change("edit", "robezsardzes-macibas-2022-01", fields, item.version)
    Store(site, AuditLog()).save(change, Author("Anna", "anna@example.lv"), now)
    entry = ledgers.loads((site.parent / "events.lock").read_bytes()).entries
    assert entry["robezsardzes-macibas-2022-01"].previous_start == dt.datetime(
        2022, 1, 27, 7, tzinfo=dt.UTC
    )
    assert '"previous_start": "2022-01-27T07:00:00Z"' in (site.parent / "events.lock").read_text()
    client = create_service(live=Live(site, background=False, now=lambda: now)).test_client()
    node = expanded(blocks(client.get("/en/events/robezsardzes-macibas-2022-01").text)[0])
    assert value(node, "eventStatus") == E + "EventRescheduled"
    assert value(node, "previousStartDate") == "2022-01-27T09:00:00+02:00"
    assert value(node, "startDate") == "2022-02-03T09:00:00+02:00"
    # Another edit that keeps the new start keeps it rescheduled from the first start.
    document = yamltext.read(site.read_text("utf-8"))
    item = document.item("robezsardzes-macibas-2022-01")
    assert item is not None
    fields = dict(document.values(item))
    fields["title"] = "Robežsardzes mācības (pārceltas)"
    change = Change("edit", "robezsardzes-macibas-2022-01", fields, item.version)
    Store(site, AuditLog()).save(change, Author("Anna", "anna@example.lv"), now)
    kept = ledgers.loads((site.parent / "events.lock").read_bytes()).entries
    assert kept["robezsardzes-macibas-2022-01"].previous_start == dt.datetime(
        2022, 1, 27, 7, tzinfo=dt.UTC
    )
    untouched = kept["es-diena-2018"]
    assert untouched.previous_start is None


def test_the_ledger_keeps_a_moved_start_until_the_event_moves_back() -> None:
    from dataclasses import replace

    from icalpub import ledger as ledgers

    registry = load(SHIPPED)
    now = dt.datetime(2026, 11, 29, 12, tzinfo=dt.UTC)
    first = ledgers.reconcile(registry, ledgers.Ledger(), now).ledger
    event = registry.event("es-diena-2018")
    assert event is not None
    moved_event = replace(event, start=dt.date(2018, 10, 19))
    events = tuple(moved_event if e.id == event.id else e for e in registry.events)
    moved = replace(registry, events=events)
    after = ledgers.reconcile(moved, first, now, (registry, {})).ledger
    assert after.entries[event.id].previous_start == dt.date(2018, 10, 18)
    text = ledgers.dumps(after)
    assert b'"previous_start": "2018-10-18"' in text
    assert ledgers.loads(text) == after  # a date stays a date
    assert b"previous_start" not in ledgers.dumps(first)
    back = ledgers.reconcile(registry, after, now, (moved, {})).ledger
    assert back.entries[event.id].previous_start is None
