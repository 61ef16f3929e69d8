"""Logging in and out of the editor: name (or email) and password, slowed on failures."""

from __future__ import annotations

from flask import current_app, g, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from . import accounts as accounts_module
from .accounts import Editor
from .auth import client_address, end_session, start_session
from .guard import current_editor, login_required, safe_next
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
    account = accounts.account(name)  # "ANNA ", "anna@example.lv": one account, one count
    wait = state.logins.wait(address, account)
    if wait > 0:
        page = render_template(
            "editor/login.html", next=target, error="Too many attempts; wait a little.", login=name
        )
        response = make_response(page, 429)
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    editor, rehash = accounts.verify(name, request.form.get("password", "")[:1024])
    if editor is None:
        state.logins.failed(address, account)
        current_app.logger.warning("failed editor login for %r from %s", name, address)
        page = render_template(
            "editor/login.html", next=target, error="Wrong name or password.", login=name
        )
        return page, 401
    state.logins.succeeded(account)
    if rehash:
        accounts_module.save(state.editors, accounts_module.set_hash(accounts, editor.name, rehash))
        editor = state.accounts().editors[editor.name]
    start_session(editor, now(), state.logins)
    current_app.logger.info("editor %s logged in from %s", editor.name, address)
    return redirect(target)


@blueprint.post("/logout")
def logout() -> WerkzeugResponse:
    """End the session, on the server too: a copy of its cookie opens nothing any more."""
    end_session(editing().logins)
    return redirect(url_for("editor.login"))


@blueprint.post("/logout-everywhere")
@login_required
def logout_everywhere() -> WerkzeugResponse:
    """End every session of this editor, in every browser."""
    editor: Editor = g.editor
    editing().logins.close_all(editor.name)
    end_session(editing().logins)
    current_app.logger.info("editor %s logged out everywhere", editor.name)
    return redirect(url_for("editor.login"))
