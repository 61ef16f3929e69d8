"""The client's real address: X-Forwarded-For counts only when a trusted proxy sent it."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable, Iterable

from flask import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted(address: str | None, listed: Iterable[str]) -> bool:
    """Return whether `address` is in one of the `listed` addresses or networks."""
    networks = _networks(tuple(listed))
    if not networks or not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


@functools.lru_cache(maxsize=16)
def _networks(listed: tuple[str, ...]) -> tuple[Network, ...]:
    """Return the networks of a configuration's list (parsed once; bad entries skipped)."""
    found: list[Network] = []
    for entry in listed:
        try:
            found.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            continue
    return tuple(found)


def client_address(request: Request, trusts: Callable[[str | None], bool]) -> str:
    """Return the client's address: the nearest untrusted hop of X-Forwarded-For when the
    request came from a trusted proxy, else the connection's own address."""
    return address_of(request.remote_addr or "", request.headers.get("X-Forwarded-For", ""), trusts)


def address_of(remote: str, forwarded_for: str, trusts: Callable[[str | None], bool]) -> str:
    """Return the client's address from the connection's and X-Forwarded-For (see above)."""
    if not trusts(remote):
        return remote
    forwarded = [a.strip() for a in forwarded_for.split(",")]
    for address in reversed([a for a in forwarded if a]):
        if not trusts(address):
            return address
    return remote
