"""Who may see the editor's pages, and what every page carries.

A blueprint gets the guard with `protect`: 404 while the editor is off, the
CSRF check of every POST, `no-store` and the strict CSP on every answer, and
the pages for a broken file or a save the disk refused. `login_required` lets
only a logged-in editor through; `safe_next` keeps redirects on the editor.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect

from ..web.headers import secure
from .accounts import Editor
from .auth import proxy_editor, session_editor
from .refusals import Broken, Busy, Unsaved
from .roles import ONLY_PUBLISHERS
from .setup import editing, now

View = TypeVar("View", bound=Callable[..., Any])
BUSY = (
    "The file kept changing while saving (someone edited it by hand or ran git pull). "
    "Nothing was saved; send the form again."
)
UNSAVED = (
    "The change could not be written to the disk, so nothing was saved. "
    "Tell the server's operator, then send the form again."
)


def protect(blueprint: Blueprint) -> Blueprint:
    """Give `blueprint` the editor's guard, headers and error pages; return it."""
    blueprint.before_request(_guard)
    blueprint.after_request(_headers)
    blueprint.register_error_handler(CSRFError, _csrf_failed)
    blueprint.register_error_handler(Broken, _broken)
    blueprint.register_error_handler(Unsaved, _unsaved)
    blueprint.register_error_handler(Busy, _unsaved)
    blueprint.register_error_handler(sqlite3.Error, _state_failed)
    blueprint.register_error_handler(OSError, _state_failed)
    return blueprint


def login_required(view: View) -> View:
    """Let only a logged-in editor through; send others to the login page."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        editor = current_editor()
        if editor is None:
            return redirect(url_for("editor.login", next=request.full_path.rstrip("?")))
        g.editor = editor
        return view(*args, **kwargs)

    return cast(View, wrapper)


def publisher_required(view: View) -> View:
    """Let only a publisher through (after `login_required`); 403 with why for an author."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        editor: Editor = g.editor
        if not editor.publishes:
            page = render_template("editor/message.html", message=ONLY_PUBLISHERS, forbidden=True)
            return page, 403
        return view(*args, **kwargs)

    return cast(View, wrapper)


def current_editor() -> Editor | None:
    """Return the editor this request comes from (a trusted proxy's or the session's)."""
    state = editing()
    accounts = state.accounts()
    return proxy_editor(request, accounts) or session_editor(accounts, now(), state.logins)


def safe_next(target: str) -> str:
    """Return `target` if it is a path of the editor on this site, else the list."""
    parts = urlsplit(target)
    if (
        target.startswith("/edit/")
        and not parts.scheme
        and not parts.netloc
        and "\\" not in target
        and not target.startswith("//")
        and all(ord(c) > 31 for c in target)
    ):
        return target
    return url_for("editor.events")


def _guard() -> None:
    editing()  # 404 while the editor is off
    if request.method == "POST":
        cast(CSRFProtect, current_app.extensions["csrf"]).protect()


def _headers(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return secure(response)


def _csrf_failed(error: CSRFError) -> tuple[str, int]:
    message = "The form has expired or did not come from this site. Open the page again."
    return render_template("editor/message.html", message=message), 400


def _state_failed(error: Exception) -> tuple[str, int]:
    """The state folder (login failures, open sessions) failed: nobody can log in now."""
    current_app.logger.error("the editor's state folder failed: %s", error)
    message = "The editor cannot log anyone in right now. Try again later."
    return render_template("editor/message.html", message=message), 503


def _broken(error: Broken) -> tuple[str, int]:
    """The file cannot be edited as it is: show its problems instead of any page."""
    page = render_template("editor/broken.html", problems=error.problems)
    return page, 200 if request.method == "GET" else 409


def _unsaved(error: Unsaved | Busy) -> tuple[str, int]:
    """The disk or the file refused the save; nothing was saved, so the form can be sent again."""
    if isinstance(error, Busy):
        return render_template("editor/message.html", message=BUSY), 503
    return render_template("editor/message.html", message=UNSAVED, detail=str(error)), 507
