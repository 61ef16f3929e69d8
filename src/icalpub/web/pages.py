"""The pages people read: month calendar, event page, subscribe page."""

from __future__ import annotations

import calendar as monthcalendar
import datetime as dt
from collections.abc import Callable
from typing import Any

from babel.dates import get_day_names, get_month_names
from flask import (
    Blueprint,
    Response,
    abort,
    g,
    make_response,
    redirect,
    render_template,
    request,
)
from markupsafe import Markup
from werkzeug.routing import BaseConverter, Map
from werkzeug.wrappers import Response as WerkzeugResponse

from .. import agenda, links, platforms, qr
from ..display import publication_title, when
from ..i18n import date_range, locale
from ..jsonld import event_data, script
from ..model import Event, Registry
from ..occurrences import Occurrence, by_day, upcoming
from ..query import by_topics
from ..served import Served
from ..text import to_html
from ..urls import absolute, canonical_topics, event_page_path, feed_path, page_path
from ..zones import zone
from .headers import secure
from .language import gettext, link
from .respond import service

blueprint = Blueprint("pages", __name__)
PAGE_MAX_AGE = 300  # pages may be cached briefly; they change with the registry
POSTER_EVENTS = 5  # the next events a poster lists


@blueprint.get("/")
def index() -> Response:
    """Show this month."""
    today = service().today()
    return month(today.year, today.month)


class Digits(BaseConverter):
    """Digits in a path, kept as written; a number is written zero-padded to `width`.

    Werkzeug's fixed-digit `int` refuses "1" without letting another rule try,
    so one rule takes any digits and the view redirects other spellings.
    """

    regex = r"\d{1,6}"

    def __init__(self, url_map: Map, width: int = 1) -> None:
        super().__init__(url_map)
        self.width = width

    def to_url(self, value: Any) -> str:
        return f"{int(value):0{self.width}d}"


@blueprint.record_once
def _register_converter(state: Any) -> None:
    state.app.url_map.converters["digits"] = Digits


@blueprint.get("/calendar/<digits(width=4):year>/<digits(width=2):month_number>")
def month_page(year: str, month_number: str) -> WerkzeugResponse:
    """Show one month; send /calendar/2022/1 (and other spellings) to /calendar/2022/01."""
    whole, number = int(year), int(month_number)
    if not (1 <= number <= 12 and 1 <= whole <= 9998):
        abort(404)
    if (year, month_number) != (f"{whole:04d}", f"{number:02d}"):
        target = link("pages.month_page", year=whole, month_number=number)
        query = request.query_string.decode("latin-1")
        return redirect(target + ("?" + query if query else ""), code=301)
    return month(whole, number)


def month(year: int, number: int) -> Response:
    """Render the month grid and list for `year`-`number`, filtered by ?topic=."""
    registry: Registry = g.view
    topics = _topics(registry)
    settings = registry.calendar
    weeks = monthcalendar.Calendar(firstweekday=0).monthdatescalendar(year, number)
    # The day grid walks every event: once per publication, month and topics.
    served: Served = g.served
    days = served.remember(
        ("days", g.lang, year, number, tuple(topics)),
        lambda: by_day(by_topics(registry, topics), weeks[0][0], weeks[-1][-1], settings.timezone),
    )
    listed: dict[tuple[str, dt.date], Occurrence] = {}
    for day, found in days.items():
        if day.month == number:
            for occurrence in found:
                listed.setdefault((occurrence.event.id, occurrence.first_day), occurrence)
    in_month = list(listed.values())
    loc = locale(g.lang)
    month_name = get_month_names("wide", context="stand-alone", locale=loc)[number]
    # No month before January of year 1 (the first a date can be in).
    previous = dt.date(year, number, 1) - dt.timedelta(days=1) if (year, number) > (1, 1) else None
    following = dt.date(year, number, 28) + dt.timedelta(days=7)
    html = _cached(
        lambda: render_template(
            "month.html",
            heading=f"{publication_title(registry, [])} - {month_name.capitalize()}, {year}",
            month_label=f"{month_name.capitalize()}, {year}",
            year=year,
            number=number,
            weeks=weeks,
            days=days,
            events=in_month,
            weekdays=[get_day_names("wide", locale=loc)[i] for i in range(7)],
            weekdays_short=[get_day_names("abbreviated", locale=loc)[i] for i in range(7)],
            previous=previous,
            following=following,
            topics=topics,
            all_topics=registry.topics,
            topic_title=lambda t: _topic_title(registry, t),
            occurrence_when=lambda o: (
                _occurrence_text(o) if o.event.repeat else when(o.event, g.lang, settings.timezone)
            ),
            time_of=_time_of,
            feeds=_feeds(registry, topics),
        )
    )
    return _page(html)


