"""The pages people read: month calendar, event page, subscribe page."""

from __future__ import annotations

import calendar as monthcalendar
import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

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
    url_for,
)
from markupsafe import Markup, escape
from werkzeug.routing import BaseConverter, Map
from werkzeug.wrappers import Response as WerkzeugResponse

from .. import languages, links
from ..display import publication_title, when
from ..i18n import LANGUAGES, locale
from ..model import Calendar, Event, Registry
from ..occurrences import Occurrence, by_day, upcoming
from ..query import by_topics
from ..served import Served
from ..text import to_html
from ..urls import absolute, canonical_topics, event_page_path, feed_path
from . import language
from .headers import secure
from .respond import service

blueprint = Blueprint("pages", __name__)
PAGE_MAX_AGE = 300  # pages may be cached briefly; they change with the registry


PAGES = ("pages", "pages_lang")  # the blueprint at the top and under /<lang>/


@blueprint.url_value_preprocessor
def _take_language(endpoint: str | None, values: dict[str, Any] | None) -> None:
    g.prefixed = values.pop("lang", None) if values else None


@blueprint.before_app_request
def _choose_language() -> WerkzeugResponse | None:
    if request.blueprint in ("feeds", "feeds_lang", "health"):
        return None  # feeds have no language to negotiate: keep the polling path short
    served = service().current()
    g.served = served
    calendar = served.publication.registry.calendar
    if request.blueprint in PAGES:
        answer = _page_language(calendar)
        if answer is not None:
            return answer
    elif request.blueprint is None:  # an unknown address: in the language of its prefix
        first = request.path.strip("/").split("/", 1)[0]
        g.lang = first if first in calendar.published_languages else calendar.default_language
    else:  # the editor
        g.lang, g.lang_explicit = language.choose(calendar.language)
    seen = g.lang if g.lang in calendar.published_languages else calendar.default_language
    g.view = served.publication.view(seen)
    return None


def _page_language(calendar: Calendar) -> WerkzeugResponse | None:
    """Set the page's language from its address; redirect to the canonical one if need be.

    `/en/…` is English, today's addresses the default language; `?lang=`
    redirects to the canonical address, and only `/` reads Accept-Language.
    """
    languages = calendar.published_languages
    prefixed: str | None = g.get("prefixed")
    if prefixed is not None and prefixed not in languages[1:]:
        if prefixed != languages[0]:
            abort(404)
        return _redirect(_address(languages[0]), 301)  # /lv/… is the default's address
    g.lang = prefixed or languages[0]
    if "lang" in request.args:
        asked = request.args["lang"]
        return _redirect(_address(asked if asked in languages else g.lang), 301)
    if request.endpoint == "pages.index" and len(languages) > 1:
        g.negotiated = True
        best = language.negotiate(languages)
        if best != languages[0]:
            answer = _redirect(_address(best), 302)
            answer.headers["Vary"] = "Accept-Language"
            return answer
    return None


def _address(chosen: str, endpoint: str | None = None) -> str:
    """Return this page's address (its query without ?lang=) in language `chosen`."""
    served: Served = g.served
    default = served.publication.registry.calendar.default_language
    name = (endpoint or request.endpoint or "pages.index").split(".", 1)[1]
    values = dict(request.view_args or {})
    if chosen == default:
        target = url_for(f"pages.{name}", **values)
    else:
        target = url_for(f"pages_lang.{name}", lang=chosen, **values)
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return target + ("?" + urlencode(args) if args else "")


def _redirect(target: str, code: int) -> WerkzeugResponse:
    answer = redirect(target, code=code)
    answer.headers["Cache-Control"] = f"public, max-age={PAGE_MAX_AGE}"
    return answer


@blueprint.app_context_processor
def _context() -> dict[str, Any]:
    served: Served | None = g.get("served")
    if served is None:
        return {}
    view: Registry = g.view
    calendar = view.calendar
    context: dict[str, Any] = {
        "calendar": calendar,
        "lang": g.get("lang", "en"),
        "link": link,
        "shown": shown,
        "fallback": fallback,
        # Texts that have no translations (contact names) are in the default language.
        "untranslated": Markup(' lang="{}"').format(calendar.default_language)
        if calendar.language != calendar.default_language
        else "",
    }
    if request.blueprint in PAGES:
        context["alternates"] = [
            (other, calendar.base_url + _address(other).lstrip("/"))
            for other in calendar.published_languages
        ]
        # The switch keeps the reader on the same page; from `/en/` to the
        # default it goes to this month's page, which `/` would negotiate away.
        index = request.endpoint is not None and request.endpoint.endswith(".index")
        context["switches"] = [
            (
                other,
                languages.name(other),
                _this_month() if index and other == calendar.default_language else _address(other),
            )
            for other in calendar.published_languages
            if other != g.lang
        ]
    else:  # the editor: its interface language, by ?lang=
        args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
        context["switches"] = [
            (other, languages.name(other), request.path + "?" + urlencode([*args, ("lang", other)]))
            for other in LANGUAGES
            if other != g.get("lang")
        ]
    return context


