"""The agenda (`/events/`), the archive (`/archive/<yyyy>`) and the embeddable list (`/embed/`).

Views on the pages blueprint (so they exist under `/<lang>/` too); the
selecting is `icalpub.agenda`'s, the rendering the templates'.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from flask import Flask, Response, abort, current_app, g, redirect, render_template, request
from werkzeug.wrappers import Response as WerkzeugResponse

from .. import agenda
from ..display import publication_title
from ..model import Registry
from ..occurrences import Occurrence
from ..served import Served
from ..urls import absolute, feed_path
from .headers import framed_by
from .language import link
from .pages import (
    _cached,
    _feeds,
    _page,
    _span_text,
    _time_of,
    _topic_title,
    _topics,
    blueprint,
)
from .respond import service

EMBED_LIMIT = 5  # events in the widget unless ?limit= says otherwise
EMBED_MAX = 50
ANCESTORS = "ICALPUB_EMBED_ANCESTORS"  # config key of the sites that may frame /embed/


@blueprint.get("/events/")
def events() -> Response:
    """List upcoming events: `?q=`, `?topic=` (repeatable), `?from=`, `?to=`, `?page=`."""
    registry: Registry = g.view
    topics = _topics(registry)
    query = request.args.get("q", "")[:200]
    first, first_bad = _date("from")
    last, last_bad = _date("to")
    number = _page_number()
    today = service().today()
    served: Served = g.served
    # Search reads every language: the full registry, the view's events shown.
    whole = served.publication.registry
    found = served.remember(
        ("agenda", g.lang, tuple(topics), query, first, last, today),
        lambda: _in_view(registry, agenda.upcoming(whole, today, topics, query, first, last)),
    )
    page = agenda.paginate(found, number)
    if page is None:
        abort(404)
    filtered = bool(topics or query.strip() or first or last)
    html = _cached(
        lambda: render_template(
            "agenda.html",
            page=page,
            query=query,
            topics=topics,
            first=first,
            last=last,
            bad_dates=[name for name, bad in (("from", first_bad), ("to", last_bad)) if bad],
            filtered=filtered,
            all_topics=registry.topics,
            page_link=lambda n: _page_link(n),
            subscribe=_subscription(registry, topics),
            feeds=_feeds(registry, topics),
            **_listing(registry),
        )
    )
    return _page(html)


@blueprint.get("/archive/")
def archive_index() -> WerkzeugResponse:
    """Send the archive's address to its latest year."""
    registry: Registry = g.view
    years = _years(registry)
    year = years[-1] if years else service().today().year
    return redirect(link("pages.archive", year=year), code=302)


@blueprint.get("/archive/<digits(width=4):year>")
def archive(year: str) -> WerkzeugResponse:
    """List one year's past events, with the other years as links."""
    registry: Registry = g.view
    whole_year = int(year)
    if not agenda.EARLIEST.year <= whole_year <= agenda.LATEST.year:
        abort(404)
    if year != f"{whole_year:04d}":
        return redirect(link("pages.archive", year=whole_year), code=301)
    today = service().today()
    served: Served = g.served
    found = served.remember(
        ("archive", g.lang, whole_year, today),
        lambda: agenda.past(registry, whole_year, today),
    )
    html = _cached(
        lambda: render_template(
            "archive.html",
            year=whole_year,
            items=found,
            years=_years(registry),
            feeds=_feeds(registry, []),
            **_listing(registry),
        )
    )
    return _page(html)


@blueprint.get("/embed/")
def embed() -> Response:
    """Show the next events compactly, for an iframe on the sites the deployment allows."""
    registry: Registry = g.view
    topics = _topics(registry)
    limit = _limit()
    today = service().today()
    served: Served = g.served
    found = served.remember(
        ("embed", g.lang, tuple(topics), today),
        lambda: agenda.upcoming(registry, today, topics)[:EMBED_MAX],
    )
    html = _cached(
        lambda: render_template(
            "embed.html",
            items=found[:limit],
            topics=topics,
            title=publication_title(registry, topics),
            subscribe=_subscription(registry, topics),
            **_listing(registry),
        )
    )
    response = _page(html)
    response.headers["Content-Security-Policy"] = framed_by(ancestors(registry))
    return response


def install(app: Flask, ancestors: str) -> None:
    """Keep the sites that may frame `/embed/` (the `embed_ancestors` setting) in the config."""
    app.config.setdefault(ANCESTORS, ancestors)


def ancestors(registry: Registry) -> list[str]:
    """Return the sources allowed to frame `/embed/`: the setting, else the calendar's own."""
    setting = current_app.config.get(ANCESTORS, "")
    chosen = [token for token in str(setting).split() if _is_source(token)]
    if chosen:
        return chosen
    base = registry.calendar.base_url.rstrip("/")
    scheme, _, rest = base.partition("://")
    return ["'self'", f"{scheme}://{rest.split('/', 1)[0]}"]


def _is_source(token: str) -> bool:
    """Return whether `token` is a CSP host source or 'self' (nothing that ends the directive)."""
    if token in ("'self'", "'none'"):
        return True
    return not any(c in token for c in ";,'\"") and "://" in token


def _in_view(registry: Registry, found: list[Occurrence]) -> list[Occurrence]:
    """Return `found` with each event as the language's view shows it."""
    result = []
    for occurrence in found:
        event = registry.event(occurrence.event.id)
        if event is not None:
            result.append(
                Occurrence(
                    event,
                    occurrence.start,
                    occurrence.end,
                    occurrence.first_day,
                    occurrence.last_day,
                )
            )
    return result


def _listing(registry: Registry) -> dict[str, object]:
    """Return what the occurrence list template needs."""
    return {
        "occurrence_text": _span_text,
        "time_of": _time_of,
        "topic_title": lambda t: _topic_title(registry, t),
    }


def _years(registry: Registry) -> list[int]:
    served: Served = g.served
    today = service().today()
    return served.remember(("archive-years", today), lambda: agenda.archive_years(registry, today))


def _subscription(registry: Registry, topics: list[str]) -> dict[str, object]:
    """Return the addresses that subscribe to exactly `topics` (all when none)."""
    settings = registry.calendar
    return {
        "name": publication_title(registry, topics),
        "page": link("pages.subscribe", topic=topics),
        "ics": absolute(settings, feed_path("ics", topics), g.lang),
        "feeds": [
            (label, absolute(settings, feed_path(fmt, topics), g.lang))
            for fmt, label in (("rss", "RSS"), ("atom", "Atom"), ("json", "JSON Feed"))
        ],
    }


def _date(name: str) -> tuple[dt.date | None, bool]:
    """Return the `?from=`/`?to=` date and whether one was given that is not a date."""
    text = request.args.get(name, "").strip()
    if not text:
        return None, False
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return None, True
    if not agenda.EARLIEST <= day <= agenda.LATEST:
        return None, True
    return day, False


def _page_number() -> int:
    text = request.args.get("page", "1")
    if not text.isdigit() or len(text) > 6:
        abort(404)
    return int(text)


def _limit() -> int:
    text = request.args.get("limit", "")
    if text.isdigit() and len(text) < 4:
        return max(1, min(EMBED_MAX, int(text)))
    return EMBED_LIMIT


def _page_link(number: int) -> str:
    """Return this list's address on page `number`, its filters kept."""
    kept = [(k, v) for k, v in request.args.items(multi=True) if k not in ("page", "lang")]
    if number > 1:
        kept.append(("page", str(number)))
    query = urlencode(kept)
    return link("pages.events") + ("?" + query if query else "")
