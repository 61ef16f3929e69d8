"""Counting polls in the service without slowing or breaking one.

A request only hashes its client and appends to a list; at most once a second
a request hands the list to SQLite in one transaction — after its own answer
has been sent (`call_on_close`), so no poll waits for the database and no
thread is started (the build forks only while a process has one thread). Any
failure of the database (locked, full, read-only, corrupt) or of the state
folder keeps those counts for a later try (within bounds) and is logged once
per kind; the response never waits for it and never sees it. A poll the
database refuses for its own values (none should: reported counts are
bounded) is dropped alone, and the rest of its batch is written: no client
can switch counting off. The `stats` setting turns counting off.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import datetime as dt
import logging
import sqlite3
import threading
import time
from collections.abc import Callable

from .store import Counts, Poll

log = logging.getLogger("icalpub")
FLUSH_INTERVAL = 1.0  # seconds between writes of a worker's counts
MAX_PENDING = 50_000  # polls kept for a later write while the database fails; then dropped
BUSY_TIMEOUT = 0.05  # seconds a write waits for another worker's; then it is tried later


class Counter:
    """The polls of one worker, written in batches."""

    def __init__(
        self,
        store: Counts,
        today: Callable[[], dt.date],
        interval: float = FLUSH_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.today = today
        self.interval = interval
        self.clock = clock
        self._pending: list[Poll] = []
        self._lock = threading.Lock()  # the pending polls
        self._writing = threading.Lock()  # the database connection
        self._logged: set[str] = set()
        self._flushed = clock()
        self._day_at, self._day_text = -1, ""
        self._connection: sqlite3.Connection | None = None
        atexit.register(self.close)

    def count(self, resource: str, address: str, user_agent: str) -> None:
        """Count one poll of `resource`; never raises, never waits for the database."""
        try:
            poll = self.store.poll(self._day(), resource, address, user_agent)
        except Exception as exc:  # the salt's folder may be unwritable: counting stops
            self._failed("salt", exc)
            return
        with self._lock:
            self._pending.append(poll)

    def _day(self) -> str:
        """Return today's date, worked out again at most once a second."""
        second = int(self.clock())
        if second != self._day_at:
            self._day_at, self._day_text = second, self.today().isoformat()
        return self._day_text

    def due(self) -> bool:
        """Return whether the polls counted should be written now (once per interval)."""
        now = self.clock()
        if now - self._flushed < self.interval:
            return False
        self._flushed = now
        return True

    def flush(self) -> None:
        """Write the polls counted so far; on any failure drop them and log it once."""
        with self._writing:
            with self._lock:
                polls, self._pending = self._pending, []
            if not polls:
                return
            try:
                if self._connection is None:
                    self._connection = self.store.connect(timeout=BUSY_TIMEOUT)
                self.store.add(polls, self._connection)
            except (sqlite3.Error, OSError) as exc:
                self._failed("database", exc)
                self._disconnect()
                self._put_back(polls)
            except (ValueError, OverflowError, TypeError) as exc:  # one poll's values
                writable = self._writable(polls)
                self._failed("poll", exc, dropped=len(polls) - len(writable))
                self._put_back(writable)

    def _writable(self, polls: list[Poll]) -> list[Poll]:
        """Return the polls whose values SQLite can bind (each tried alone, nothing written)."""
        kept = []
        with contextlib.closing(sqlite3.connect(":memory:")) as probe:
            for poll in polls:
                try:
                    probe.execute("SELECT ?, ?, ?, ?, ?", dataclasses.astuple(poll))
                except (ValueError, OverflowError, TypeError, sqlite3.Error):
                    continue
                kept.append(poll)
        return kept

    def _put_back(self, polls: list[Poll]) -> None:
        with self._lock:  # try again with the next write, within bounds
            self._pending[:0] = polls[-MAX_PENDING:]
            del self._pending[MAX_PENDING:]

    def _disconnect(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def close(self) -> None:
        """Write what is left and close the database."""
        self.flush()
        with self._writing:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _failed(self, kind: str, exc: BaseException, dropped: int = 0) -> None:
        if kind not in self._logged:
            self._logged.add(kind)
            if dropped:
                log.error(
                    "%d poll(s) not counted: the database refused their values (%s); "
                    "the others are written; logged once",
                    dropped,
                    exc,
                )
                return
            log.error(
                "subscriber counts not written (%s: %s); kept for a later try up to "
                "50,000, then dropped; polls are answered as ever; logged once",
                kind,
                exc,
            )
