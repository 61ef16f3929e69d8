"""The editor's shared state: on while the editors file exists, 404 otherwise.

The editors file is read again when it changes (`icalpub editor add` while the
service runs takes effect at once). The secret that signs session cookies is
the `secret_key` setting, else a random key kept beside the editors file
(0600) so that every worker, and the next start, signs alike.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, abort, current_app

from .. import untracked
from ..files import write_file
from ..site import session_key_path
from ..web.state import state
from . import accounts as accounts_module
from .accounts import Accounts
from .history import for_registry
from .logins import Logins
from .store import Neighbour, Store


@dataclass
class Editing:
    """What the editor's views share: the files, the store, the logins (throttle and sessions)."""

    registry: Path
    editors: Path
    logins: Logins  # login failures and open sessions, shared by the workers
    push: bool = False  # push each commit to the git upstream
    secret_key: str | None = None  # configured; else kept beside the editors file
    neighbour: Neighbour | None = None  # the live publication of this process
    _accounts: tuple[tuple[int, int], Accounts] | None = None
    _store: Store | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def enabled(self) -> bool:
        """Return whether the editors file exists (the editor is on)."""
        return self.editors.is_file()

    def accounts(self) -> Accounts:
        """Return the editors file's content, read again when the file changes."""
        stat = self.editors.stat()
        signature = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if self._accounts is None or self._accounts[0] != signature:
                self._accounts = (signature, accounts_module.load(self.editors))
                # Before any login is checked: a first unknown name must cost one hash too.
                accounts_module.prepare()
            return self._accounts[1]

    def store(self) -> Store:
        """Return the store of the registry (git history when it is in a work tree)."""
        with self._lock:
            if self._store is None:
                history = for_registry(self.registry, self.push)
                self._store = Store(self.registry, history, self.neighbour)
            return self._store

    def secret(self) -> str:
        """Return the key that signs session cookies."""
        if self.secret_key:
            return self.secret_key
        path = session_key_path(self.editors)
        try:
            return path.read_text("ascii").strip()
        except FileNotFoundError:
            pass
        key = secrets.token_hex(32)
        staged = path.with_name(f"{path.name}.{secrets.token_hex(4)}")
        write_file(staged, key.encode(), new_mode=0o600)
        try:
            os.link(staged, path)  # the first worker's key wins; the others read it
        except FileExistsError:
            pass
        finally:
            staged.unlink()
        untracked.keep_out_of_git([path])
        return path.read_text("ascii").strip()


def now() -> dt.datetime:
    """Return the service's "now" (the live publication's clock: tests set it)."""
    return state().live.now()


def editing_of(app: Flask) -> Editing:
    """Return the editor's shared state of `app`."""
    found: Editing = app.extensions["icalpub-editor"]
    return found


def editing() -> Editing:
    """Return the editor's shared state, or answer 404 when the editor is off."""
    found = editing_of(current_app)
    if not found.enabled():
        abort(404)
    return found
