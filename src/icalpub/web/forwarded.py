"""The client's real address: X-Forwarded-For counts only when a trusted proxy sent it.

Which proxies are trusted is one list, `Trust`: the editors file's `[proxy]
trusted` and the `trusted_proxies` setting together. The editor, the subscriber
counts and gunicorn's `forwarded_allow_ips` (X-Forwarded-Proto) all believe
that list and nothing else; X-Forwarded-For from anyone else is ignored, with
a warning logged once per process, since then every client of that proxy
looks like one address to the login throttle and the counts.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path

from flask import Request

log = logging.getLogger("icalpub")
_warned: set[str] = set()

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


class Trust:
    """The deployment's trusted proxies: `[proxy] trusted` of the editors file (read again
    when it changes) and the `trusted_proxies` setting."""

    def __init__(self, editors: Path | None, configured: tuple[str, ...] = ()) -> None:
        self.editors = editors
        self.configured = configured
        self._read: tuple[tuple[int, int], tuple[str, ...]] = ((0, 0), ())

    def listed(self) -> tuple[str, ...]:
        """Return every trusted address or network, as written."""
        return (*self._from_file(), *self.configured)

    def __call__(self, address: str | None) -> bool:
        return trusted(address, self.listed())

    def _from_file(self) -> tuple[str, ...]:
        if self.editors is None:
            return ()
        try:
            stat = self.editors.stat()
        except OSError:
            return ()
        signature = (stat.st_mtime_ns, stat.st_size)
        if signature != self._read[0]:
            try:
                data = tomllib.loads(self.editors.read_text("utf-8"))
                found = data.get("proxy", {}).get("trusted", [])
                listed = tuple(str(a) for a in found) if isinstance(found, list) else ()
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, AttributeError):
                listed = ()  # the editor reports a broken file; the counts trust nobody
            self._read = (signature, listed)
        return self._read[1]


def client_address(request: Request, trusts: Callable[[str | None], bool]) -> str:
    """Return the client's address: the nearest untrusted hop of X-Forwarded-For when the
    request came from a trusted proxy, else the connection's own address."""
    return address_of(request.remote_addr or "", request.headers.get("X-Forwarded-For", ""), trusts)


def address_of(remote: str, forwarded_for: str, trusts: Callable[[str | None], bool]) -> str:
    """Return the client's address from the connection's and X-Forwarded-For (see above)."""
    if not trusts(remote):
        if forwarded_for.strip() and remote not in _warned and len(_warned) < 16:
            _warned.add(remote)
            log.warning(
                "requests from %s carry X-Forwarded-For, but %s is not a trusted proxy: its "
                "clients count as one address (login throttle, subscriber counts). If it is "
                "your proxy, list it in editors.toml's [proxy] trusted or "
                "ICALPUB_TRUSTED_PROXIES; logged once",
                remote,
                remote,
            )
        return remote
    forwarded = [a.strip() for a in forwarded_for.split(",")]
    for address in reversed([a for a in forwarded if a]):
        if not trusts(address):
            return address
    return remote