def fallback(item: Event | Calendar, field: str) -> Markup:
    """Return ` lang="lv"` when `item`'s `field` shows in the default language, else nothing."""
    if field not in item.fallback:
        return Markup("")
    return Markup(' lang="{}"').format(g.view.calendar.default_language)


def shown(item: Event | Calendar, field: str) -> Markup:
    """Return `item`'s text `field` escaped, in a span marking its language if it fell back."""
    mark = fallback(item, field)
    text = getattr(item, field) or ""
    return Markup("<span{}>{}</span>").format(mark, text) if mark else escape(text)


def _this_month() -> str:
    today = service().today()
    target = url_for("pages.month_page", year=today.year, month_number=today.month)
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return target + ("?" + urlencode(args) if args else "")


def link(endpoint: str, **values: Any) -> str:
    """Return a URL for a page `endpoint` in the page's language (under its prefix)."""
    view: Registry | None = g.get("view")
    if view is not None and endpoint.startswith("pages."):
        calendar = view.calendar
        if g.get("lang") in calendar.published_languages[1:]:
            return url_for("pages_lang." + endpoint.split(".", 1)[1], lang=g.lang, **values)
    if g.get("lang_explicit") and "lang" not in values:
        values["lang"] = g.lang
    return url_for(endpoint, **values)


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
    previous = dt.date(year, number, 1) - dt.timedelta(days=1)
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
    html = _cached(
        lambda: render_template(
            "event.html",
            event=event,
            title=title,
            when=when(event, g.lang, settings.timezone),
            description=Markup(to_html(event.description)) if event.description else None,
            contact=event.contact or settings.contact,
            topic_title=lambda t: _topic_title(registry, t),
            ics_url=_event_file(event.id),
            google=links.google_event(event, title, page),
            outlook=links.outlook_event(event, title, page, "outlook.com"),
            office=links.outlook_event(event, title, page, "office365"),
            next_dates=[_occurrence_text(o) for o in upcoming(event, today, settings.timezone)]
            if event.repeat
            else [],
            feeds=_feeds(registry, []),
        )
    )
    return _page(html)


@blueprint.get("/subscribe")
def subscribe() -> Response:
    """Offer the calendar and feed addresses for the chosen topics."""
    registry: Registry = g.view
    topics = _topics(registry)
    settings = registry.calendar
    url = absolute(settings, feed_path("ics", topics))
    name = publication_title(registry, topics)
    html = _cached(
        lambda: render_template(
            "subscribe.html",
            topics=topics,
            all_topics=registry.topics,
            topic_title=lambda t: _topic_title(registry, t),
            url=url,
            webcal=links.webcal(url),
            name=name,
            google=links.google_subscribe(url),
            outlook=links.outlook_subscribe(url, name, "outlook.com"),
            office=links.outlook_subscribe(url, name, "office365"),
            feed_links=[
                (label, absolute(settings, feed_path(fmt, topics)))
                for fmt, label in (("rss", "RSS"), ("atom", "Atom"), ("json", "JSON Feed"))
            ],
            feeds=_feeds(registry, topics),
        )
    )
    return _page(html)


def _event_file(event_id: str) -> str:
    if g.lang in g.view.calendar.published_languages[1:]:
        return url_for("feeds_lang.event", lang=g.lang, name=event_id)
    return url_for("feeds.event", name=event_id)


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


def _cached(render: Callable[[], str]) -> str:
    """Render once per publication, page address, language and day."""
    served: Served = g.served
    return served.page((request.full_path, g.lang, service().today()), render)


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


def _page(html: str) -> Response:
    response = make_response(html)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    response.headers["Cache-Control"] = f"public, max-age={PAGE_MAX_AGE}"
    if g.get("negotiated"):
        response.headers["Vary"] = "Accept-Language"  # only `/` reads it
    response.headers["Content-Language"] = g.lang
    return secure(response)
