"""Who is asking: the session's editor, a trusted proxy's header, or an API token.

Sessions are Flask's signed cookie, bound to the editor's current password
hash (a new password ends every old session), to a login time (they end
after `SESSION_HOURS`) and to a session id the server keeps (`logins.Logins`):
logging out ends the session on the server, not only in the browser. The
cookie is HttpOnly, SameSite=Lax, and Secure when the request came over
HTTPS. A proxy's user header and X-Forwarded-* are believed only from the
addresses in `[proxy] trusted`; anyone else who sends them is ignored.

Logins are slowed, not locked, per account and per client network: see
`logins`, where the counts are kept for every worker and across restarts.
"""

from __future__ import annotations

import datetime as dt

from flask import Request, session

from ..web import forwarded
from ..web.state import state
from .accounts import Accounts, Editor, session_key
from .logins import Logins

SESSION_HOURS = 12


def trusts(accounts: Accounts, address: str | None) -> bool:
    """Return whether `address` is a trusted proxy: editors.toml's `[proxy] trusted` and the
    `trusted_proxies` setting, the one list the counts and gunicorn believe too."""
    return accounts.proxy.trusts(address, state().trusted_proxies)


def client_address(request: Request, accounts: Accounts) -> str:
    """Return the client's address: the proxy's X-Forwarded-For entry only from a trusted proxy."""
    return forwarded.client_address(request, lambda address: trusts(accounts, address))


def is_https(request: Request, accounts: Accounts) -> bool:
    """Return whether the client used HTTPS (as the trusted proxy says, if there is one)."""
    if trusts(accounts, request.remote_addr):
        proto = request.headers.get("X-Forwarded-Proto", "")
        if proto:
            return proto.split(",")[0].strip().lower() == "https"
    return request.is_secure


def proxy_editor(request: Request, accounts: Accounts) -> Editor | None:
    """Return the editor a trusted proxy says is logged in (by email), if any."""
    if not accounts.proxy.header or not trusts(accounts, request.remote_addr):
        return None
    email = request.headers.get(accounts.proxy.header, "")
    return accounts.by_email(email) if email else None


def session_editor(accounts: Accounts, now: dt.datetime, logins: Logins) -> Editor | None:
    """Return the editor of this session, if the session is theirs, still valid and not ended
    on the server (logged out, or logged out everywhere)."""
    name = session.get("editor")
    key = session.get("key")
    since = session.get("since")
    session_id = session.get("sid")
    if not isinstance(name, str) or not isinstance(key, str) or not isinstance(since, int):
        return None
    if not isinstance(session_id, str):
        return None
    editor = accounts.editors.get(name)
    if editor is None or session_key(editor) != key:
        return None
    age = now.timestamp() - since
    if age < -60 or age > SESSION_HOURS * 3600:
        return None
    return editor if logins.is_open(session_id, editor.name) else None


def start_session(editor: Editor, now: dt.datetime, logins: Logins) -> None:
    """Begin a new session for `editor`: nothing of the old one is kept (no fixation)."""
    session.clear()
    session["editor"] = editor.name
    session["key"] = session_key(editor)
    session["since"] = int(now.timestamp())
    session["sid"] = logins.open_session(editor.name)


def end_session(logins: Logins) -> None:
    """End this session on the server and in the browser."""
    session_id = session.get("sid")
    if isinstance(session_id, str):
        logins.close_session(session_id)
    session.clear()


def token_editor(request: Request, accounts: Accounts) -> Editor | None:
    """Return the editor of an `Authorization: Bearer` API token."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return accounts.by_token(token.strip())
