"""The client's real address: X-Forwarded-For counts only when a trusted proxy sent it."""

from __future__ import annotations

from collections.abc import Callable

from flask import Request


def client_address(request: Request, trusts: Callable[[str | None], bool]) -> str:
    """Return the client's address: the nearest untrusted hop of X-Forwarded-For when the
    request came from a trusted proxy, else the connection's own address."""
    remote = request.remote_addr or ""
    if not trusts(remote):
        return remote
    forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",")]
    for address in reversed([a for a in forwarded if a]):
        if not trusts(address):
            return address
    return remote
