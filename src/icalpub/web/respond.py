"""HTTP responses for published bytes: ETag, Last-Modified, 304, gzip, caching."""

from __future__ import annotations

import datetime as dt
import functools
from email.utils import format_datetime, parsedate_to_datetime

from flask import Request, Response

from ..live import Live
from ..served import Resource, Served
from .coding import GZIP, choose
from .state import state


def service() -> Live:
    """Return the app's live publication (the watcher of the registry's files)."""
    return state().live


def send(
    request: Request, served: Served, resource: Resource, filename: str | None = None
) -> Response:
    """Answer with `resource`: 304 when the client has it, gzip when it prefers it."""
    coding = choose(request.headers.get("Accept-Encoding"))
    if coding is None:
        answer = text(406, "Neither gzip nor identity is acceptable (Accept-Encoding).")
        answer.headers["Vary"] = "Accept-Encoding"
        return answer
    gzip = coding == GZIP
    max_age = served.publication.registry.calendar.max_age
    headers = caching_headers(resource.etag, gzip, served.last_modified, max_age, filename)
    if _not_modified(request, resource, served.last_modified):
        return Response(status=304, headers=headers)
    body = resource.gzipped if gzip else resource.body
    response = Response(body, status=200, headers=headers, content_type=resource.content_type)
    if gzip:
        response.headers["Content-Encoding"] = "gzip"
    return response


@functools.lru_cache(maxsize=256)
def caching_headers(
    etag: str, gzip: bool, modified: dt.datetime, max_age: int, filename: str | None
) -> tuple[tuple[str, str], ...]:
    """Return the caching headers of a representation (the same on every poll of it)."""
    headers = [
        ("ETag", etag[:-1] + '-gz"' if gzip else etag),
        ("Last-Modified", format_datetime(modified, usegmt=True)),
        ("Cache-Control", f"public, max-age={max_age}"),
        ("Vary", "Accept-Encoding"),
        # Public data: any page may read a feed (the <icalpub-events> widget reads the JSON Feed).
        ("Access-Control-Allow-Origin", "*"),
    ]
    if filename:
        headers.append(("Content-Disposition", f'attachment; filename="{filename}"'))
    return tuple(headers)


def matches(if_none_match: str, etag: str) -> bool:
    """Return whether If-None-Match names the resource (either of its codings) or `*`."""
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag in tags or etag[:-1] + '-gz"' in tags


def text(status: int, message: str) -> Response:
    """Return a short plain-text answer (errors of feed URLs)."""
    return Response(
        message.rstrip("\n") + "\n", status=status, content_type="text/plain; charset=utf-8"
    )


def _not_modified(request: Request, resource: Resource, modified: dt.datetime) -> bool:
    match = request.headers.get("If-None-Match")
    if match is not None:
        return matches(match, resource.etag)
    since = request.headers.get("If-Modified-Since")
    if since:
        try:
            when = parsedate_to_datetime(since)
        except (TypeError, ValueError, IndexError):
            return False  # a malformed date is ignored, as RFC 9110 says
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        if when > dt.datetime.now(dt.UTC):
            return False  # a date in the future is invalid (RFC 9110 §13.1.3): ignore it
        return modified.replace(microsecond=0) <= when
    return False
