"""Plug the editor into an app: its blueprints, session cookies and CSRF protection."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from contextlib import AbstractContextManager

from flask import Flask, Request, current_app
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect

from ..live import Live
from ..reread import Known
from ..site import Site
from ..web.state import of as state_of
from .api import blueprint as api_blueprint
from .auth import is_https
from .logins import Logins
from .proposals_api import blueprint as proposals_api_blueprint
from .setup import Editing, editing_of
from .store import Seen
from .subscribers import blueprint as subscribers_blueprint
from .views import blueprints

log = logging.getLogger("icalpub.editor")
MAX_BODY = 1024 * 1024  # an event, even with a long description, is far smaller


class _Live:
    """The live publication, as the editor's store's neighbour."""

    def __init__(self, live: Live) -> None:
        self.live = live

    def last_read(self) -> tuple[Known, Seen] | None:
        served = self.live.loaded
        publication = served.publication
        reconciled = publication.reconciled
        return served.reusable, Seen(publication.registry, reconciled.hashes, reconciled.memo)

    def held(self) -> AbstractContextManager[None]:
        return self.live.held()


def _warm(editing: Editing) -> None:
    with contextlib.suppress(OSError, AttributeError):  # requests first, as a reload does
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    try:
        editing.store().warm()
    except Exception:  # a failed warm-up only means the first visitor reads the file
        log.exception("reading %s for the editor failed", editing.registry)


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


def install(app: Flask, site: Site, push: bool = False, secret_key: str | None = None) -> None:
    """Add the editor of `site` to `app` (its URLs answer 404 while there is no editors file)."""
    live = state_of(app).live
    editing = Editing(
        registry=site.registry,
        editors=site.editors,
        logins=Logins(site.state_dir),
        push=push,
        secret_key=secret_key,
        neighbour=_Live(live),
    )
    app.extensions["icalpub-editor"] = editing
    if live.background and editing.enabled():
        # A worker reads the registry for the editor now, beside requests, so that the
        # first save it takes (at 10,000 events) does not wait ~2 s for that read.
        threading.Thread(target=_warm, args=(editing,), name="icalpub-editor", daemon=True).start()
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
    app.register_blueprint(proposals_api_blueprint)
    app.register_blueprint(subscribers_blueprint)