@blueprint.get("/events/<event_id>")
def event_page(event_id: str) -> Response:
    """Show one event with its description, contact and "add to calendar" links."""
    registry: Registry = g.view
    event = registry.event(event_id)
    if event is None:
        return not_found(registry, message_key="There is no event with this address.")
    settings = registry.calendar
    page = absolute(settings, event_page_path(event.id))
    title = event.title
    today = service().today()
    shown = upcoming(event, today, settings.timezone, 1) if event.repeat else []
    data = event_data(
        event, shown[0] if shown else None, settings, page, g.lang, _previous_start(event)
    )
    html = _cached(
        lambda: render_template(
            "event.html",
            event=event,
            title=title,
            when=when(event, g.lang, settings.timezone),
            description=Markup(to_html(event.description)) if event.description else None,
            contact=event.contact or settings.contact,
            topic_title=lambda t: _topic_title(registry, t),
            ics_url=link("feeds.event", name=event.id),
            google=links.google_event(event, title, page),
            outlook=links.outlook_event(event, title, page, "outlook.com"),
            office=links.outlook_event(event, title, page, "office365"),
            next_dates=[_occurrence_text(o) for o in upcoming(event, today, settings.timezone)]
            if event.repeat
            else [],
            feeds=_feeds(registry, []),
            jsonld=script(data),
            qr=qr.svg(page, gettext("QR code of this page's address")),
            page_address=page,
        )
    )
    return _page(html)


@blueprint.get("/subscribe")
def subscribe() -> Response:
    """Offer the calendar and feed addresses for the chosen topics, per client.

    The visitor's likely client comes first (from the User-Agent); every
    client's one-click link and its "add by URL" steps stay on the page.
    """
    registry: Registry = g.view
    topics = _topics(registry)
    settings = registry.calendar
    url = absolute(settings, feed_path("ics", topics))
    name = publication_title(registry, topics)
    agent = request.headers.get("User-Agent", "")
    seen = platforms.platform(agent)
    html = _cached(
        lambda: render_template(
            "subscribe.html",
            topics=topics,
            all_topics=registry.topics,
            topic_title=lambda t: _topic_title(registry, t),
            url=url,
            webcal=links.webcal(url),
            name=name,
            clients=platforms.ORDER[seen],
            opens_webcal=seen in platforms.WEBCAL,
            google=links.google_subscribe(url),
            outlook=links.outlook_subscribe(url, name, "outlook.com"),
            office=links.outlook_subscribe(url, name, "office365"),
            outlook_form=links.outlook_add_from_web("outlook.com"),
            office_form=links.outlook_add_from_web("office365"),
            qr=qr.svg(url, gettext("QR code of the calendar address")),
            feed_links=[
                (label, absolute(settings, feed_path(fmt, topics)))
                for fmt, label in (("rss", "RSS"), ("atom", "Atom"), ("json", "JSON Feed"))
            ],
            feeds=_feeds(registry, topics),
        ),
        seen,
    )
    response = _page(html)
    response.headers["Vary"] = "User-Agent"  # the order of the clients follows it
    return response


@blueprint.get("/clients")
def clients() -> Response:
    """Say how often each calendar program fetches a subscription, and what it hides."""
    registry: Registry = g.view
    return _page(_cached(lambda: render_template("clients.html", feeds=_feeds(registry, []))))


