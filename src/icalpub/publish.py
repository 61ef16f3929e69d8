"""Model → the whole publication as {path: bytes}; pure, shared by the build and the web."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from . import feeds, ical
from .languages import prefix, view
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
class Language:
    """The publication in one language: that view of the registry and its writer."""

    registry: Registry
    writer: ical.Writer
    newest: Sequence[Event]
    prefix: str  # "" for the default language, "en/" for English beside Latvian
    # Each feed's bytes by path, with what they were made of (for the next publication).
    feeds: dict[str, tuple[tuple[object, ...], bytes]] = field(default_factory=dict)
    html: dict[str, str] = field(default_factory=dict)  # feed items' HTML by event id


@dataclass(frozen=True)
class Publication:
    """Everything icalpub publishes for one registry and ledger, in each of its languages."""

    registry: Registry
    reconciled: Reconciled
    files: Mapping[str, bytes]
    today: dt.date | None
    languages: Mapping[str, Language] = field(compare=False, repr=False)

    @property
    def modified(self) -> dt.datetime:
        """Return the publication's last change: HTTP Last-Modified, never going backwards."""
        return self.reconciled.modified

    def view(self, language: str | None = None) -> Registry:
        """Return the registry in `language` (default: the default language)."""
        return self._language(language).registry

    def event_file(
        self, event_id: str, language: str | None = None, keep: bool = False
    ) -> bytes | None:
        """Return `events/<id>.ics`, the same bytes the build writes, or None for no such event.

        With `keep`, a file made now is kept for the next publication to reuse.
        """
        chosen = self._language(language)
        found = self.files.get(chosen.prefix + event_ics_path(event_id))
        if found is not None:
            return found
        event = chosen.registry.event(event_id)
        return chosen.writer.event(event, keep) if event is not None else None

    def event_files(self) -> dict[str, bytes]:
        """Return every language's per-event files by path (made now if not kept, and kept:
        the next publication writes the tree again and reuses those of unchanged events)."""
        found: dict[str, bytes] = {}
        for chosen in self.languages.values():
            found.update(chosen.writer.event_files(chosen.prefix))
        found.update((path, data) for path, data in self.files.items() if path in found)
        return found

    def render(self, fmt: str, topics: Iterable[str], language: str | None = None) -> bytes:
        """Render one calendar or feed for any topic set (the web's filtered URLs)."""
        chosen = self._language(language)
        return _render(chosen, fmt, topics)

    def _language(self, language: str | None) -> Language:
        return self.languages[language or self.registry.calendar.default_language]


def _render(chosen: Language, fmt: str, topics: Iterable[str]) -> bytes:
    """Render the calendar or feed `fmt` of the union of `topics` (all events when empty)."""
    writer, newest, html = chosen.writer, chosen.newest, chosen.html
    if fmt == "ics":
        return writer.calendar(topics)
    if fmt == "rss":
        return feeds.rss(writer.registry, writer.stamps, topics, newest, html)
    if fmt == "atom":
        return feeds.atom(writer.registry, writer.stamps, topics, newest, html)
    if fmt == "json":
        return feeds.json_feed(writer.registry, writer.stamps, topics, newest, html)
    raise ValueError(f"unknown format {fmt!r}")


def _feed(
    chosen: Language,
    earlier: Language | None,
    path: str,
    fmt: str,
    topics: list[str],
    stamps: Mapping[str, Stamp],
) -> bytes:
    """Return a feed, the previous publication's bytes if it is made of the same things.

    A feed is its settings, topics, items (newest first, at most feed_items)
    and their stamps; an edit to an event outside a feed's items leaves it as
    it was. Unchanged events are the same objects from one read to the next,
    so comparing them costs little.
    """
    seen = chosen.registry
    shown = feeds.items(seen, stamps, topics, chosen.newest)
    key = (seen.calendar, seen.topics, tuple(shown), tuple(stamps[e.id] for e in shown))
    found = earlier.feeds.get(path) if earlier is not None else None
    data = found[1] if found is not None and found[0] == key else None
    if data is None:
        data = _render(chosen, fmt, topics)
    chosen.feeds[path] = (key, data)
    return data


