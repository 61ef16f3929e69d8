"""Counting polls from nginx access logs, for static deployments: `icalpub stats ingest`.

Reads nginx's combined format, plain or gzipped. A file is known by the hash
of its first line, so a log that logrotate renamed is still the same log:
ingesting it again (or its renamed copy) counts only the lines after the last
one counted. Lines of today are salted with the service's salt of the day, so
a log read every hour counts each subscriber of the day once; lines of other
days get a salt of this run only (never written anywhere), so a client seen
in two runs that read the same past day counts twice as a subscriber (its
requests count once each) — read a day's log after it ends, in one run.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import re
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from .. import urls
from ..zones import zone
from .store import Counts, Poll, Salt

LINE = re.compile(
    r'(?P<address>\S+) \S+ \S+ \[(?P<time>[^\]]+)\] "(?P<method>[A-Z]+) (?P<target>\S+)[^"]*" '
    r'(?P<status>\d{3}) \S+ "(?:[^"\\]|\\.)*" "(?P<agent>(?:[^"\\]|\\.)*)"'
)
FEED = re.compile(urls.published_pattern())
PREFIX = re.compile(rf"{urls.LANGUAGE}/")


class RunSalt(Salt):
    """Today's salt shared with the service; for other days, one of this run only."""

    def __init__(self, shared: Salt, today: str) -> None:
        self.shared = shared
        self.current = today
        self._salts: dict[str, bytes] = {}

    def today(self, day: str) -> bytes:
        """Return the salt of `day`."""
        if day == self.current:
            return self.shared.today(day)
        return self._salts.setdefault(day, secrets.token_bytes(32))


def resource(target: str) -> str | None:
    """Return the canonical calendar or feed a request target polls, or None (not counted)."""
    parts = urlsplit(target)
    path = parts.path.lstrip("/")
    if not FEED.fullmatch(path):
        return None
    found = PREFIX.match(path)
    prefix = found.group(0) if found else ""  # another language's: `en/`
    inside = path[len(prefix) :]
    if inside.startswith("events/"):
        return None
    topics = [v for k, v in parse_qsl(parts.query) if k == "topic"]
    if topics and "/" not in inside:
        fmt = inside.partition(".")[2]
        return "/" + prefix + urls.feed_path(fmt, topics)
    return "/" + path


def ingest(
    store: Counts, log: Path, calendar_zone: str = "UTC", today: dt.date | None = None
) -> tuple[int, int]:
    """Count the polls in `log` not counted before; return (lines read, polls counted)."""
    tz = zone(calendar_zone)
    current = today or dt.datetime.now(tz).date()
    shared = store.salt
    store.salt = RunSalt(shared, current.isoformat())
    connection = store.connect()
    try:
        lines = _lines(log)
        first = next(lines, None)
        if first is None:
            return 0, 0
        head = hashlib.sha256(first).hexdigest()
        row = connection.execute("SELECT offset FROM ingested WHERE head = ?", (head,)).fetchone()
        done = int(row[0]) if row else 0
        read = counted = 0
        polls: list[Poll] = []
        offset = done
        for number, raw in enumerate(_chain(first, lines)):
            if number < done:
                continue
            read += 1
            offset = number + 1
            poll = _poll(store, raw, tz)
            if poll is not None:
                polls.append(poll)
                counted += 1
            if len(polls) >= 5000:
                _save(store, connection, polls, head, offset)
                polls = []
        _save(store, connection, polls, head, offset)
        return read, counted
    finally:
        store.salt = shared
        connection.close()


def _save(
    store: Counts, connection: sqlite3.Connection, polls: list[Poll], head: str, offset: int
) -> None:
    if polls:
        store.add(polls, connection, keep_seen=True)
    connection.execute(
        "INSERT INTO ingested (source, head, offset) VALUES (?, ?, ?) ON CONFLICT (source)"
        " DO UPDATE SET offset = excluded.offset",
        (head, head, offset),
    )


def _poll(store: Counts, raw: bytes, tz: dt.tzinfo) -> Poll | None:
    match = LINE.match(raw.decode("utf-8", "replace"))
    if match is None or match["method"] != "GET" or match["status"] not in ("200", "304"):
        return None
    polled = resource(match["target"])
    if polled is None:
        return None
    try:
        when = dt.datetime.strptime(match["time"], "%d/%b/%Y:%H:%M:%S %z")
    except ValueError:
        return None
    day = when.astimezone(tz).date().isoformat()
    agent = match["agent"].replace('\\"', '"')
    return store.poll(day, polled, match["address"], agent)


def _lines(log: Path) -> Iterator[bytes]:
    with gzip.open(log, "rb") if log.suffix == ".gz" else open(log, "rb") as stream:
        for line in stream:
            yield line.rstrip(b"\r\n")


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest
