"""Who is asking: the session's editor, a trusted proxy's header, or an API token.

Sessions are Flask's signed cookie, bound to the editor's current password
hash (a new password ends every old session) and to a login time (they end
after `SESSION_HOURS`). The cookie is HttpOnly, SameSite=Lax, and Secure when
the request came over HTTPS. A proxy's user header and X-Forwarded-* are
believed only from the addresses in `[proxy] trusted`; anyone else who sends
them is ignored.

Logins are slowed, not locked: each failure from a client address, and each
failure on an account, earn a growing wait before the next attempt counts
(up to a minute per address; an account's wait is capped at a few seconds so
that someone guessing at an editor's account from elsewhere cannot keep the
editor out). The counts live in each worker's memory.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Request, session

from ..web import forwarded
from .accounts import Accounts, Editor, session_key

SESSION_HOURS = 12
ADDRESS_FREE, ADDRESS_MAX_WAIT = 5, 60.0  # failures before waiting; the longest wait
ACCOUNT_FREE, ACCOUNT_MAX_WAIT = 10, 5.0


def client_address(request: Request, accounts: Accounts) -> str:
    """Return the client's address: the proxy's X-Forwarded-For entry only from a trusted proxy."""
    return forwarded.client_address(request, accounts.proxy.trusts)


def is_https(request: Request, accounts: Accounts) -> bool:
    """Return whether the client used HTTPS (as the trusted proxy says, if there is one)."""
    if accounts.proxy.trusts(request.remote_addr):
        proto = request.headers.get("X-Forwarded-Proto", "")
        if proto:
            return proto.split(",")[0].strip().lower() == "https"
    return request.is_secure


def proxy_editor(request: Request, accounts: Accounts) -> Editor | None:
    """Return the editor a trusted proxy says is logged in (by email), if any."""
    if not accounts.proxy.header or not accounts.proxy.trusts(request.remote_addr):
        return None
    email = request.headers.get(accounts.proxy.header, "")
    return accounts.by_email(email) if email else None


def session_editor(accounts: Accounts, now: dt.datetime) -> Editor | None:
    """Return the editor of this session, if the session is theirs and still valid."""
    name = session.get("editor")
    key = session.get("key")
    since = session.get("since")
    if not isinstance(name, str) or not isinstance(key, str) or not isinstance(since, int):
        return None
    editor = accounts.editors.get(name)
    if editor is None or session_key(editor) != key:
        return None
    age = now.timestamp() - since
    if age < -60 or age > SESSION_HOURS * 3600:
        return None
    return editor


def start_session(editor: Editor, now: dt.datetime) -> None:
    """Begin a new session for `editor`: nothing of the old one is kept (no fixation)."""
    session.clear()
    session["editor"] = editor.name
    session["key"] = session_key(editor)
    session["since"] = int(now.timestamp())


def token_editor(request: Request, accounts: Accounts) -> Editor | None:
    """Return the editor of an `Authorization: Bearer` API token."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return accounts.by_token(token.strip())


@dataclass
class _Failures:
    count: int = 0
    until: float = 0.0  # monotonic time before which a new attempt is refused


class Throttle:
    """Failed logins per address and per account, with waits that grow and then expire."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._addresses: dict[str, _Failures] = {}
        self._accounts: dict[str, _Failures] = {}

    def wait(self, address: str, account: str) -> float:
        """Return how many seconds to wait before this address may try this account."""
        now = self.clock()
        with self._lock:
            waits = [
                found.until - now
                for found in (self._addresses.get(address), self._accounts.get(account.lower()))
                if found is not None
            ]
        return max([0.0, *waits])

    def failed(self, address: str, account: str) -> None:
        """Count a failed login."""
        now = self.clock()
        with self._lock:
            self._prune(now)
            for table, key, free, cap in (
                (self._addresses, address, ADDRESS_FREE, ADDRESS_MAX_WAIT),
                (self._accounts, account.lower(), ACCOUNT_FREE, ACCOUNT_MAX_WAIT),
            ):
                found = table.setdefault(key, _Failures())
                found.count += 1
                if found.count >= free:
                    found.until = now + min(cap, 2.0 ** (found.count - free))

    def succeeded(self, address: str, account: str) -> None:
        """Forget the failures of this address and account."""
        with self._lock:
            self._addresses.pop(address, None)
            self._accounts.pop(account.lower(), None)

    def _prune(self, now: float) -> None:
        if len(self._addresses) + len(self._accounts) < 10_000:
            return
        for table in (self._addresses, self._accounts):
            for key in [k for k, v in table.items() if v.until < now - 3600]:
                del table[key]
