"""Which content coding to answer with, from Accept-Encoding and its q-values (RFC 9110 §12.5.3).

gzip is chosen when the client gives it (or `*`) a non-zero quality at least
as high as identity's; identity is acceptable unless `identity;q=0`, or
`*;q=0` without an `identity` entry, says otherwise. Without the header,
identity is sent (any coding would be allowed, but a client that says nothing
may not decode gzip). When neither is acceptable, the answer is None: the
service replies 406 Not Acceptable, since the RFC's fallback (send identity)
is exactly what the client excluded.
"""

from __future__ import annotations

import functools

from werkzeug.http import parse_accept_header

GZIP = "gzip"
IDENTITY = "identity"


@functools.lru_cache(maxsize=256)
def choose(header: str | None) -> str | None:
    """Return "gzip", "identity", or None when the client accepts neither."""
    if header is None:
        return IDENTITY
    qualities: dict[str, float] = {}
    for value, quality in parse_accept_header(header):
        name = value.strip().lower()
        qualities[name] = max(quality, qualities.get(name, 0.0))
    star = qualities.get("*")
    gzip = qualities.get("gzip", qualities.get("x-gzip", star if star is not None else 0.0))
    identity = qualities.get("identity", star if star is not None else 1.0)
    if gzip > 0 and gzip >= identity:
        return GZIP
    if identity > 0:
        return IDENTITY
    return GZIP if gzip > 0 else None
