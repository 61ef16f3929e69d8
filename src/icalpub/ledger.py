"""The ledger (`events.lock`): what subscribers have seen, so edits move SEQUENCE and LAST-MODIFIED.

Pure: the ledger is read and written as bytes elsewhere; here it is compared
with a registry at a given `now` (passed in, never read from the clock).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from .errors import LedgerError, Problem
from .model import Event, Registry

VERSION = 1
_STRING = json.encoder.encode_basestring  # a str as json.dumps(ensure_ascii=False) has it


@dataclass(frozen=True)
class Entry:
    """What the ledger remembers of one event id."""

    hash: str
    sequence: int
    first_seen: dt.datetime
    changed: dt.datetime
    deleted: dt.datetime | None = None
    # The start the event was announced with before it moved (schema.org's
    # previousStartDate); known when a save or reload compares two versions,
    # written only when set.
    previous_start: dt.date | dt.datetime | None = None


@dataclass(frozen=True)
class Ledger:
    """Every event id ever published, with its content hash and revision."""

    entries: dict[str, Entry] = field(default_factory=dict)


@dataclass(frozen=True)
class Stamp:
    """The revision properties of one event as published."""

    sequence: int
    created: dt.datetime
    last_modified: dt.datetime


@dataclass(frozen=True)
class Reconciled:
    """The outcome of comparing a registry with its ledger."""

    stamps: dict[str, Stamp]
    ledger: Ledger
    changed: tuple[str, ...]
    deleted: tuple[str, ...]
    modified: dt.datetime  # the publication's last change; never goes backwards
    behind: bool  # the given ledger did not already describe this registry
    hashes: dict[str, str] = field(default_factory=dict)  # event id → content hash
    # What was found for events whatever `now` is, for the next reconcile (see `reconcile`).
    memo: dict[str, Remembered] = field(default_factory=dict, repr=False, compare=False)
    # The events whose outcome was made anew, not taken from the memo (None: unknown).
    fresh: frozenset[str] | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Remembered:
    """One event's outcome, valid again for the very same event object and ledger entry.

    `until`: the outcome holds for any `now` from this instant on (a new
    event first seen at its announcement, which has passed).
    """

    event: Event
    old: Entry | None
    entry: Entry
    stamp: Stamp
    changed: bool
    until: dt.datetime | None = None


def content_hash(registry: Registry, event: Event) -> str:
    """Return a hash of everything subscribers see of `event` except its revision fields."""
    contact = event.contact or registry.calendar.contact
    categories = [topic.titles for topic in registry.topics if topic.id in event.topics]
    content: dict[str, object] = {
        "title": event.title,
        "start": _iso(event.start),
        "end": _iso(event.end),
        "timezone": event.timezone,
        "location": event.location,
        "summary": event.summary,
        "description": event.description,
        "url": event.url,
        "status": event.status,
        "repeat": event.repeat,
        "except": [d.isoformat() for d in event.exceptions],
        "published": event.published_at.astimezone(dt.UTC).isoformat(),
        "contact": [contact.name, contact.phone, contact.email] if contact else None,
        "categories": categories,
    }
    if event.translations:  # a one-language registry's hashes stay as they were
        content["translations"] = sorted(event.translations)
    encoded = json.dumps(content, ensure_ascii=False, sort_keys=True).encode()
    return "sha256:" + hashlib.sha256(encoded).hexdigest()


def kept_hashes(
    registry: Registry, earlier: tuple[Registry, Mapping[str, str]] | None
) -> dict[str, str]:
    """Return the content hashes of `earlier` (a registry and its events' hashes by id) that
    hold for `registry`: its events that are the very same objects there (a read reuses
    unchanged events), as long as what a hash also covers (topics, default contact) is equal."""
    if earlier is None:
        return {}
    before, hashes = earlier
    if (before.topics, before.calendar.contact) != (registry.topics, registry.calendar.contact):
        return {}
    found = before.by_id
    return {
        event.id: hashes[event.id]
        for event in registry.events
        if found.get(event.id) is event and event.id in hashes
    }


def reconcile(
    registry: Registry,
    ledger: Ledger,
    now: dt.datetime,
    earlier: tuple[Registry, Mapping[str, str]] | None = None,
    memo: Mapping[str, Remembered] | None = None,
    hashes: Mapping[str, str] | None = None,
) -> Reconciled:
    """Return each event's stamp and the updated ledger, treating changes as seen at `now`.

    With an `earlier` registry and its hashes, an event that is the very same
    object there (a reload reuses unchanged events) keeps its hash, as long
    as what the hash also covers (the topics, the default contact) is equal;
    an event whose start differs there is recorded as moved (`previous_start`).
    With the previous reconcile's `memo`, such an event whose ledger entry is
    as then keeps its outcome too, if that did not depend on `now`; without an
    `earlier` registry, the caller vouches that `memo` is of a registry with
    equal topics and default contact. `hashes` are content hashes of this
    registry's events found already, by id.
    """
    now = now.astimezone(dt.UTC).replace(microsecond=0)
    entries = dict(ledger.entries)
    stamps: dict[str, Stamp] = {}
    given, hashes = hashes or {}, {}
    changed: list[str] = []
    remembered: dict[str, Remembered] = {}
    fresh: set[str] = set()  # outcomes made anew, not taken from `memo`
    before = earlier[0] if earlier is not None else registry
    known = kept_hashes(registry, earlier)
    if memo is None or (earlier is not None and not known):
        memo = {}
    earlier_events = before.by_id
    for event in registry.events:
        old = entries.get(event.id)
        found = memo.get(event.id)
        was = earlier_events.get(event.id)
        same = was is event
        if found is None or not same or not _holds(found, event, old, now):
            digest = known.get(event.id) or given.get(event.id) or content_hash(registry, event)
            found, lasting = _outcome(event, old, digest, now, before if earlier else None)
            fresh.add(event.id)
            if lasting and (same or was is None):  # not moved
                remembered[event.id] = found
        else:
            remembered[event.id] = found
        hashes[event.id] = found.entry.hash
        entries[event.id] = found.entry
        stamps[event.id] = found.stamp
        if found.changed:
            changed.append(event.id)
    deleted = _mark_deleted(entries, registry, now)
    times = [e.deleted or e.changed for e in entries.values()]
    latest = max(times, default=dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
    behind = bool(changed or deleted)
    updated = Ledger(dict(sorted(entries.items())))
    outcome = (tuple(changed), tuple(deleted), latest, behind, hashes, remembered, frozenset(fresh))
    return Reconciled(stamps, updated, *outcome)


def _mark_deleted(entries: dict[str, Entry], registry: Registry, now: dt.datetime) -> list[str]:
    """Mark the entries of ids `registry` has no more as deleted at `now`; return those ids."""
    ids = registry.by_id
    deleted = sorted(i for i, e in entries.items() if e.deleted is None and i not in ids)
    for event_id in deleted:
        entries[event_id] = replace(entries[event_id], deleted=now)
    return deleted


def _holds(found: Remembered, event: Event, old: Entry | None, now: dt.datetime) -> bool:
    """Return whether a remembered outcome holds for `event` and ledger entry `old` at `now`."""
    return (
        found.event is event
        and (found.old is old or found.old == old)
        and (found.until is None or found.until <= now)
    )


def _outcome(
    event: Event, old: Entry | None, digest: str, now: dt.datetime, before: Registry | None
) -> tuple[Remembered, bool]:
    """Return `event`'s entry and stamp against its ledger entry `old`, and whether that
    outcome holds whatever `now` is (from its `until` on)."""
    until: dt.datetime | None = None
    lasting = True
    if old is None or old.deleted is not None:
        first = first_seen(event, now)
        entry = Entry(digest, event.sequence or 0, first, first)
        if event.published is None:  # `now` if not announced yet: known from then on
            lasting, until = first < now, first
    elif old.hash != digest:
        entry = Entry(digest, old.sequence + 1, old.first_seen, now)
        lasting = False
    else:
        entry = old
    sequence = event.sequence if event.sequence is not None else entry.sequence
    modified = _utc(event.updated) if event.updated is not None else entry.changed
    previous = _previous_start(event, old, before)
    if (entry.sequence, entry.changed, entry.previous_start) != (sequence, modified, previous):
        entry = replace(entry, sequence=sequence, changed=modified, previous_start=previous)
    created = _utc(event.published) if event.published is not None else entry.first_seen
    stamp = Stamp(sequence, created, modified)
    # `changed`: new, edited, or given another sequence/updated by hand.
    return Remembered(event, old, entry, stamp, old != entry, until), lasting


def seen_at(ledger: Ledger, saved: dt.datetime, now: dt.datetime) -> dt.datetime:
    """Return when changes the ledger has not recorded count as made: when the file was
    saved, but after everything the ledger records (a copy that kept an old modification
    time is still a later change) and never after `now`."""
    times = [e.deleted or e.changed for e in ledger.entries.values()]
    latest = max(times, default=None)
    after = latest + dt.timedelta(seconds=1) if latest is not None else saved
    return min(max(_utc(saved), after), _utc(now))


def _previous_start(
    event: Event, old: Entry | None, before: Registry | None
) -> dt.date | dt.datetime | None:
    """Return the start `event` was announced with before it moved (the first such start).

    The ledger's record if it has one, else `before`'s start when it differs;
    None once the event is back at that start.
    """
    previous = old.previous_start if old is not None and old.deleted is None else None
    was = before.event(event.id) if before is not None else None
    if previous is None and was is not None and was.start != event.start:
        previous = was.start
    return None if previous == event.start else previous


def first_seen(event: Event, now: dt.datetime) -> dt.datetime:
    """Return when a new event counts as first seen: `published` if written, else its
    `publish_at` or its start, whichever applies, or `now` if that is earlier (never a
    moment that has not happened yet)."""
    if event.published is not None:
        return _utc(event.published)
    if event.publish_at is not None:  # scheduled: it appears at that instant
        return min(_utc(event.publish_at), now)
    return min(_utc(event.published_at), now)


def reused_ids(registry: Registry, ledger: Ledger) -> list[Problem]:
    """Return an error for every event whose id the ledger records as deleted."""
    problems = []
    for event in registry.events:
        entry = ledger.entries.get(event.id)
        if entry is not None and entry.deleted is not None:
            problems.append(
                Problem(
                    registry.source,
                    event.line,
                    event.column,
                    f"event id '{event.id}' belonged to an event deleted on "
                    f"{entry.deleted:%Y-%m-%d}; ids are never reused",
                    "give this event a new id (calendars would confuse it with the old one)",
                )
            )
    return problems


def published_drafts(registry: Registry, ledger: Ledger) -> list[Problem]:
    """Return an error for every draft that subscribers already have (the ledger knows it)."""
    problems = []
    for event in registry.events:
        entry = ledger.entries.get(event.id)
        if event.draft and entry is not None and entry.deleted is None:
            problems.append(
                Problem(
                    registry.source,
                    event.line,
                    event.column,
                    f"event '{event.id}' is published already; it cannot become a draft again",
                    "subscribers have it: change it, cancel it (status: cancelled) or delete it",
                )
            )
    return problems


def loads_again(data: bytes, name: str, read: tuple[bytes, Ledger] | None) -> Ledger:
    """Return `loads(data)`, or the ledger of `read` (bytes, ledger) when it was read from
    these very bytes (a reload or a save after a registry-only change; a Ledger is never
    changed once read)."""
    return read[1] if read is not None and read[0] == data else loads(data, name)


def loads(data: bytes, name: str = "events.lock") -> Ledger:
    """Parse ledger bytes; raise LedgerError saying what is wrong."""
    try:
        raw = json.loads(data.decode("utf-8"))
        if raw.get("version") != VERSION:
            raise LedgerError(f"{name}: unknown ledger version {raw.get('version')!r}")
        entries = {
            key: Entry(
                hash=str(value["hash"]),
                sequence=int(value["sequence"]),
                first_seen=_parse(value["first_seen"]),
                changed=_parse(value["changed"]),
                deleted=_parse(value["deleted"]) if value.get("deleted") else None,
                previous_start=_start(value["previous_start"])
                if value.get("previous_start")
                else None,
            )
            for key, value in raw["events"].items()
        }
    except LedgerError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise LedgerError(
            f"{name}: the ledger is damaged ({exc}); restore it from version control"
        ) from None
    return Ledger(entries)


def dumps(ledger: Ledger, chunks: dict[str, tuple[Entry, str]] | None = None) -> bytes:
    """Serialise a ledger deterministically (sorted ids, UTC times, LF, trailing newline):
    the bytes of `json.dumps({"version": …, "events": …}, ensure_ascii=False, indent=1)`,
    written entry by entry (the json module's indented output is pure Python: 0.1 s at
    10,000 entries).

    With `chunks` (kept by the caller from one call to the next), each entry's
    text is kept, and an entry equal to one serialised before is not
    serialised again.
    """
    found: dict[str, tuple[Entry, str]] = {}
    for key, entry in sorted(ledger.entries.items()):
        earlier = chunks.get(key) if chunks else None
        if earlier is None or not (earlier[0] is entry or earlier[0] == entry):
            earlier = (entry, _entry_text(key, entry))
        found[key] = earlier
    if chunks is not None:
        chunks.clear()
        chunks.update(found)
    events_text = ",\n".join(text for _, text in found.values())
    inner = "{\n" + events_text + "\n }" if found else "{}"
    return f'{{\n "version": {VERSION},\n "events": {inner}\n}}\n'.encode()


def _entry_text(key: str, entry: Entry) -> str:
    """Return one entry as the indented JSON of the ledger has it, two levels deep."""
    fields = ",\n".join(
        f"   {_STRING(name)}: {_STRING(value) if isinstance(value, str) else value}"
        for name, value in _item(entry).items()
    )
    return f"  {_STRING(key)}: {{\n{fields}\n  }}"


def _item(entry: Entry) -> dict[str, object]:
    item: dict[str, object] = {
        "hash": entry.hash,
        "sequence": entry.sequence,
        "first_seen": _z(entry.first_seen),
        "changed": _z(entry.changed),
    }
    if entry.deleted is not None:
        item["deleted"] = _z(entry.deleted)
    if entry.previous_start is not None:
        start = entry.previous_start
        item["previous_start"] = _z(start) if isinstance(start, dt.datetime) else str(start)
    return item


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(microsecond=0)


def _z(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _start(text: str) -> dt.date | dt.datetime:
    """Parse a start as `dumps` writes it: a date, or a UTC time."""
    return dt.date.fromisoformat(text) if len(text) == 10 else _parse(text)


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC)


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return value.isoformat()
