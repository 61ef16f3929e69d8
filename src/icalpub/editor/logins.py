"""The editor's state shared by every worker and kept across restarts: login failures and
open sessions, in SQLite (`editor.sqlite` in the registry's state folder, WAL).

Login failures are counted per account (the editor a login resolves to, however it
is spelled) and per client network (an IPv4 address, an IPv6 /64). Each earns a
wait that grows and then expires; an attempt during a wait is refused without
checking the password. An account's wait is capped at `ACCOUNT_MAX_WAIT`
seconds, so that nobody can keep an editor out, and still lets through only
about ten password checks a minute; a network's grows to a minute. A success
forgets that account's failures only (an editor's own logins do not reset the
guesses at a colleague's account, nor their network's count).

A session is valid only while its id is in the table: logging out deletes it,
"log out everywhere" deletes all of an editor's, and a lost state folder ends
every session (it fails closed). Only the SHA-256 of each id is stored.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from ..stats.store import network

ACCOUNT_FREE, ACCOUNT_MAX_WAIT = 3, 8.0  # failures before waiting; the longest wait (seconds)
NETWORK_FREE, NETWORK_MAX_WAIT = 10, 60.0
FORGET_AFTER = 15 * 60  # seconds without a failure after which a count starts again
SESSION_SECONDS = 12 * 3600
SCHEMA = """
CREATE TABLE IF NOT EXISTS failures (
    kind TEXT NOT NULL, key TEXT NOT NULL, count INTEGER NOT NULL,
    last REAL NOT NULL, until REAL NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, editor TEXT NOT NULL, since INTEGER NOT NULL
) WITHOUT ROWID;
"""


class Logins:
    """The login throttle and the session table of one registry's editor."""

    def __init__(self, folder: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = folder / "editor.sqlite"
        self.clock = clock

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        connection = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(SCHEMA)
        except BaseException:
            connection.close()
            raise
        self.path.chmod(0o600)
        return connection

    # -- the throttle -------------------------------------------------------------

    def wait(self, address: str, account: str) -> float:
        """Return how many seconds this network must wait before trying this account."""
        now = self.clock()
        connection = self._connect()
        try:
            rows = connection.execute(
                "SELECT until FROM failures WHERE (kind = 'account' AND key = ?)"
                " OR (kind = 'network' AND key = ?)",
                (account, network(address)),
            ).fetchall()
        finally:
            connection.close()
        return max([0.0, *(float(until) - now for (until,) in rows)])

    def failed(self, address: str, account: str) -> None:
        """Count a failed login on `account` from `address`'s network."""
        now = self.clock()
        connection = self._connect()
        try:
            connection.execute("BEGIN IMMEDIATE")
            for kind, key, free, cap in (
                ("account", account, ACCOUNT_FREE, ACCOUNT_MAX_WAIT),
                ("network", network(address), NETWORK_FREE, NETWORK_MAX_WAIT),
            ):
                row = connection.execute(
                    "SELECT count, last FROM failures WHERE kind = ? AND key = ?", (kind, key)
                ).fetchone()
                count = 1 if row is None or row[1] < now - FORGET_AFTER else row[0] + 1
                until = now + min(cap, 2.0 ** (count - free)) if count >= free else 0.0
                connection.execute(
                    "INSERT OR REPLACE INTO failures VALUES (?, ?, ?, ?, ?)",
                    (kind, key, count, now, until),
                )
            connection.execute("DELETE FROM failures WHERE last < ?", (now - 2 * FORGET_AFTER,))
            connection.execute("COMMIT")
        finally:
            connection.close()

    def succeeded(self, account: str) -> None:
        """Forget the failures of `account` (not of the network: see the module's notes)."""
        connection = self._connect()
        try:
            connection.execute(
                "DELETE FROM failures WHERE kind = 'account' AND key = ?", (account,)
            )
        finally:
            connection.close()

    # -- sessions -----------------------------------------------------------------

    def open_session(self, editor: str) -> str:
        """Record a new session of `editor`; return its id (for the signed cookie)."""
        session_id = secrets.token_urlsafe(32)
        now = int(self.clock())
        connection = self._connect()
        try:
            connection.execute(
                "INSERT INTO sessions VALUES (?, ?, ?)", (_hashed(session_id), editor, now)
            )
            connection.execute("DELETE FROM sessions WHERE since < ?", (now - SESSION_SECONDS,))
        finally:
            connection.close()
        return session_id

    def is_open(self, session_id: str, editor: str) -> bool:
        """Return whether the session is `editor`'s and has not been ended."""
        connection = self._connect()
        try:
            row = connection.execute(
                "SELECT editor, since FROM sessions WHERE id = ?", (_hashed(session_id),)
            ).fetchone()
        finally:
            connection.close()
        return row is not None and row[0] == editor and row[1] >= self.clock() - SESSION_SECONDS

    def close_session(self, session_id: str) -> None:
        """End one session (logging out)."""
        self._run("DELETE FROM sessions WHERE id = ?", _hashed(session_id))

    def close_all(self, editor: str) -> None:
        """End every session of `editor` ("log out everywhere")."""
        self._run("DELETE FROM sessions WHERE editor = ?", editor)

    def _run(self, statement: str, value: str) -> None:
        connection = self._connect()
        try:
            connection.execute(statement, (value,))
        finally:
            connection.close()


def _hashed(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()
