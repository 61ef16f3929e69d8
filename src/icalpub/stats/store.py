"""Daily subscriber counts in SQLite (the standard library's sqlite3, WAL), in the state folder.

What is stored: per day, resource (URL path) and client family, the number of
distinct subscribers, the number of requests, and the latest count a hosted
reader reported. A subscriber is a salted hash of the client address (IPv6
cut to /64) and User-Agent; the salt is random, lives in a file of its own for
one day and is deleted when the day ends, together with that day's hashes
(table `seen`, needed only to count each subscriber once across workers).
After the day, nothing but the counts is left. Rows older than the retention
(default 400 days) are deleted.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import ipaddress
import secrets
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..files import locked, write_file
from ..settings import Settings
from .clients import classify

RETENTION_DAYS = 400
SCHEMA = """
CREATE TABLE IF NOT EXISTS daily (
    day TEXT NOT NULL, resource TEXT NOT NULL, client TEXT NOT NULL,
    subscribers INTEGER NOT NULL DEFAULT 0, requests INTEGER NOT NULL DEFAULT 0,
    reported INTEGER,
    PRIMARY KEY (day, resource, client)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS seen (
    day TEXT NOT NULL, resource TEXT NOT NULL, client TEXT NOT NULL, hash BLOB NOT NULL,
    PRIMARY KEY (day, resource, client, hash)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ingested (
    source TEXT PRIMARY KEY, head TEXT NOT NULL, offset INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class Poll:
    """One counted request: when, what, who (already hashed) and what the client reports."""

    day: str
    resource: str
    client: str
    subscriber: bytes
    reported: int | None


@functools.lru_cache(maxsize=8192)
def network(address: str) -> str:
    """Return the part of an address that names a subscriber: IPv4 whole, IPv6 its /64."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address)
    return str(ip)


class Salt:
    """Today's salt, shared by every process through a file, replaced when the day changes."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "stats-salt"
        self._day = ""
        self._salt = b""

    def today(self, day: str) -> bytes:
        """Return the salt of `day`, making a new one (and destroying the old) on a new day."""
        if day == self._day:
            return self._salt
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with locked(self.path.with_name(".stats-salt.lock")):
            try:
                stored_day, _, value = self.path.read_text("ascii").partition(" ")
            except FileNotFoundError:
                stored_day, value = "", ""
            if stored_day != day:
                value = secrets.token_hex(32)
                write_file(self.path, f"{day} {value}".encode(), new_mode=0o600)
        self._day, self._salt = day, bytes.fromhex(value.strip())
        return self._salt


class Counts:
    """The counts database of one service or one log ingestion."""

    def __init__(self, folder: Path, retention_days: int = RETENTION_DAYS) -> None:
        self.folder = folder
        self.path = folder / "stats.sqlite"
        self.retention_days = retention_days
        self.salt = Salt(folder)

    def connect(self, timeout: float = 5.0) -> sqlite3.Connection:
        """Open the database (made if missing), in WAL mode, waiting `timeout` for a lock."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Used by one thread at a time (the counter holds a lock), not always the same one.
        connection = sqlite3.connect(
            self.path, timeout=timeout, isolation_level=None, check_same_thread=False
        )
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.executescript(SCHEMA)
        except BaseException:
            connection.close()  # a full or corrupt file must not stay open
            raise
        return connection

    def poll(self, day: str, resource: str, address: str, user_agent: str) -> Poll:
        """Return one request as the counts see it: the address and User-Agent hashed."""
        client = classify(user_agent)
        # A hosted reader is one subscriber whatever count its User-Agent reports today.
        agent = client.family if client.reported is not None else user_agent
        digest = hashlib.blake2b(digest_size=16, key=self.salt.today(day))
        digest.update(f"{network(address)}\0{agent}".encode())
        return Poll(day, resource, client.family, digest.digest(), client.reported)

    def add(
        self,
        polls: Sequence[Poll],
        connection: sqlite3.Connection | None = None,
        keep_seen: bool = False,
    ) -> None:
        """Add polls in one transaction; forget the hashes of past days (unless `keep_seen`:
        a log being read goes through past days in order)."""
        if not polls:
            return
        # Thousands of polls come from a few subscribers: one statement per subscriber
        # and one per (day, resource, client), however many polls each made.
        subscribers: dict[tuple[str, str, str, bytes], None] = {}  # in order, once each
        requests: dict[tuple[str, str, str], int] = {}
        reported: dict[tuple[str, str, str], int | None] = {}  # the latest count reported
        for poll in polls:
            key = (poll.day, poll.resource, poll.client)
            subscribers.setdefault((*key, poll.subscriber), None)
            requests[key] = requests.get(key, 0) + 1
            if poll.reported is not None or key not in reported:
                reported[key] = poll.reported
        own = connection is None
        connection = connection or self.connect()
        try:
            connection.execute("BEGIN IMMEDIATE")
            new = dict.fromkeys(requests, 0)
            for day, resource, client, subscriber in subscribers:
                new[(day, resource, client)] += connection.execute(
                    "INSERT OR IGNORE INTO seen VALUES (?, ?, ?, ?)",
                    (day, resource, client, subscriber),
                ).rowcount
            for key, made in requests.items():
                connection.execute(
                    "INSERT INTO daily (day, resource, client, subscribers, requests, reported)"
                    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (day, resource, client) DO UPDATE SET"
                    " subscribers = subscribers + excluded.subscribers,"
                    " requests = requests + excluded.requests,"
                    " reported = coalesce(excluded.reported, reported)",
                    (*key, new[key], made, reported[key]),
                )
            latest = max(poll.day for poll in polls)
            if not keep_seen:
                connection.execute("DELETE FROM seen WHERE day < ?", (latest,))
            oldest = dt.date.fromisoformat(latest) - dt.timedelta(days=self.retention_days)
            connection.execute("DELETE FROM daily WHERE day < ?", (oldest.isoformat(),))
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        finally:
            if own:
                connection.close()

    def rows(self, since: str) -> list[tuple[str, str, str, int, int, int | None]]:
        """Return (day, resource, client, subscribers, requests, reported) from `since` on."""
        connection = self.connect()
        try:
            found = connection.execute(
                "SELECT day, resource, client, subscribers, requests, reported FROM daily"
                " WHERE day >= ? ORDER BY day, resource, client",
                (since,),
            ).fetchall()
        finally:
            connection.close()
        return [tuple(row) for row in found]


def for_settings(settings: Settings) -> Counts:
    """Return the store in the settings' state folder, keeping their days of counts."""
    return Counts(settings.state_dir, settings.stats_retention_days)
