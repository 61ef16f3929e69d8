"""Model → the whole publication as {path: bytes}; pure, shared by the build and the web."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from . import feeds, ical
from .errors import Problem
from .ledger import Ledger, Reconciled, Stamp, reconcile
from .model import Event, Registry
from .query import newest_first
from .urls import FORMATS, event_ics_path, feed_path

CONTENT_TYPES = {
    "ics": "text/calendar; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}


@dataclass(frozen=True)
class Publication:
    """Everything icalpub publishes for one registry and ledger."""

    registry: Registry
    reconciled: Reconciled
    files: Mapping[str, bytes]
    today: dt.date | None
    writer: ical.Writer = field(compare=False, repr=False)
    newest: Sequence[Event] = field(default=(), compare=False, repr=False)

    @property
    def modified(self) -> dt.datetime:
        """Return the publication's last change: HTTP Last-Modified, never going backwards."""
        return self.reconciled.modified

    def event_file(self, event_id: str) -> bytes | None:
        """Return `events/<id>.ics`, the same bytes the build writes, or None for no such event."""
        found = self.files.get(event_ics_path(event_id))
        if found is not None:
            return found
        event = self.registry.event(event_id)
        return self.writer.event(event) if event is not None else None

    def render(self, fmt: str, topics: Iterable[str]) -> bytes:
        """Render one calendar or feed for any topic set (the web's filtered URLs)."""
        return _render(self.writer, self.newest, fmt, topics)


def _render(writer: ical.Writer, newest: Sequence[Event], fmt: str, topics: Iterable[str]) -> bytes:
    """Render the calendar or feed `fmt` of the union of `topics` (all events when empty)."""
    if fmt == "ics":
        return writer.calendar(topics)
    if fmt == "rss":
        return feeds.rss(writer.registry, writer.stamps, topics, newest)
    if fmt == "atom":
        return feeds.atom(writer.registry, writer.stamps, topics, newest)
    if fmt == "json":
        return feeds.json_feed(writer.registry, writer.stamps, topics, newest)
    raise ValueError(f"unknown format {fmt!r}")


def publish(
    registry: Registry,
    ledger: Ledger,
    now: dt.datetime,
    today: dt.date | None = None,
    previous: Publication | None = None,
    event_files: bool = True,
    on_file: Callable[[str, bytes], None] | None = None,
    render: Callable[[Registry, Mapping[str, Stamp]], Mapping[str, bytes]] | None = None,
) -> Publication:
    """Return the whole publication: every calendar, feed and event file of SPEC §2.

    `now` is when changes found against the ledger count as made; `today`
    (the calendar's local date) moves the keep_past window, if there is one.
    Events unchanged since `previous` reuse its rendered bytes. Without
    `event_files`, the per-event files are left to `Publication.event_file`
    (the web service makes them when asked, instead of holding them all).
    `on_file` is handed each file as soon as it is made (the build starts
    compressing it while the rest are rendered). `render` makes the VEVENTs
    in advance, given the stamps (the build's `parallel.vevents`).
    """
    known = (previous.registry, previous.reconciled.hashes) if previous is not None else None
    reconciled = reconcile(registry, ledger, now, known)
    earlier = previous.writer if previous is not None else None
    rendered = render(registry, reconciled.stamps) if render is not None else None
    writer = ical.Writer(registry, reconciled.stamps, today, reconciled.hashes, earlier, rendered)
    newest = newest_first(registry.events)
    files: dict[str, bytes] = {}

    def made(path: str, data: bytes) -> None:
        files[path] = data
        if on_file is not None:
            on_file(path, data)

    for fmt in FORMATS:
        for topics in [[], *([t.id] for t in registry.topics)]:
            made(feed_path(fmt, topics), _render(writer, newest, fmt, topics))
    if event_files:
        for event in registry.events:
            made(event_ics_path(event.id), writer.event(event))
    files = dict(sorted(files.items()))
    return Publication(registry, reconciled, files, today, writer, newest)


GOOGLE_LIMIT = 1_000_000  # Google Calendar silently drops events beyond about 1 MB


def size_warnings(registry: Registry, ledger: Ledger, today: dt.date | None) -> list[Problem]:
    """Return a warning for each calendar larger than Google Calendar accepts."""
    stamps = reconcile(registry, ledger, dt.datetime(1970, 1, 1, tzinfo=dt.UTC)).stamps
    writer = ical.Writer(registry, stamps, today)
    warnings = []
    for topics in [[], *([t.id] for t in registry.topics)]:
        size = len(writer.calendar(topics))
        if size > GOOGLE_LIMIT:
            warnings.append(
                Problem(
                    registry.source,
                    1,
                    1,
                    f"{feed_path('ics', topics)} would be {size / 1e6:.1f} MB; Google Calendar "
                    "silently drops events beyond about 1 MB",
                    "set calendar.keep_past (e.g. P24M) or shorten descriptions",
                    severity="warning",
                )
            )
    return warnings


def content_type(path: str) -> str:
    """Return the Content-Type of a published path, by its extension."""
    return CONTENT_TYPES[path.rsplit(".", 1)[-1]]


def manifest(files: Mapping[str, bytes]) -> bytes:
    """Return index.json: path, size, sha256 and content type of every file, sorted by path."""
    entries = [
        {
            "path": path,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "content_type": content_type(path),
        }
        for path, data in sorted(files.items())
    ]
    return (json.dumps({"files": entries}, indent=1) + "\n").encode()
