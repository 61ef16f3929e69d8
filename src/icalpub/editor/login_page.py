"""Logging in and out of the editor: name (or email) and password, slowed on failures."""

from __future__ import annotations

from flask import current_app, make_response, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from . import accounts as accounts_module
from .auth import client_address, start_session
from .guard import current_editor, safe_next
from .pages import blueprint
from .setup import editing, now


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> WerkzeugResponse | tuple[str, int] | str:
    """Ask for name (or email) and password; slow down repeated failures."""
    target = safe_next(request.values.get("next", ""))
    if request.method == "GET":
        if current_editor() is not None:
            return redirect(target)
        return render_template("editor/login.html", next=target, error="")
    state = editing()
    accounts = state.accounts()
    name = request.form.get("login", "")[:200]
    address = client_address(request, accounts)
    wait = state.throttle.wait(address, name)
    if wait > 0:
        page = render_template(
            "editor/login.html", next=target, error="Too many attempts; wait a little.", login=name
        )
        response = make_response(page, 429)
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    editor, rehash = accounts.verify(name, request.form.get("password", "")[:1024])
    if editor is None:
        state.throttle.failed(address, name)
        current_app.logger.warning("failed editor login for %r from %s", name, address)
        page = render_template(
            "editor/login.html", next=target, error="Wrong name or password.", login=name
        )
        return page, 401
    state.throttle.succeeded(address, name)
    if rehash:
        accounts_module.save(state.editors, accounts_module.set_hash(accounts, editor.name, rehash))
        editor = state.accounts().editors[editor.name]
    start_session(editor, now())
    current_app.logger.info("editor %s logged in from %s", editor.name, address)
    return redirect(target)


@blueprint.post("/logout")
def logout() -> WerkzeugResponse:
    """End the session."""
    session.clear()
    return redirect(url_for("editor.login"))
