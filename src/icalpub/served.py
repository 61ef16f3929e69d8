"""A compiled publication ready to serve: each file's bytes, gzip, ETag, and bounded caches."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .errors import RegistryError
from .gzipped import Pieces, compress
from .ledger import Stamp, seen_at
from .lru import Lru
from .publish import Publication, content_type, publish
from .reader import read_source
from .registry import Raw, Source
from .reread import Known
from .schedule import next_change, published
from .urls import canonical_topics
from .zones import today_in

T = TypeVar("T")
ON_DEMAND = 256  # topic unions and event files kept, least recently used dropped first
PAGES = 256  # rendered HTML pages kept per publication


@dataclass(frozen=True)
class Resource:
    """One published file, ready to send: plain and gzip bytes, strong ETag, type."""

    body: bytes
    gzipped: bytes
    etag: str
    content_type: str
    pieces: Pieces = field(default_factory=Pieces, repr=False, compare=False)
    sha256: str = field(default="", repr=False, compare=False)  # hex, of `body`

    @classmethod
    def prepare(
        cls, body: bytes, media_type: str, earlier: Resource | None = None, keep: bool = False
    ) -> Resource:
        """Compress `body` and hash it, reusing what `earlier` had compressed.

        With `keep`, its gzip pieces are kept for the next version to reuse
        (the published files; unions and event files are made once per version).
        """
        digest = hashlib.sha256(body).hexdigest()
        known = earlier.pieces if earlier is not None else None
        packed, pieces = compress(body, known, keep=keep)
        return cls(body, packed, f'"{digest[:32]}"', media_type, pieces, digest)


@dataclass
class Served:
    """A compiled publication with its resources, and bounded caches of what requests made."""

    publication: Publication
    resources: dict[str, Resource]
    last_modified: dt.datetime
    version: str
    loaded_at: dt.datetime
    ledger_behind: bool
    raw: Raw | None = None
    reusable: Known = field(default_factory=Known, repr=False)
    next_change: dt.datetime | None = None  # when a scheduled event appears (publish again)
    on_demand: Lru[Resource | None] = field(default_factory=lambda: Lru(ON_DEMAND))
    pages: Lru[str] = field(default_factory=lambda: Lru(PAGES))
    computed: Lru[Any] = field(default_factory=lambda: Lru(PAGES))  # what pages are made of
    # Each event's line of `version`, with the stamp it was made from (for the next load).
    version_lines: dict[str, tuple[Stamp, str, bytes]] = field(default_factory=dict, repr=False)

    def page(self, key: tuple[object, ...], render: Callable[[], str]) -> str:
        """Return a rendered page for `key`, rendering it once per publication."""
        return self.pages.get(key, render)

    def remember(self, key: tuple[object, ...], make: Callable[[], T]) -> T:
        """Return what `make` computes for `key` (a month's day grid), once per publication."""
        found: T = self.computed.get(key, make)
        return found

    def event(self, event_id: str, language: str | None = None) -> Resource | None:
        """Return `events/<id>.ics` in `language`, made on first request and kept, or None."""

        def make() -> Resource | None:
            body = self.publication.event_file(event_id, language)
            return Resource.prepare(body, content_type(".ics")) if body is not None else None

        return self.on_demand.get(("event", event_id, *_in(language)), make)

    def union(self, fmt: str, topics: Iterable[str], language: str | None = None) -> Resource:
        """Return the calendar or feed of a union of topics, computed once per canonical set."""
        chosen = canonical_topics(topics)

        def make() -> Resource:
            body = self.publication.render(fmt, chosen, language)
            return Resource.prepare(body, content_type(f".{fmt}"))

        found = self.on_demand.get((fmt, chosen, *_in(language)), make)
        assert found is not None
        return found


def _in(language: str | None) -> tuple[str, ...]:
    """Return what a cache key adds for a language: nothing for the default."""
    return (language,) if language else ()


def compile_served(
    path: Path,
    previous: Served | None = None,
    source: Source | None = None,
    now: dt.datetime | None = None,
) -> Served:
    """Read and compile the registry at `path`; raise RegistryError if it is invalid."""
    # Events whose text did not change are reused, not checked and built again.
    source = source or read_source(path, previous.reusable if previous is not None else None)
    if source.registry is None:
        raise RegistryError(source.problems)
    now = now if now is not None else dt.datetime.now(dt.UTC)
    registry = published(source.registry, now, source.ledger)  # no drafts, nothing early
    today = today_in(registry.calendar.timezone, now)
    # Changes the ledger has not seen yet count as made when the file was saved (SPEC §5).
    earlier = previous.publication if previous is not None else None
    seen = seen_at(source.ledger, source.modified, now)
    publication = publish(registry, source.ledger, seen, today, earlier, event_files=False)
    resources: dict[str, Resource] = {}
    changed: list[str] = []
    for name, body in publication.files.items():
        old = previous.resources.get(name) if previous is not None else None
        # An unchanged file keeps its hash and gzip bytes: a reload pays for what changed.
        if old is not None and old.body == body:
            resources[name] = old
        else:
            changed.append(name)
    # One at a time: a reload runs beside requests, which must not wait for a core.
    # A changed calendar recompresses only the pieces around its changed events.
    for name in changed:
        older = previous.resources.get(name) if previous is not None else None
        resources[name] = Resource.prepare(
            publication.files[name], content_type(name), older, keep=True
        )
    resources = {name: resources[name] for name in publication.files}
    lines = previous.version_lines if previous is not None else {}
    version, lines = _version(publication, resources, lines)
    modified = _last_modified(publication.modified, now, previous)
    return Served(
        publication=publication,
        resources=resources,
        last_modified=modified,
        version=version,
        loaded_at=now.astimezone(dt.UTC).replace(microsecond=0),
        ledger_behind=publication.reconciled.behind,
        raw=source.raw,
        reusable=source.reusable,
        next_change=next_change(source.registry, now),
        version_lines=lines,
    )


def _last_modified(modified: dt.datetime, now: dt.datetime, previous: Served | None) -> dt.datetime:
    """Return HTTP Last-Modified: never later than now (RFC 9110 §8.8.2.1: a stamp
    written in the future waits) and never backwards."""
    modified = min(modified, now.astimezone(dt.UTC).replace(microsecond=0))
    return max(modified, previous.last_modified) if previous is not None else modified


def _version(
    publication: Publication,
    resources: dict[str, Resource],
    earlier: Mapping[str, tuple[Stamp, str, bytes]],
) -> tuple[str, dict[str, tuple[Stamp, str, bytes]]]:
    """Return a short hash of everything published, the per-event files included,
    and each event's line of it (a line `earlier` has for the same stamp and hash
    is not formatted again: a reload's unchanged events keep their Stamp objects)."""
    digest = hashlib.sha256()
    for name, resource in resources.items():  # their ETags are hashes of their bytes
        digest.update(f"{name} {resource.etag}\n".encode())
    reconciled = publication.reconciled
    lines: dict[str, tuple[Stamp, str, bytes]] = {}
    for event_id in sorted(reconciled.stamps):
        stamp, content = reconciled.stamps[event_id], reconciled.hashes[event_id]
        found = earlier.get(event_id)
        if found is None or found[0] is not stamp or found[1] != content:
            found = (stamp, content, f"{event_id} {content} {stamp}\n".encode())
        lines[event_id] = found
    digest.update(b"".join(line for _, _, line in lines.values()))
    return digest.hexdigest()[:16], lines
