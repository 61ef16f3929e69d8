"""The publication held in memory for the web service, reloaded when its files change.

Requests read `Live.current()`, which never compiles: at most four times a second it
compares the registry's and ledger's stat() with what was loaded and, on a
change, recompiles in a background thread while the old publication keeps
being served. A registry that fails to load leaves the last good publication
in service and records the error for /healthz.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from . import collector
from .build import write_file
from .errors import BuildError, RegistryError
from .gzipped import Pieces, compress
from .model import Event
from .publish import Publication, content_type, publish
from .registry import Raw, Source, interpret, ledger_path, read_source
from .urls import canonical_topics
from .zones import zone

log = logging.getLogger("icalpub")
T = TypeVar("T")
CHECK_INTERVAL = 0.25  # seconds between stat() checks, per process (a stat is ~2 µs)
COMBINATIONS = 256  # filtered topic sets kept, least recently used dropped first
PAGES = 256  # rendered HTML pages kept per publication


@dataclass(frozen=True)
class Resource:
    """One published file, ready to send: plain and gzip bytes, strong ETag, type."""

    body: bytes
    gzipped: bytes
    etag: str
    content_type: str
    pieces: Pieces = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(
        cls, path: str, body: bytes, earlier: Resource | None = None, keep: bool = False
    ) -> Resource:
        """Prepare `body` published at `path`, reusing what `earlier` had compressed.

        With `keep`, its gzip pieces are kept for the next version to reuse
        (the published files; unions and event files are made once per version).
        """
        digest = hashlib.sha256(body).hexdigest()[:32]
        known = earlier.pieces if earlier is not None else None
        packed, pieces = compress(body, known, keep=keep)
        return cls(body, packed, f'"{digest}"', content_type(path), pieces)


class Lru(Generic[T]):
    """A bounded, thread-safe map that makes a missing value once and drops the least used."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, T] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        """Return the value for `key`, calling `make` (outside the lock) when it is missing."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def keys(self) -> list[Hashable]:
        """Return the keys, least recently used first."""
        with self._lock:
            return list(self._items)


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
    reusable: Mapping[bytes, Event] = field(default_factory=dict, repr=False)
    made: Lru[Resource | None] = field(default_factory=lambda: Lru(COMBINATIONS))
    pages: Lru[str] = field(default_factory=lambda: Lru(PAGES))

    def page(self, key: tuple[object, ...], render: Callable[[], str]) -> str:
        """Return a rendered page for `key`, rendering it once per publication."""
        return self.pages.get(key, render)

    def event(self, event_id: str) -> Resource | None:
        """Return `events/<id>.ics`, made on first request and kept, or None."""

        def make() -> Resource | None:
            body = self.publication.event_file(event_id)
            return Resource.of(f"{event_id}.ics", body) if body is not None else None

        return self.made.get(("event", event_id), make)

    def combination(self, fmt: str, topics: Iterable[str]) -> Resource:
        """Return the calendar or feed of a topic union, computed once per canonical set."""
        chosen = canonical_topics(topics)

        def make() -> Resource:
            return Resource.of(f"x.{fmt}", self.publication.render(fmt, chosen))

        found = self.made.get((fmt, chosen), make)
        assert found is not None
        return found


def compile_served(
    path: Path, previous: Served | None = None, source: Source | None = None
) -> Served:
    """Read and compile the registry at `path`; raise RegistryError if it is invalid."""
    # Events whose text did not change are reused, not checked and built again.
    source = source or read_source(path, previous.reusable if previous is not None else None)
    if source.registry is None:
        raise RegistryError(source.problems)
    registry = source.registry
    today = dt.datetime.now(dt.UTC).astimezone(zone(registry.calendar.timezone)).date()
    # Changes the ledger has not seen yet count as made when the file was saved (SPEC §5).
    earlier = previous.publication if previous is not None else None
    publication = publish(
        registry, source.ledger, source.modified, today, earlier, event_files=False
    )
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
        resources[name] = Resource.of(name, publication.files[name], older, keep=True)
    resources = {name: resources[name] for name in publication.files}
    modified = publication.modified
    if previous is not None:
        modified = max(modified, previous.last_modified)  # never backwards
    return Served(
        publication=publication,
        resources=resources,
        last_modified=modified,
        version=_version(publication, resources),
        loaded_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        ledger_behind=publication.reconciled.behind,
        raw=source.raw,
        reusable=source.reusable,
    )


def _settle() -> None:
    """Move the objects alive now out of the garbage collector's sight.

    A publication is millions of long-lived objects; left in the collector's
    oldest generation, every full collection (which allocation during a
    reload triggers) walks them all while requests wait. They hold no
    reference cycles, so reference counting still frees an old publication.
    """
    gc.freeze()


def _version(publication: Publication, resources: dict[str, Resource]) -> str:
    """Return a short hash of everything published, the per-event files included."""
    digest = hashlib.sha256()
    for name, resource in resources.items():  # their ETags are hashes of their bytes
        digest.update(f"{name} {resource.etag}\n".encode())
    reconciled = publication.reconciled
    for event_id in sorted(reconciled.stamps):
        stamp = reconciled.stamps[event_id]
        digest.update(f"{event_id} {reconciled.hashes[event_id]} {stamp}\n".encode())
    return digest.hexdigest()[:16]


