"""Plug the editor into the service: on while the editors file exists, 404 otherwise.

The editors file is read again when it changes (`icalpub editor add` while the
service runs takes effect at once). The secret that signs session cookies is
$ICALPUB_SECRET_KEY, else a random key kept beside the editors file (0600) so
that every worker, and the next start, signs alike.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Request, abort, current_app
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect

from ..files import write_file
from . import accounts as accounts_module
from .accounts import Accounts
from .auth import Throttle, is_https
from .history import for_registry
from .store import Store

MAX_BODY = 1024 * 1024  # an event, even with a long description, is far smaller


@dataclass
class Editing:
    """What the editor's views share: the files, the store, the login throttle."""

    registry: Path
    editors: Path
    throttle: Throttle
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
                push = os.environ.get("ICALPUB_GIT_PUSH", "") == "1"
                self._store = Store(self.registry, for_registry(self.registry, push))
            return self._store

    def secret(self) -> str:
        """Return the key that signs session cookies."""
        configured = os.environ.get("ICALPUB_SECRET_KEY")
        if configured:
            return configured
        path = self.editors.with_name(f".{self.editors.name}.secret")
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
        return path.read_text("ascii").strip()


class _Sessions(SecureCookieSessionInterface):
    """Session cookies for the editor only, marked Secure when the request came over HTTPS."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not app.secret_key and request.path.startswith("/edit/"):
            found = editing_of(app)
            if found.enabled():
                app.secret_key = found.secret()
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        from flask import request

        return _https(request)


def _https(request: Request) -> bool:
    editing = editing_of(current_app)
    if not editing.enabled():
        return request.is_secure
    return is_https(request, editing.accounts())


def install(app: Flask, registry: Path) -> None:
    """Add the editor to `app` (its URLs answer 404 while there is no editors file)."""
    from .api import blueprint as api_blueprint
    from .subscribers import blueprint as subscribers_blueprint
    from .views import blueprints

    app.extensions["icalpub-editor"] = Editing(
        registry=registry,
        editors=accounts_module.editors_path(registry),
        throttle=Throttle(),
    )
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_BODY,
        SESSION_COOKIE_NAME="icalpub_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH="/edit/",
        WTF_CSRF_CHECK_DEFAULT=False,  # checked by the editor's views, not the public pages
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
    )
    app.session_interface = _Sessions()
    CSRFProtect(app)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    app.register_blueprint(api_blueprint)
    app.register_blueprint(subscribers_blueprint)


def now() -> dt.datetime:
    """Return the service's "now" (the live publication's clock: tests set it)."""
    found: dt.datetime = current_app.extensions["icalpub"].now()
    return found


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
