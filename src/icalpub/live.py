"""The publication held in memory for the web service, reloaded when its files change.

Requests read `Live.current()`, which never compiles: at most a hundred times a second it
compares the registry's and ledger's stat() (and the calendar's date, which moves
keep_past's window) with what was loaded and, on a change, recompiles in a
background thread while the old publication keeps being served. A registry that
fails to load leaves the last good publication in service and records the
errors for /healthz.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

from . import gcpause
from .errors import RegistryError
from .registry import interpret
from .served import Served, compile_served
from .site import ledger_path
from .snapshot import Snapshot
from .zones import today_in

log = logging.getLogger("icalpub")
# A save is seen within 10 ms (a 1,000-event reload takes a few tens): two stat() are
# ~4 µs, so checking a hundred times a second costs a process well under 0.1% of a core.
CHECK_INTERVAL = 0.01  # seconds between stat() checks, per process
WATCH_INTERVAL = 0.01  # seconds between checks without requests, when publishing
Signature = tuple[object, ...]


def utc_now() -> dt.datetime:
    """Return this moment in UTC."""
    return dt.datetime.now(dt.UTC)


class Live:
    """The current publication of one registry file, kept fresh."""

    def __init__(
        self,
        path: str | Path,
        background: bool = True,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], dt.datetime] = utc_now,
        snapshot: Snapshot | None = None,
        on_loaded: Callable[[Served], object] | None = None,
        turn: Callable[[], AbstractContextManager[object]] | None = None,
    ) -> None:
        self.path = Path(path)
        self.background = background
        self.clock = clock  # when to check again (monotonic seconds)
        self.now = now  # what day it is, for keep_past and pages
        self.errors: list[str] | None = None
        self.error_at: dt.datetime | None = None
        self.snapshot = snapshot  # None: no last good version kept (not a server)
        self.on_loaded = on_loaded  # told of each good version loaded from disk (publishing)
        self.turn = turn or contextlib.nullcontext  # held while a reload loads and tells
        self._files = self._stat_files()
        try:
            with gcpause.paused():
                self._served = compile_served(self.path, now=self.now())
        except RegistryError as exc:
            # Invalid at start-up: refuse to start, unless this is a worker replacing
            # one of the same server run, which must go on with the last good version.
            served = self._from_snapshot()
            if served is None:
                raise
            self._served = served
            self._failed([str(p) for p in exc.problems if p.severity == "error"])
            log.error(
                "%s is invalid; serving the last good version %s from before this worker started",
                self.path,
                served.version,
            )
        self._day = self.today()
        if self.snapshot is not None:
            self.snapshot.save(self._served.raw)
        if self.errors is None:
            self._tell(self._served)
        gcpause.settle()
        self._checked = self.clock()
        self._reloading = threading.Lock()
        self._holds = 0  # saves of this process under way: no reload starts meanwhile
        self._holding = threading.Lock()
        log.info(
            "loaded %s: %d events, version %s",
            self.path,
            len(self._served.publication.registry.events),
            self._served.version,
        )

    @property
    def status(self) -> str:
        """Return 'ok', or 'degraded' while the files on disk fail to load."""
        return "degraded" if self.errors else "ok"

    def today(self) -> dt.date:
        """Return today's date in the calendar's zone."""
        return today_in(self._served.publication.registry.calendar.timezone, self.now())

    @property
    def loaded(self) -> Served:
        """Return the publication loaded last, without looking at the files."""
        return self._served

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Start no reload meanwhile: an editor's save in this process is being written
        and answered, and a compile would take its thread's turns (this process has one
        interpreter lock); the other workers reload at once, this one right after."""
        with self._holding:
            self._holds += 1
        try:
            yield
        finally:
            with self._holding:
                self._holds -= 1

    def current(self) -> Served:
        """Return the publication to serve now, starting a reload if the files changed."""
        now = self.clock()
        if now - self._checked >= CHECK_INTERVAL and not self._holds:
            self._checked = now
            files = self._stat_files()
            if files != self._files or self.today() != self._day or self._due():
                self._start_reload()
        return self._served

    def _due(self) -> bool:
        """Return whether a scheduled event's instant has come since the last load."""
        due = self._served.next_change
        return due is not None and self.now() >= due

    def watch(self, interval: float = WATCH_INTERVAL) -> None:
        """Check the files every `interval` seconds without waiting for a request.

        When nginx answers the polls from the published tree, the service may
        get no request for hours; a changed registry must still be loaded and
        published. A daemon thread of this process does the checking.
        """

        def run() -> None:
            while True:
                time.sleep(interval)
                try:
                    self.current()
                except Exception:  # the watcher must outlive any one failure
                    log.exception("checking %s failed", self.path)

        threading.Thread(target=run, name="icalpub-watch", daemon=True).start()

    def _start_reload(self) -> None:
        if not self._reloading.acquire(blocking=False):
            return  # one reload at a time; the next check sees any later change
        if not self.background:
            try:
                self._reload_locked()
            finally:
                self._reloading.release()
            return

        def run() -> None:
            # Requests first: the recompile takes what CPU they leave.
            with contextlib.suppress(OSError, AttributeError):
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
            try:
                self._reload_locked()
            finally:
                self._reloading.release()

        threading.Thread(target=run, name="icalpub-reload", daemon=True).start()

    def _reload_locked(self) -> None:
        with self.turn():  # with --publish, the workers one after the other
            # The files as they are now: saved again while this worker waited its turn,
            # they are loaded now, not thrown away for another wait.
            self._reload_turn(self._stat_files())

    def _reload_turn(self, files: Signature) -> None:
        started = time.perf_counter()
        try:
            with gcpause.paused():  # for this whole process, only while compiling
                served = compile_served(self.path, self._served, now=self.now())
            if self._stat_files() != files:
                # Saved again while compiling (perhaps half-written): try again next time.
                log.info("%s changed while loading; loading it again", self.path)
                return
        except RegistryError as exc:
            self._failed([str(p) for p in exc.problems if p.severity == "error"])
            self._catch_up()
            for line in self.errors or ():
                log.error("reload failed, still serving version %s: %s", self._served.version, line)
        except Exception:  # an unexpected failure must not stop the service
            log.exception("reload failed, still serving version %s", self._served.version)
            self._failed(["internal error while compiling; see the log"])
        else:
            self._served = served
            self.errors = None
            self.error_at = None
            self._tell(served)  # the tree first: the snapshot is for a replaced worker
            if self.snapshot is not None:
                self.snapshot.save(served.raw)
            gcpause.settle()
            log.info(
                "reloaded %s in %.2f s: %d events, version %s",
                self.path,
                time.perf_counter() - started,
                len(served.publication.registry.events),
                served.version,
            )
        self._files = files
        self._day = self.today()

    def _tell(self, served: Served) -> None:
        if self.on_loaded is None:
            return
        try:
            self.on_loaded(served)
        except Exception:  # publishing must never stop serving
            log.exception("could not hand version %s on", served.version)

    def _failed(self, errors: list[str]) -> None:
        self.errors = errors
        self.error_at = self.now().astimezone(dt.UTC).replace(microsecond=0)

    def _catch_up(self) -> None:
        """Serve the last good version another worker loaded, if it is newer than ours.

        A worker that had no request between a save and a hand edit breaking the
        file would otherwise go on serving the version from before the save.
        """
        raw = self.snapshot.load() if self.snapshot is not None else None
        if raw is None or raw == self._served.raw:
            return
        try:
            source = interpret(str(self.path), raw)
            self._served = compile_served(self.path, self._served, source, now=self.now())
        except RegistryError:
            return
        log.warning(
            "serving the last good version %s, loaded by another worker", self._served.version
        )

    def _from_snapshot(self) -> Served | None:
        raw = self.snapshot.load() if self.snapshot is not None else None
        if raw is None:
            return None
        try:
            return compile_served(self.path, source=interpret(str(self.path), raw), now=self.now())
        except RegistryError:
            return None

    def _stat_files(self) -> Signature:
        parts: list[object] = []
        for path in (self.path, ledger_path(self.path)):
            try:
                info = os.stat(path)
                parts.append((info.st_mtime_ns, info.st_size, info.st_ino))
            except OSError:
                parts.append(None)
        return tuple(parts)
