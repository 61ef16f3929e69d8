"""Model → RSS 2.0 and Atom 1.0 (feedgen) and JSON Feed 1.1 bytes."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from feedgen.ext.base import BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem
from markupsafe import Markup, escape

from . import __version__
from .display import publication_title, when
from .i18n import _
from .ledger import Stamp
from .model import Event, Registry
from .query import newest_first
from .text import to_html
from .urls import absolute, event_ics_path, event_page_path, feed_path, page_path

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
CONTENT_TYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml"}


def items(
    registry: Registry,
    stamps: Mapping[str, Stamp],
    topics: Iterable[str] = (),
    newest: Sequence[Event] | None = None,
) -> list[Event]:
    """Return a feed's events: newest `published` first, at most `feed_items`.

    `newest` is the registry's events already in that order, when the caller
    renders many feeds of one registry (sorting 100,000 events takes a while).
    """
    chosen = set(topics)
    ordered = newest if newest is not None else newest_first(registry.events, created(stamps))
    found = (e for e in ordered if not chosen or chosen.intersection(e.topics))
    return list(itertools.islice(found, registry.calendar.feed_items))  # no further look


def rss(
    registry: Registry,
    stamps: Mapping[str, Stamp],
    topics: Iterable[str] = (),
    newest: Sequence[Event] | None = None,
    html: dict[str, str] | None = None,
) -> bytes:
    """Return the RSS 2.0 feed of the whole registry or of the union of `topics`.

    `html` keeps items' HTML by event id for the other feeds of the same
    registry (an event is an item of several: its topics', each format).
    """
    generator = _generator(registry, stamps, sorted(set(topics)), "rss", newest, html)
    return bytes(generator.rss_str(pretty=True))


def atom(
    registry: Registry,
    stamps: Mapping[str, Stamp],
    topics: Iterable[str] = (),
    newest: Sequence[Event] | None = None,
    html: dict[str, str] | None = None,
) -> bytes:
    """Return the Atom 1.0 feed of the whole registry or of the union of `topics`."""
    generator = _generator(registry, stamps, sorted(set(topics)), "atom", newest, html)
    return bytes(generator.atom_str(pretty=True))


def json_feed(
    registry: Registry,
    stamps: Mapping[str, Stamp],
    topics: Iterable[str] = (),
    newest: Sequence[Event] | None = None,
    html: dict[str, str] | None = None,
) -> bytes:
    """Return the JSON Feed 1.1 of the whole registry or of the union of `topics`."""
    chosen = sorted(set(topics))
    settings = registry.calendar
    feed: dict[str, object] = {
        "version": JSON_FEED_VERSION,
        "title": publication_title(registry, chosen),
        "home_page_url": absolute(settings, page_path(chosen)),
        "feed_url": absolute(settings, feed_path("json", chosen)),
    }
    if settings.description:
        feed["description"] = settings.description
    feed["language"] = settings.language
    if len(settings.published_languages) > 1:
        feed["_languages"] = {  # JSON Feed has no alternates: an extension object
            language: absolute(settings, feed_path("json", chosen), language)
            for language in settings.published_languages
        }
    if settings.contact and settings.contact.name:
        feed["authors"] = [{"name": settings.contact.name}]
    entries = []
    for event in items(registry, stamps, chosen, newest):
        page = absolute(settings, event_page_path(event.id))
        entry: dict[str, object] = {
            "id": page,
            "url": page,
            "title": _item_title(registry, event),
            "content_html": _content(registry, event, html),
        }
        if event.url:
            entry["external_url"] = event.url
        if event.summary:
            entry["summary"] = event.summary
        entry["date_published"] = _rfc3339(published(event, stamps[event.id]))
        entry["date_modified"] = _rfc3339(stamps[event.id].last_modified)
        contact = event.contact or settings.contact
        if contact and contact.name:
            entry["authors"] = [{"name": contact.name}]
        if event.topics:
            entry["tags"] = [registry.topic_title(t) for t in event.topics]
        entry["_event"] = _event_extension(registry, event)
        entries.append(entry)
    feed["items"] = entries
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode()


def content_html(registry: Registry, event: Event) -> str:
    """Return an item's HTML: when and where first, then the description, then the contact."""
    settings = registry.calendar
    language = settings.language
    fallback = event.fallback
    mark = _lang_attribute(settings.default_language)
    headline = escape(when(event, language, settings.timezone))
    if event.location:
        place = escape(event.location)
        if "location" in fallback:
            place = Markup(f"<span{mark}>{place}</span>")
        headline += ", " + place
    parts = [f"<p><strong>{headline}</strong></p>"]
    if event.status == "cancelled":
        parts.append(f"<p><strong>{escape(_(language, 'Cancelled: ').strip(' :'))}</strong></p>")
    if event.description:
        html = to_html(event.description)
        parts.append(f"<div{mark}>{html}</div>" if "description" in fallback else html)
    elif event.summary:
        marked = mark if "summary" in fallback else ""
        parts.append(f"<p{marked}>{escape(event.summary)}</p>")
    contact = event.contact or settings.contact
    if contact and contact.display():
        text = _(language, "Contact: {contact}").format(contact=contact.display())
        parts.append(f"<p>{escape(text)}</p>")
    return "\n".join(parts)


def _generator(
    registry: Registry,
    stamps: Mapping[str, Stamp],
    chosen: list[str],
    fmt: str,
    newest: Sequence[Event] | None,
    html: dict[str, str] | None,
) -> FeedGenerator:
    settings = registry.calendar
    events = items(registry, stamps, chosen, newest)
    generator = FeedGenerator()
    generator.id(absolute(settings, feed_path(fmt, chosen)))
    generator.title(publication_title(registry, chosen))
    generator.description(settings.description or settings.title)
    generator.subtitle(settings.description or settings.title)
    generator.language(settings.language)
    generator.link(href=absolute(settings, feed_path(fmt, chosen)), rel="self")
    others = [
        (language, absolute(settings, feed_path(fmt, chosen), language))
        for language in settings.published_languages
        if language != settings.language  # the same feed in the registry's other languages
    ]
    if fmt == "rss" and others:
        generator.register_extension("alternates", _Alternates, None, atom=False, rss=True)
        generator.alternates.links = others
    elif fmt != "rss":
        for language, href in others:
            generator.link(href=href, rel="alternate", type=CONTENT_TYPES[fmt], hreflang=language)
    # RSS's channel <link> is the last link given: the HTML page.
    generator.link(href=absolute(settings, page_path(chosen)), rel="alternate")
    generator.generator("icalpub", version=__version__)
    updated = max((stamps[e.id].last_modified for e in events), default=EPOCH)
    generator.updated(updated)
    if settings.contact and settings.contact.name:
        generator.author({"name": settings.contact.name})
    for event in events:
        page = absolute(settings, event_page_path(event.id))
        entry = generator.add_entry(order="append")
        entry.id(page)
        entry.guid(page, permalink=True)
        entry.title(_item_title(registry, event))
        entry.link(href=page, rel="alternate")
        content = _content(registry, event, html)
        if fmt == "rss":
            entry.description(content)
        else:
            entry.content(content, type="html")
            if event.summary:
                entry.summary(event.summary)
        entry.published(published(event, stamps[event.id]))
        entry.updated(stamps[event.id].last_modified)
        for topic in event.topics:
            entry.category(term=topic, label=registry.topic_title(topic))
        contact = event.contact or settings.contact
        if contact and contact.name:
            author = {"name": contact.name}
            if contact.email:
                author["email"] = contact.email
            entry.author(author)
    return generator


class _Alternates(BaseExtension):  # type: ignore[misc]  # feedgen has no type hints
    """RSS 2.0 has no alternates: atom:link elements in the channel name them, as in Atom."""

    def __init__(self) -> None:
        self.links: list[tuple[str, str]] = []

    def extend_ns(self) -> dict[str, str]:
        return {}  # the atom namespace is declared already (for rel="self")

    def extend_rss(self, rss_feed: Any) -> Any:
        channel = rss_feed[0]
        for language, href in self.links:
            xml_elem(
                "{http://www.w3.org/2005/Atom}link",
                channel,
                href=href,
                rel="alternate",
                type=CONTENT_TYPES["rss"],
                hreflang=language,
            )
        return rss_feed


def _content(registry: Registry, event: Event, html: dict[str, str] | None) -> str:
    """Return `content_html`, from `html` (items' HTML by event id, of this registry) if there."""
    if html is None:
        return content_html(registry, event)
    found = html.get(event.id)
    if found is None:
        found = html[event.id] = content_html(registry, event)
    return found


def _lang_attribute(language: str) -> str:
    return f' lang="{escape(language)}"'


def _item_title(registry: Registry, event: Event) -> str:
    if event.status == "cancelled":
        return _(registry.calendar.language, "Cancelled: ") + event.title
    return event.title


def _event_extension(registry: Registry, event: Event) -> dict[str, object]:
    start, end = event.start, event.end
    extension: dict[str, object] = {
        "start": start.isoformat(),
        "all_day": event.all_day,
    }
    if event.all_day:
        extension["end"] = (end if end is not None else start).isoformat()
    elif end is not None:
        extension["end"] = end.isoformat()
    if not event.all_day:
        extension["timezone"] = event.timezone
    if event.location:
        extension["location"] = event.location
    extension["status"] = event.status
    extension["ics"] = absolute(registry.calendar, event_ics_path(event.id))
    return extension


def published(event: Event, stamp: Stamp) -> dt.datetime:
    """Return when an item was published: its CREATED, in the offset it was written in
    (`published`, else the start's zone) when that is the same instant."""
    written = event.published_at
    return written if written == stamp.created else stamp.created


def created(stamps: Mapping[str, Stamp]) -> dict[str, dt.datetime]:
    """Return each event's CREATED: when it was published, the feeds' order."""
    return {event_id: stamp.created for event_id, stamp in stamps.items()}


def _rfc3339(value: dt.datetime) -> str:
    return value.isoformat()