def publish(
    registry: Registry,
    ledger: Ledger,
    now: dt.datetime,
    today: dt.date | None = None,
    previous: Publication | None = None,
    event_files: bool = True,
    on_file: Callable[[str, bytes], None] | None = None,
    render: Callable[[Registry, Mapping[str, Stamp]], Mapping[str, bytes]] | None = None,
    keep: bool = True,
) -> Publication:
    """Return the whole publication: every calendar, feed and event file of SPEC §2.

    `now` is when changes found against the ledger count as made; `today`
    (the calendar's local date) moves the keep_past window, if there is one.
    Events unchanged since `previous` reuse its rendered bytes. Without
    `event_files`, the per-event files are left to `Publication.event_file`
    (the web service makes them when asked, instead of holding them all).
    `on_file` is handed each file as soon as it is made (the build starts
    compressing it while the rest are rendered). `render` makes the VEVENTs
    in advance, given the stamps (the build's `parallel.vevents`). Without
    `keep`, the files are handed to `on_file` and not kept in `files` (the
    build, whose tree holds them; `render` and `event_file` still make any).

    The default language is published at the top, every other language of
    `calendar.languages` under its prefix (`en/`), with the same stamps.
    """
    known = (previous.registry, previous.reconciled.hashes) if previous is not None else None
    memo = previous.reconciled.memo if previous is not None else None
    reconciled = reconcile(registry, ledger, now, known, memo)
    ordered = newest_first(registry.events, feeds.created(reconciled.stamps))
    order = {event.id: number for number, event in enumerate(ordered)}
    files: dict[str, bytes] = {}

    def made(path: str, data: bytes) -> None:
        if keep:
            files[path] = data
        if on_file is not None:
            on_file(path, data)

    made_languages: dict[str, Language] = {}
    views = [view(registry, language) for language in registry.calendar.published_languages]
    # Rendered in advance, all before the first file is handed on (`render` forks).
    advance = [render(seen, reconciled.stamps) if render is not None else None for seen in views]
    for seen, rendered in zip(views, advance, strict=True):
        language = seen.calendar.language
        earlier = previous.languages.get(language) if previous is not None else None
        writer = ical.Writer(
            seen,
            reconciled.stamps,
            today,
            reconciled.hashes,
            earlier.writer if earlier is not None else None,
            rendered,
            reconciled.fresh if previous is not None and earlier is not None else None,
        )
        newest = ordered if seen is registry else sorted(seen.events, key=lambda e: order[e.id])
        chosen = Language(seen, writer, newest, prefix(seen.calendar))
        made_languages[language] = chosen
        # The whole calendar first: the largest file, compressed while the rest are made
        # (it renders every VEVENT). Then the event files, thousands of small files which
        # the tree creates (slowly on some disks) while the topics' calendars and the
        # feeds are rendered.
        made(chosen.prefix + feed_path("ics", []), _render(chosen, "ics", []))
        if event_files:
            for event in seen.events:
                made(chosen.prefix + event_ics_path(event.id), writer.event(event))
        for fmt in FORMATS:
            for topics in [[], *([t.id] for t in registry.topics)]:
                path = chosen.prefix + feed_path(fmt, topics)
                if fmt == "ics":  # assembled from the writer's VEVENTs, each made once
                    if topics:
                        made(path, _render(chosen, fmt, topics))
                    continue
                made(path, _feed(chosen, earlier, path, fmt, topics, reconciled.stamps))
    files = dict(sorted(files.items()))
    return Publication(registry, reconciled, files, today, made_languages)


def content_type(path: str) -> str:
    """Return the Content-Type of a published path, by its extension."""
    return CONTENT_TYPES[path.rsplit(".", 1)[-1]]


def manifest(files: Mapping[str, bytes]) -> bytes:
    """Return index.json: path, size, sha256 and content type of every file, sorted by path."""
    sizes = {path: len(data) for path, data in files.items()}
    return manifest_of(
        sizes, {path: hashlib.sha256(data).hexdigest() for path, data in files.items()}
    )


def manifest_of(
    sizes: Mapping[str, int],
    digests: Mapping[str, str],
    written: dict[str, tuple[int, str, str]] | None = None,
) -> bytes:
    """Return index.json from each file's size and sha256 hex digest, by path.

    Written entry by entry, the same bytes as `json.dumps(..., indent=1)` of
    [{path, size, sha256, content_type}] sorted by path (the tree's threads
    hash each file as they write it). `written` (kept by the caller from one
    call to the next) holds each entry's text by path: an unchanged entry is
    not written again.
    """
    entries = []
    kept: dict[str, tuple[int, str, str]] = {}
    for path, size in sorted(sizes.items()):
        digest = digests[path]
        found = written.get(path) if written is not None else None
        if found is None or found[0] != size or found[1] != digest:
            kind = json.dumps(content_type(path))
            text = (
                f'  {{\n   "path": {json.dumps(path)},\n   "size": {size},\n'
                f'   "sha256": "{digest}",\n   "content_type": {kind}\n  }}'
            )
            found = (size, digest, text)
        kept[path] = found
        entries.append(found[2])
    if written is not None:
        written.clear()
        written.update(kept)
    if not entries:
        return b'{\n "files": []\n}\n'
    return ('{\n "files": [\n' + ",\n".join(entries) + "\n ]\n}\n").encode()
