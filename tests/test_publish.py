"""The whole publication: every path of SPEC §2, and reuse between publications changes no byte."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from icalpub.ledger import Ledger
from icalpub.publish import content_type, publish
from icalpub.reader import load, read_source

from .conftest import SHIPPED

Write = Callable[..., Path]
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_every_spec_path_is_published() -> None:
    source = read_source(SHIPPED)
    assert source.registry is not None
    files = publish(source.registry, source.ledger, NOW).files
    expected = {"calendar.ics", "feed.rss", "feed.atom", "feed.json"}
    for topic in source.registry.topics:
        expected |= {f"topics/{topic.id}.{ext}" for ext in ("ics", "rss", "atom", "json")}
    expected |= {f"events/{e.id}.ics" for e in source.registry.events}
    assert source.registry.calendar.published_languages == ("lv", "en")
    assert set(files) == expected | {f"en/{path}" for path in expected}
    assert content_type("topics/training.atom") == "application/atom+xml; charset=utf-8"


def test_each_file_is_handed_over_once_as_soon_as_it_is_made() -> None:
    source = read_source(SHIPPED)
    assert source.registry is not None
    handed: list[tuple[str, bytes]] = []
    files = publish(source.registry, source.ledger, NOW, on_file=lambda *f: handed.append(f)).files
    assert len(handed) == len(files)
    assert dict(handed) == files
    assert handed[0][0] == "calendar.ics"  # the largest first, while the rest are rendered
    # Then the many small event files, which the disk creates while the rest are rendered.
    count = len(source.registry.events)
    assert [path for path, _ in handed[1 : 1 + count]] == [
        f"events/{e.id}.ics" for e in source.registry.events
    ]


def test_reusing_a_previous_publication_gives_the_same_bytes_as_a_fresh_one(
    registry_file: Write,
) -> None:
    events = "".join(
        f"- id: e{i}\n  title: Event {i}\n  start: 2022-01-{1 + i:02d} 10:00\n"
        f"  topics: [{'training' if i % 2 else 'project'}]\n  description: Text **{i}**\n"
        for i in range(12)
    )
    first = publish(load(registry_file(events)), Ledger(), NOW)
    edited_text = events.replace("Event 3\n", "Event 3 edited\n").replace(
        "- id: e7\n", "- id: e7\n  status: cancelled\n"
    )
    edited = load(registry_file(edited_text))
    later = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    reused = publish(edited, first.reconciled.ledger, later, previous=first)
    fresh = publish(edited, first.reconciled.ledger, later)
    assert reused.files == fresh.files
    assert reused.files["events/e5.ics"] == first.files["events/e5.ics"]
    assert b"Event 3 edited" in reused.files["calendar.ics"]
    assert b"SEQUENCE:1" in reused.files["events/e3.ics"]
