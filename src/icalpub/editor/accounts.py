"""The editors file (`editors.toml`): who may edit, their password hashes and API tokens.

Passwords are argon2id hashes (argon2-cffi, the reference implementation's
binding; its defaults follow RFC 9106), rehashed at login when those defaults
change. API tokens are 256-bit random strings shown once and stored as SHA-256
hashes: a fast hash is enough for a secret nobody chose. The file is read with
the standard library's `tomllib` and written with `tomli-w`, atomically, 0600.

    [proxy]
    trusted = ["127.0.0.1"]          # reverse proxies whose X-Forwarded-* count (default: none)
    header = "X-Forwarded-Email"     # a proxy that logs people in sets this (default: "", off)

    [editors.anna]
    email = "anna@example.lv"
    role = "publisher"               # or "author": drafts and proposals only (default: publisher)
    password = "$argon2id$v=19$..."
    tokens = ["sha256:..."]
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import tomllib
import unicodedata
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import tomli_w

from .. import untracked
from ..errors import IcalpubError
from ..files import write_file

if TYPE_CHECKING:
    from argon2 import PasswordHasher

NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,39}")
EMAIL = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+")
ROLES = ("publisher", "author")  # a publisher publishes; an author drafts and proposes


@cache
def _hasher() -> PasswordHasher:
    """Return the argon2id hasher, made on first use (not at import: every command imports this)."""
    from argon2 import PasswordHasher

    return PasswordHasher()


@cache
def _dummy() -> str:
    """Return a hash verified against when the name is unknown (a wrong name costs what a
    wrong password does); made on first use, it costs one hash (~0.1 s)."""
    return _hasher().hash(secrets.token_hex(16))


class AccountError(IcalpubError):
    """The editors file or a change to it is wrong; the message says what."""


@dataclass(frozen=True)
class Editor:
    """One person who may edit."""

    name: str
    email: str
    password: str = ""  # argon2id hash; "" when the editor logs in through the proxy only
    tokens: tuple[str, ...] = ()  # "sha256:<hex>" of each API token
    role: str = "publisher"  # one of ROLES

    @property
    def publishes(self) -> bool:
        """Return whether this editor may publish (else their changes wait for a publisher)."""
        return self.role == "publisher"


@dataclass(frozen=True)
class Proxy:
    """A reverse proxy trusted to say who is logged in, and to forward the client's address."""

    trusted: tuple[str, ...] = ()
    header: str = ""  # the logged-in user's email, set by a login proxy; "" = no proxy login

    def trusts(self, address: str | None, configured: tuple[str, ...] = ()) -> bool:
        """Return whether a request from `address` comes from a trusted proxy (listed here or
        in the `trusted_proxies` setting, `configured`: the one list of `forwarded.Trust`)."""
        from ..web import forwarded  # Flask: only the web service asks

        return forwarded.trusted(address, (*self.trusted, *configured))


@dataclass(frozen=True)
class Accounts:
    """The editors file's content."""

    editors: dict[str, Editor] = field(default_factory=dict)
    proxy: Proxy = field(default_factory=Proxy)

    def by_email(self, email: str) -> Editor | None:
        """Return the editor with `email` (case-insensitive)."""
        wanted = email.strip().lower()
        return next((e for e in self.editors.values() if e.email.lower() == wanted), None)

    def by_token(self, token: str) -> Editor | None:
        """Return the editor an API token belongs to."""
        digest = _token_hash(token)
        found = None
        for editor in self.editors.values():
            for stored in editor.tokens:
                if hmac.compare_digest(stored, digest):
                    found = editor
        return found

    def account(self, login: str) -> str:
        """Return whose failures a login counts as: the editor it names (by name or email,
        however spaced or cased), else the login normalised (NFKC, case-folded, one space)."""
        editor = self.editors.get(login.strip().lower()) or self.by_email(login)
        if editor is not None:
            return editor.name
        return " ".join(unicodedata.normalize("NFKC", login).casefold().split())

    def verify(self, login: str, password: str) -> tuple[Editor | None, str | None]:
        """Check a login (name or email) and password; return the editor and, when its hash
        should be redone with today's parameters, the new hash."""
        login = login.strip()
        editor = self.editors.get(login.lower()) or self.by_email(login)
        if editor is None or not editor.password:
            _check(_dummy(), password)
            return None, None
        if not _check(editor.password, password):
            return None, None
        hasher = _hasher()
        rehash = hasher.hash(password) if hasher.check_needs_rehash(editor.password) else None
        return editor, rehash


def prepare() -> None:
    """Make the hasher and the unknown name's hash now, before the first login is checked."""
    _dummy()