@blueprint.get("/poster/")
@blueprint.get("/poster/<topic_id>")
def poster(topic_id: str | None = None) -> Response:
    """Show a printable one-page poster: the title, the next events, a QR code, the address."""
    registry: Registry = g.view
    topics = [topic_id] if topic_id else []
    if topic_id and registry.topic(topic_id) is None:
        return not_found(registry, message_key="There is no topic with this address.")
    settings = registry.calendar
    today = service().today()
    target = absolute(settings, "subscribe" + page_path(topics))
    coming = g.served.remember(
        ("poster", g.lang, topic_id, today),
        lambda: agenda.upcoming(registry, today, topics)[:POSTER_EVENTS],
    )
    html = _cached(
        lambda: render_template(
            "poster.html",
            title=_topic_title(registry, topic_id) if topic_id else settings.title,
            items=coming,
            qr=qr.svg(target, gettext("QR code of the subscription page")),
            short=target.split("://", 1)[1],
            target=target,
            occurrence_text=_span_text,
            topic_title=lambda t: _topic_title(registry, t),
            feeds=_feeds(registry, topics),
        )
    )
    return _page(html)


def not_found(registry: Registry, message_key: str = "") -> Response:
    """Render the 404 page, naming the known topics."""
    html = render_template(
        "404.html",
        message_key=message_key,
        all_topics=registry.topics,
        topic_title=lambda t: _topic_title(registry, t),
        feeds=_feeds(registry, []),
    )
    response = _page(html)
    response.status_code = 404
    return response


def _previous_start(event: Event) -> dt.date | dt.datetime | None:
    """Return the start the ledger says the event had before it moved, in its zone."""
    served: Served = g.served
    entry = served.publication.reconciled.ledger.entries.get(event.id)
    previous = entry.previous_start if entry is not None else None
    if isinstance(previous, dt.datetime):
        return previous.astimezone(zone(event.timezone))
    return previous


def _cached(render: Callable[[], str], *more: object) -> str:
    """Render once per publication, page address, language, day (and `more`)."""
    served: Served = g.served
    return served.page((request.full_path, g.lang, service().today(), *more), render)


def _topics(registry: Registry) -> list[str]:
    chosen = list(canonical_topics(request.args.getlist("topic")[:50]))
    unknown = [t for t in chosen if registry.topic(t) is None]
    if unknown:
        abort(404)
    return chosen


def _topic_title(registry: Registry, topic_id: str) -> str:
    topic = registry.topic(topic_id)
    return topic.title(g.lang) if topic else topic_id


def _feeds(registry: Registry, topics: list[str]) -> list[dict[str, str]]:
    settings = registry.calendar
    title = publication_title(registry, topics)
    return [
        {
            "type": "application/atom+xml",
            "title": f"{title} (Atom)",
            "href": absolute(settings, feed_path("atom", topics)),
        },
        {
            "type": "application/rss+xml",
            "title": f"{title} (RSS)",
            "href": absolute(settings, feed_path("rss", topics)),
        },
    ]


def _time_of(occurrence: Occurrence) -> str:
    start = occurrence.start
    if not isinstance(start, dt.datetime):
        return ""
    return f"{start:%H:%M}"


def _occurrence_text(occurrence: Occurrence) -> str:
    from babel.dates import format_date

    text = format_date(occurrence.first_day, "long", locale=locale(g.lang))
    time = _time_of(occurrence)
    return f"{text}, {time}" if time else text


def _span_text(occurrence: Occurrence) -> str:
    """Return when an occurrence is: its day and time, or its first and last day."""
    if occurrence.first_day == occurrence.last_day:
        return _occurrence_text(occurrence)
    text = date_range(occurrence.first_day, occurrence.last_day, g.lang)
    time = _time_of(occurrence)
    return f"{text}, {time}" if time else text


def _page(html: str) -> Response:
    response = make_response(html)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    response.headers["Cache-Control"] = f"public, max-age={PAGE_MAX_AGE}"
    if g.get("negotiated"):
        response.headers["Vary"] = "Accept-Language"  # only `/` reads it
    response.headers["Content-Language"] = g.lang
    return secure(response)