class Live:
    """The current publication of one registry file, kept fresh."""

    def __init__(
        self, path: str | Path, background: bool = True, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.path = Path(path)
        self.background = background
        self.clock = clock
        self.error: list[str] | None = None
        self._saved: Raw | None = None
        self.error_at: dt.datetime | None = None
        self._signature = self._stat()
        try:
            with collector.paused():
                self._served = compile_served(self.path)
        except RegistryError as exc:
            # Invalid at start-up: refuse to start, unless this is a worker replacing
            # one of the same server, which must go on with the last good version.
            served = self._from_snapshot()
            if served is None:
                raise
            self._served = served
            self.error = [str(p) for p in exc.problems if p.severity == "error"]
            self.error_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
            log.error(
                "%s is invalid; serving the last good version %s from before this worker started",
                self.path,
                served.version,
            )
        self._save_snapshot()
        _settle()
        self._checked = self.clock()
        self._reloading = threading.Lock()
        log.info(
            "loaded %s: %d events, version %s",
            self.path,
            len(self._served.publication.registry.events),
            self._served.version,
        )

    @property
    def status(self) -> str:
        """Return 'ok', or 'degraded' while the files on disk fail to load."""
        return "degraded" if self.error else "ok"

    def current(self) -> Served:
        """Return the publication to serve now, starting a reload if the files changed."""
        now = self.clock()
        if now - self._checked >= CHECK_INTERVAL:
            self._checked = now
            signature = self._stat()
            if signature != self._signature:
                self._start_reload(signature)
        return self._served

    def reload(self) -> None:
        """Reload now, in this thread (for tests and for `icalpub serve` start-up)."""
        self._reload(self._stat())

    def _start_reload(self, signature: tuple[object, ...]) -> None:
        if not self._reloading.acquire(blocking=False):
            return  # one reload at a time; the next check sees any later change
        if not self.background:
            try:
                self._reload_locked(signature)
            finally:
                self._reloading.release()
            return

        def run() -> None:
            # Requests first: the recompile takes what CPU they leave.
            with contextlib.suppress(OSError, AttributeError):
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
            try:
                self._reload_locked(signature)
            finally:
                self._reloading.release()

        threading.Thread(target=run, name="icalpub-reload", daemon=True).start()

    def _reload(self, signature: tuple[object, ...]) -> None:
        with self._reloading:
            self._reload_locked(signature)

    def _reload_locked(self, signature: tuple[object, ...]) -> None:
        started = time.perf_counter()
        try:
            with collector.paused():  # for this whole process, only while compiling
                served = compile_served(self.path, self._served)
            if self._stat()[1:] != signature[1:]:
                # Saved again while compiling (perhaps half-written): try again next time.
                log.info("%s changed while loading; loading it again", self.path)
                return
        except RegistryError as exc:
            self.error = [str(p) for p in exc.problems if p.severity == "error"]
            self.error_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
            for line in self.error:
                log.error("reload failed, still serving version %s: %s", self._served.version, line)
        except Exception:  # an unexpected failure must not stop the service
            log.exception("reload failed, still serving version %s", self._served.version)
            self.error = ["internal error while compiling; see the log"]
            self.error_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
        else:
            self._served = served
            self.error = None
            self.error_at = None
            self._save_snapshot()
            _settle()
            log.info(
                "reloaded %s in %.2f s: %d events, version %s",
                self.path,
                time.perf_counter() - started,
                len(served.publication.registry.events),
                served.version,
            )
        self._signature = signature

    def _snapshot_path(self) -> Path:
        """Return where this server keeps its last good input: one file per registry and server.

        The key includes the parent process (gunicorn's master) and its start
        time, so a replaced worker finds it and a new server never does.
        """
        state = os.environ.get("ICALPUB_STATE_DIR") or os.path.join(
            tempfile.gettempdir(), f"icalpub-{os.getuid()}"
        )
        parent = os.getppid()
        try:
            started = Path(f"/proc/{parent}/stat").read_text().rsplit(")", 1)[1].split()[19]
        except (OSError, IndexError):
            started = "0"
        key = hashlib.sha256(f"{self.path.resolve()}|{parent}|{started}".encode()).hexdigest()
        return Path(state) / f"{key[:24]}.last-good"

    def _save_snapshot(self) -> None:
        raw = self._served.raw
        if raw is None or raw == self._saved:
            return
        meta = json.dumps(
            {
                "modified": int(raw.modified.timestamp()),
                "registry": len(raw.registry),
                "ledger": -1 if raw.ledger is None else len(raw.ledger),
            }
        )
        path = self._snapshot_path()
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_file(path, meta.encode() + b"\n" + raw.registry + (raw.ledger or b""))
        except (OSError, BuildError) as exc:
            log.warning("cannot keep the last good version at %s: %s", path, exc)
            return
        self._saved = raw

    def _from_snapshot(self) -> Served | None:
        try:
            data = self._snapshot_path().read_bytes()
            head, _, body = data.partition(b"\n")
            meta = json.loads(head)
            registry = body[: meta["registry"]]
            ledger = None if meta["ledger"] < 0 else body[meta["registry"] :]
            modified = dt.datetime.fromtimestamp(meta["modified"], dt.UTC)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        raw = Raw(registry, ledger, modified)
        try:
            served = compile_served(self.path, source=interpret(str(self.path), raw))
        except RegistryError:
            return None
        self._saved = raw
        return served

    def _stat(self) -> tuple[object, ...]:
        # The local date is part of the signature: keep_past's window moves with it.
        served = getattr(self, "_served", None)
        name = served.publication.registry.calendar.timezone if served else "UTC"
        parts: list[object] = [dt.datetime.now(dt.UTC).astimezone(zone(name)).date()]
        for path in (self.path, ledger_path(self.path)):
            try:
                info = os.stat(path)
                parts.append((info.st_mtime_ns, info.st_size, info.st_ino))
            except OSError:
                parts.append(None)
        return tuple(parts)
