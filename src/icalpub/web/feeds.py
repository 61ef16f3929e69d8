"""Feed and calendar URLs: the bytes of the static build, served from memory."""

from __future__ import annotations

from flask import Blueprint, Response, g, request

from ..languages import prefix as path_prefix
from ..served import Served
from ..urls import FORMATS, feed_path
from .language import prefixed
from .respond import send, service, text
from .state import state

blueprint = Blueprint("feeds", __name__)  # also under /<lang>/ as "feeds_lang"
MAX_TOPICS = 50  # more `topic` parameters than this is an abuse, not a subscription
_WHOLE = {"calendar.ics": "ics", "feed.rss": "rss", "feed.atom": "atom", "feed.json": "json"}


@blueprint.get("/calendar.ics", defaults={"name": "calendar.ics"})
@blueprint.get("/feed.rss", defaults={"name": "feed.rss"})
@blueprint.get("/feed.atom", defaults={"name": "feed.atom"})
@blueprint.get("/feed.json", defaults={"name": "feed.json"})
def whole(name: str) -> Response:
    """Serve everything, or the union of the `?topic=` parameters."""
    served = service().current()
    language = _language(served)
    if isinstance(language, Response):
        return language
    prefix = _prefix(served, language)
    fmt = _WHOLE[name]
    topics = request.args.getlist("topic")
    if len(topics) > MAX_TOPICS:
        return text(400, f"At most {MAX_TOPICS} topic parameters are accepted.")
    unknown = _unknown(served, topics)
    if unknown:
        return unknown
    chosen = sorted(set(topics))
    g.poll = "/" + prefix + feed_path(fmt, chosen)  # the canonical address: what counts name
    if len(chosen) <= 1:
        return send(request, served, served.resources[prefix + feed_path(fmt, chosen)])
    return send(request, served, served.union(fmt, chosen, language))


@blueprint.get("/topics/<name>")
def topic(name: str) -> Response:
    """Serve one topic's calendar or feed: /topics/<topic>.<ics|rss|atom|json>."""
    served = service().current()
    language = _language(served)
    if isinstance(language, Response):
        return language
    prefix = _prefix(served, language)
    topic_id, _, fmt = name.rpartition(".")
    if fmt not in FORMATS:
        return text(404, f"Not found. Topic files end in .{', .'.join(FORMATS)}.")
    unknown = _unknown(served, [topic_id])
    if unknown:
        return unknown
    g.poll = "/" + prefix + feed_path(fmt, [topic_id])
    return send(request, served, served.resources[prefix + feed_path(fmt, [topic_id])])


@blueprint.get("/events/<name>.ics")
def event(name: str) -> Response:
    """Serve one event as its own .ics file, for "add to calendar"."""
    served = service().current()
    language = _language(served)
    if isinstance(language, Response):
        return language
    resource = served.event(name, language)
    if resource is None:
        return text(404, f"No event has the id {name!r}. {_known_topics(served)}")
    return send(request, served, resource, filename=f"{name}.ics")


def _language(served: Served) -> str | Response | None:
    """Return the language the address names (None: the default), or a 404 answer."""
    asked = prefixed()
    if asked is None:
        return None
    calendar = served.publication.registry.calendar
    if asked in calendar.published_languages[1:]:
        return asked
    others = ", ".join(f"/{x}/" for x in calendar.published_languages[1:]) or "none"
    return text(
        404,
        f"No calendar in {asked!r}. The default language is at the top; other languages: {others}.",
    )


def _prefix(served: Served, language: str | None) -> str:
    return path_prefix(served.publication.registry.calendar, language)


@blueprint.after_request
def _count(response: Response) -> Response:
    """Count a poll of a calendar or feed (GET answered 200 or 304; not HEAD, not pages)."""
    resource = g.get("poll")
    if resource and request.method == "GET" and response.status_code in (200, 304):
        write = state().count_poll(
            resource,
            request.remote_addr or "",
            request.headers.get("X-Forwarded-For", ""),
            request.headers.get("User-Agent", ""),
        )
        if write is not None:
            response.call_on_close(write)  # after the answer is sent
    return response


def _unknown(served: Served, topics: list[str]) -> Response | None:
    registry = served.publication.registry
    missing = sorted({t for t in topics if registry.topic(t) is None})
    if not missing:
        return None
    names = ", ".join(repr(t) for t in missing)
    return text(404, f"Unknown topic {names}. {_known_topics(served)}")


def _known_topics(served: Served) -> str:
    known = [t.id for t in served.publication.registry.topics]
    return "Known topics: " + (", ".join(known) if known else "(none)") + "."
