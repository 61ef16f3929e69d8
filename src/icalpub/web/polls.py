"""Conditional polls answered before Flask: the one request thousands of calendars repeat.

A subscribed calendar polls the same address every few hours with the ETag it
already has, and nearly every answer is 304 Not Modified. This WSGI layer
answers exactly that case — GET or HEAD of a published file (the calendar,
a feed, a topic file, in any language), no query string, If-None-Match naming
the current representation — with the headers the Flask view sends
(`respond.caching_headers`, as werkzeug leaves them on a 304) and counts it as
the view does. Anything else (a query, an event file, a first download,
Accept-Encoding refusing both codings) goes to the Flask app unchanged, and
so does everything when the fast path is off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wsgi import ClosingIterator

from .coding import GZIP, choose
from .respond import caching_headers, matches
from .state import AppState

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
STATUS = "304 NOT MODIFIED"  # as werkzeug writes it
# What werkzeug keeps on a 304.
KEPT = frozenset(("ETag", "Cache-Control", "Vary", "Access-Control-Allow-Origin"))


class Polls:
    """Answer unchanged polls of published files; hand every other request to `app`."""

    def __init__(self, app: WsgiApp, state: AppState) -> None:
        self.app = app
        self.state = state

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Answer 304 here when the poll is one this layer knows; else call the app."""
        method = environ.get("REQUEST_METHOD")
        tags = environ.get("HTTP_IF_NONE_MATCH")
        if tags and method in ("GET", "HEAD") and not environ.get("QUERY_STRING"):
            answer = self._not_modified(environ, tags, start_response, method == "GET")
            if answer is not None:
                return answer
        return self.app(environ, start_response)

    def _not_modified(
        self, environ: dict[str, Any], tags: str, start_response: StartResponse, counted: bool
    ) -> Iterable[bytes] | None:
        path = environ.get("PATH_INFO", "")
        served = self.state.live.current()
        resource = served.resources.get(path[1:]) if path.startswith("/") else None
        if resource is None or not matches(tags, resource.etag):
            return None
        coding = choose(environ.get("HTTP_ACCEPT_ENCODING"))
        if coding is None:
            return None  # the view answers 406
        max_age = served.publication.registry.calendar.max_age
        headers = caching_headers(
            resource.etag, coding == GZIP, served.last_modified, max_age, None
        )
        start_response(STATUS, [pair for pair in headers if pair[0] in KEPT])
        if not counted:
            return [b""]
        write = self.state.count_poll(
            path,
            environ.get("REMOTE_ADDR", ""),
            environ.get("HTTP_X_FORWARDED_FOR", ""),
            environ.get("HTTP_USER_AGENT", ""),
        )
        if write is not None:
            return ClosingIterator([b""], write)  # written after the answer is sent
        return [b""]