def load(path: Path) -> Accounts:
    """Read the editors file; raise AccountError with the place when it is malformed."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return Accounts()
    except (OSError, UnicodeDecodeError) as exc:
        raise AccountError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise AccountError(f"{path}: {exc}") from None
    editors: dict[str, Editor] = {}
    for name, entry in dict(data.get("editors", {})).items():
        if not NAME.fullmatch(name) or not isinstance(entry, dict):
            raise AccountError(f"{path}: [editors.{name}] is not a valid editor entry")
        role = str(entry.get("role", "publisher"))
        if role not in ROLES:
            raise AccountError(f"{path}: [editors.{name}] role must be one of {', '.join(ROLES)}")
        editors[name] = Editor(
            name=name,
            email=str(entry.get("email", "")),
            password=str(entry.get("password", "")),
            tokens=tuple(str(t) for t in entry.get("tokens", [])),
            role=role,
        )
    proxy = dict(data.get("proxy", {}))
    return Accounts(
        editors,
        Proxy(
            trusted=tuple(str(a) for a in proxy.get("trusted", [])),
            header=str(proxy.get("header", "")),
        ),
    )


def save(path: Path, accounts: Accounts) -> None:
    """Write the editors file atomically, readable by its owner only."""
    data: dict[str, object] = {
        "proxy": {"trusted": list(accounts.proxy.trusted), "header": accounts.proxy.header},
        "editors": {
            e.name: {
                "email": e.email,
                "role": e.role,
                "password": e.password,
                "tokens": list(e.tokens),
            }
            for e in sorted(accounts.editors.values(), key=lambda e: e.name)
        },
    }
    header = "# icalpub editors: written by `icalpub editor`; passwords and tokens are hashes.\n"
    write_file(path, (header + tomli_w.dumps(data)).encode(), new_mode=0o600)
    untracked.keep_out_of_git([path])


def add(
    accounts: Accounts, name: str, email: str, password: str, role: str = "publisher"
) -> Accounts:
    """Return the accounts with a new editor."""
    name = name.strip().lower()
    if not NAME.fullmatch(name):
        raise AccountError(
            f"'{name}' is not a valid editor name: lower-case letters, digits, '.', '_', '-'"
        )
    if name in accounts.editors:
        raise AccountError(f"there is already an editor '{name}'")
    if not EMAIL.fullmatch(email.strip()):
        raise AccountError(f"'{email}' is not an email address")
    if accounts.by_email(email):
        raise AccountError(f"another editor has the email {email}")
    _check_role(role)
    editor = Editor(name, email.strip(), hash_password(password), role=role)
    return replace(accounts, editors={**accounts.editors, name: editor})


def set_role(accounts: Accounts, name: str, role: str) -> Accounts:
    """Return the accounts with `name`'s role changed."""
    editor = _existing(accounts, name)
    _check_role(role)
    return replace(accounts, editors={**accounts.editors, editor.name: replace(editor, role=role)})


def set_password(accounts: Accounts, name: str, password: str) -> Accounts:
    """Return the accounts with `name`'s password changed (which ends its sessions)."""
    editor = _existing(accounts, name)
    changed = replace(editor, password=hash_password(password))
    return replace(accounts, editors={**accounts.editors, name: changed})


def set_hash(accounts: Accounts, name: str, password_hash: str) -> Accounts:
    """Return the accounts with `name`'s password hash replaced (a rehash at login)."""
    editor = _existing(accounts, name)
    return replace(
        accounts, editors={**accounts.editors, name: replace(editor, password=password_hash)}
    )


def remove(accounts: Accounts, name: str) -> Accounts:
    """Return the accounts without `name`."""
    _existing(accounts, name)
    return replace(accounts, editors={k: v for k, v in accounts.editors.items() if k != name})


def new_token(accounts: Accounts, name: str) -> tuple[Accounts, str]:
    """Return the accounts with a new API token for `name`, and the token (shown once)."""
    editor = _existing(accounts, name)
    token = "icp_" + secrets.token_urlsafe(32)
    changed = replace(editor, tokens=(*editor.tokens, _token_hash(token)))
    return replace(accounts, editors={**accounts.editors, name: changed}), token


def revoke_tokens(accounts: Accounts, name: str) -> Accounts:
    """Return the accounts with every API token of `name` revoked."""
    editor = _existing(accounts, name)
    return replace(accounts, editors={**accounts.editors, name: replace(editor, tokens=())})


def hash_password(password: str) -> str:
    """Return the argon2id hash of a password, refusing one too short to be a password."""
    if len(password) < 10:
        raise AccountError("the password must have at least 10 characters")
    if len(password) > 1024:
        raise AccountError("the password must have at most 1024 characters")
    return _hasher().hash(password)


def session_key(editor: Editor) -> str:
    """Return what a session is bound to: changes when the password or email changes."""
    return hashlib.sha256(f"{editor.name}\0{editor.email}\0{editor.password}".encode()).hexdigest()[
        :32
    ]


def _existing(accounts: Accounts, name: str) -> Editor:
    editor = accounts.editors.get(name.strip().lower())
    if editor is None:
        raise AccountError(f"there is no editor '{name}'")
    return editor


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"'{role}' is not a role: {' or '.join(ROLES)}")


def _check(password_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):  # VerifyMismatchError is a VerificationError
        return False


def _token_hash(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()
