"""The ledger (SPEC §5): edits move SEQUENCE and LAST-MODIFIED; nothing moves without an edit."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import icalendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icalpub import ledger
from icalpub.ical import calendar_ics
from icalpub.ledger import Ledger, reconcile
from icalpub.model import Event, Registry
from icalpub.reader import load, read_source

from .conftest import SHIPPED

Write = Callable[..., Path]
T1 = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
T2 = dt.datetime(2026, 2, 1, 12, tzinfo=dt.UTC)
T3 = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
EVENTS = """\
- id: a
  title: First title
  start: 2022-01-12 10:00
  published: 2022-01-03 09:00
- id: b
  title: B
  start: 2022-01-13
  published: 2022-01-04 09:00
  updated: 2022-01-05 09:00
"""


def test_first_build_needs_no_clock(registry_file: Write) -> None:
    registry = load(registry_file(EVENTS))
    first = reconcile(registry, Ledger(), T1)
    assert first.stamps["a"] == ledger.Stamp(
        0, dt.datetime(2022, 1, 3, 7, tzinfo=dt.UTC), dt.datetime(2022, 1, 3, 7, tzinfo=dt.UTC)
    )
    assert first.stamps["b"].last_modified == dt.datetime(2022, 1, 5, 7, tzinfo=dt.UTC)
    # the same registry reconciled at another time gives the same stamps
    assert reconcile(registry, Ledger(), T2).stamps == first.stamps


def test_rebuild_without_edits_changes_nothing(registry_file: Write) -> None:
    registry = load(registry_file(EVENTS))
    first = reconcile(registry, Ledger(), T1)
    again = reconcile(registry, ledger.loads(ledger.dumps(first.ledger)), T2)
    assert again.stamps == first.stamps
    assert ledger.dumps(again.ledger) == ledger.dumps(first.ledger)
    assert again.changed == () and not again.behind
    assert calendar_ics(registry, again.stamps) == calendar_ics(registry, first.stamps)


def test_editing_a_title_raises_sequence_and_moves_last_modified(registry_file: Write) -> None:
    path = registry_file(EVENTS)
    first = reconcile(load(path), Ledger(), T1)
    edited = load(registry_file(EVENTS.replace("First title", "Second title")))
    second = reconcile(edited, first.ledger, T2)
    assert second.changed == ("a",)
    assert second.stamps["a"].sequence == 1
    assert second.stamps["a"].last_modified == T2
    assert second.stamps["a"].created == first.stamps["a"].created
    assert second.stamps["b"] == first.stamps["b"]
    vevent = icalendar.Calendar.from_ical(calendar_ics(edited, second.stamps)).walk("VEVENT")[0]
    assert vevent["SEQUENCE"] == 1
    assert vevent.decoded("LAST-MODIFIED") == T2
    assert vevent.decoded("DTSTAMP") == T2
    # a third build of the same text keeps the second build's stamps
    third = reconcile(edited, second.ledger, T3)
    assert third.stamps == second.stamps


def test_explicit_sequence_and_updated_win_over_the_ledger(registry_file: Write) -> None:
    first = reconcile(load(registry_file(EVENTS)), Ledger(), T1)
    text = EVENTS.replace("First title", "Edited").replace(
        "  published: 2022-01-03 09:00\n",
        "  published: 2022-01-03 09:00\n  sequence: 7\n  updated: 2022-01-10 10:00\n",
    )
    second = reconcile(load(registry_file(text)), first.ledger, T2)
    assert second.stamps["a"].sequence == 7
    assert second.stamps["a"].last_modified == dt.datetime(2022, 1, 10, 8, tzinfo=dt.UTC)


def test_deleting_an_event_keeps_it_in_the_ledger_and_moves_modified_forward(
    registry_file: Write,
) -> None:
    first = reconcile(load(registry_file(EVENTS)), Ledger(), T1)
    without_b = EVENTS.split("- id: b")[0]
    second = reconcile(load(registry_file(without_b)), first.ledger, T2)
    assert second.deleted == ("b",)
    assert second.ledger.entries["b"].deleted == T2
    assert second.modified == T2 > first.modified


def test_reusing_a_deleted_id_is_a_located_error(registry_file: Write) -> None:
    path = registry_file(EVENTS)
    first = reconcile(load(path), Ledger(), T1)
    second = reconcile(load(registry_file(EVENTS.split("- id: b")[0])), first.ledger, T2)
    (path.with_suffix(".lock")).write_bytes(ledger.dumps(second.ledger))
    registry_file(EVENTS)  # b comes back
    source = read_source(path)
    assert source.registry is None
    assert [str(p) for p in source.problems] == [
        f"{path}:14:3: error: event id 'b' belonged to an event deleted on 2026-02-01; ids "
        "are never reused; give this event a new id (calendars would confuse it with the old one)"
    ]


def test_a_damaged_ledger_is_an_error_not_a_fresh_start(registry_file: Write) -> None:
    path = registry_file(EVENTS)
    path.with_suffix(".lock").write_text('{"version": 1, "events": {"a": {}}}')
    source = read_source(path)
    assert source.registry is None
    [problem] = source.problems
    assert str(problem).startswith(f"{path.with_suffix('.lock')}:1:1: error: the ledger is damaged")


def test_ledger_bytes_are_sorted_and_stable(registry_file: Write) -> None:
    first = reconcile(load(registry_file(EVENTS)), Ledger(), T1)
    data = ledger.dumps(first.ledger)
    assert data.endswith(b"}\n")
    assert data.index(b'"a"') < data.index(b'"b"')
    assert ledger.dumps(ledger.loads(data)) == data


def test_an_event_that_is_the_same_object_keeps_its_hash_unless_topics_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry = load(SHIPPED)
    first = reconcile(registry, Ledger(), T1)
    hashed: list[str] = []
    real = ledger.content_hash

    def counting(registry: Registry, event: Event) -> str:
        hashed.append(event.id)
        return real(registry, event)

    monkeypatch.setattr(ledger, "content_hash", counting)
    assert reconcile(registry, Ledger(), T1, (registry, first.hashes)) == first
    assert hashed == []
    topic = registry.topics[0]
    retitled = dataclasses.replace(
        registry,
        topics=(dataclasses.replace(topic, titles=(("lv", "Cits"),)), *registry.topics[1:]),
    )
    again = reconcile(retitled, Ledger(), T1, (registry, first.hashes))
    assert len(hashed) == len(registry.events)  # the category names are in the hash
    assert again.hashes == reconcile(retitled, Ledger(), T1).hashes != first.hashes


# -- SPEC §5: no stamp is later than the moment its change was first seen ------------

FUTURE = """\
- id: soon
  title: Training three weeks ahead
  start: 2026-01-22 10:00
"""


def test_a_new_future_event_is_stamped_when_first_seen_not_at_its_start(
    registry_file: Write,
) -> None:
    registry = load(registry_file(FUTURE))
    first = reconcile(registry, Ledger(), T1)  # T1 is three weeks before the start
    assert first.stamps["soon"] == ledger.Stamp(0, T1, T1)
    assert first.ledger.entries["soon"].first_seen == T1
    assert first.modified == T1  # the publication's Last-Modified is not its start either


def test_a_new_past_event_without_published_is_stamped_at_its_start(registry_file: Write) -> None:
    registry = load(registry_file(FUTURE))
    later = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    start = dt.datetime(2026, 1, 22, 8, tzinfo=dt.UTC)  # 10:00 in Riga
    assert reconcile(registry, Ledger(), later).stamps["soon"] == ledger.Stamp(0, start, start)


def test_moving_an_event_keeps_its_created_and_stamps_the_move_when_seen(
    registry_file: Write,
) -> None:
    path = registry_file(FUTURE)
    first = reconcile(load(path), Ledger(), T1)
    moved = reconcile(load(registry_file(FUTURE.replace("10:00", "11:00"))), first.ledger, T2)
    assert moved.stamps["soon"] == ledger.Stamp(1, T1, T2)


def test_a_written_published_is_created_whatever_the_ledger_says(registry_file: Write) -> None:
    path = registry_file(FUTURE)
    first = reconcile(load(path), Ledger(), T1)
    announced = dt.datetime(2025, 12, 20, 7, tzinfo=dt.UTC)
    written = registry_file(FUTURE + "  published: 2025-12-20 09:00\n")
    again = reconcile(load(written), first.ledger, T2)
    assert again.stamps["soon"].created == announced
    assert again.ledger.entries["soon"].first_seen == T1  # the ledger keeps what it saw


def test_a_change_saved_with_an_old_modification_time_counts_after_the_ledger() -> None:
    recorded = Ledger({"a": ledger.Entry("sha256:x", 0, T1, T2)})
    copied_with_old_times = dt.datetime(2001, 9, 9, tzinfo=dt.UTC)
    assert ledger.seen_at(recorded, copied_with_old_times, T3) == T2 + dt.timedelta(seconds=1)
    assert ledger.seen_at(recorded, T3, T3) == T3  # an ordinary save: when it was saved
    future = T3 + dt.timedelta(days=400)  # a machine whose clock was wrong
    assert ledger.seen_at(recorded, future, T3) == T3  # never later than now
    assert ledger.seen_at(Ledger(), copied_with_old_times, T3) == copied_with_old_times


def test_a_ledger_written_entry_by_entry_is_the_same_bytes_as_written_whole() -> None:
    """`dumps` with the texts kept from a previous call: each entry reused or written
    again, the same bytes as one `json.dumps(..., indent=1)` of the whole ledger."""
    shipped = ledger.loads(SHIPPED.with_suffix(".lock").read_bytes())
    first = sorted(shipped.entries)[0]
    moved = dataclasses.replace(
        shipped.entries[first],
        sequence=7,
        deleted=T1,
        previous_start=dt.date(2020, 2, 29),
    )
    versions = [
        shipped,
        Ledger({**shipped.entries, first: moved}),
        Ledger({**shipped.entries, 'jauns-"ā"\\': moved}),
        Ledger({first: moved}),
        Ledger(),
        shipped,
    ]
    kept: dict[str, tuple[ledger.Entry, str]] = {}
    for version in versions:
        events = {key: ledger._item(entry) for key, entry in sorted(version.entries.items())}
        whole = json.dumps({"version": 1, "events": events}, ensure_ascii=False, indent=1)
        assert ledger.dumps(version, kept) == (whole + "\n").encode()
        assert ledger.loads(ledger.dumps(version, kept)) == version


_MOMENTS = st.datetimes(
    min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)
).map(lambda t: t.replace(microsecond=0))


@st.composite
def _ledgers(draw: st.DrawFn) -> ledger.Ledger:
    ids = draw(st.lists(st.text(min_size=1, max_size=12), max_size=8, unique=True))
    entries = {}
    for event_id in ids:
        start = draw(st.one_of(st.none(), st.dates(), _MOMENTS))
        entries[event_id] = ledger.Entry(
            hash="sha256:" + draw(st.text("0123456789abcdef", min_size=8, max_size=8)),
            sequence=draw(st.integers(0, 10**6)),
            first_seen=draw(_MOMENTS),
            changed=draw(_MOMENTS),
            deleted=draw(st.one_of(st.none(), _MOMENTS)),
            previous_start=start,
        )
    return ledger.Ledger(entries)


@given(st.lists(_ledgers(), min_size=1, max_size=4))
@settings(max_examples=150, deadline=None)
def test_a_ledger_is_written_as_the_json_module_indents_it_version_after_version(
    versions: list[ledger.Ledger],
) -> None:
    """Entry by entry (and kept from one version to the next), the bytes are those of
    `json.dumps(..., ensure_ascii=False, indent=1)`, and they read back as the ledger."""
    chunks: dict[str, tuple[ledger.Entry, str]] = {}
    for version in versions:
        events = {key: ledger._item(entry) for key, entry in sorted(version.entries.items())}
        expected = json.dumps({"version": 1, "events": events}, ensure_ascii=False, indent=1)
        assert ledger.dumps(version) == ledger.dumps(version, chunks) == (expected + "\n").encode()
        assert ledger.loads(ledger.dumps(version)).entries.keys() == version.entries.keys()
