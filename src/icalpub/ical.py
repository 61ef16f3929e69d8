"""Model → .ics bytes (RFC 5545 + RFC 7986), written for what real clients accept."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Mapping

from icalendar import Calendar as VCalendar
from icalendar import Component, vDuration, vRecur, vText
from icalendar import Event as VEvent

from .display import publication_title
from .i18n import _
from .ledger import Stamp
from .model import Event, Registry
from .query import by_topics, in_order, kept
from .text import to_html, to_plain
from .urls import absolute, event_ics_path, event_page_path, feed_path, uid
from .vtimezone import vtimezone
from .zones import is_fixed, zone

PRODID = "-//icalpub//icalpub//EN"
_END = b"END:VCALENDAR\r\n"


class Text(vText):
    """A TEXT value escaped exactly by RFC 5545 §3.3.11.

    icalendar 7's own escaping first turns a literal backslash-N into a
    newline, so an editor's "\\N" would change meaning; this escapes the
    backslash first and nothing else.
    """

    def to_ical(self) -> bytes:
        """Return the escaped value."""
        return escape_text(str(self)).encode("utf-8")


class TextList(vText):
    """A comma-separated list of TEXT values (CATEGORIES), each escaped by `escape_text`."""

    def __new__(cls, values: list[str]) -> TextList:
        """Keep the separate values; their escaped join is the wire form."""
        self = super().__new__(cls, ",".join(escape_text(v) for v in values))
        return self

    def to_ical(self) -> bytes:
        """Return the already escaped, comma-joined values."""
        return str(self).encode("utf-8")


def escape_text(value: str) -> str:
    """Escape backslash, semicolon, comma and line breaks for an iCalendar TEXT value."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


class Writer:
    """Render one registry's calendars, reusing what repeats between them.

    A VEVENT is the same bytes in every calendar that holds it (the whole
    calendar, its topics', unions, its own file), and so are a VTIMEZONE and
    the per-event header; one Writer per publication keeps them.
    """

    _PLACEHOLDER = "\x00source\x00"

    def __init__(
        self, registry: Registry, stamps: Mapping[str, Stamp], today: dt.date | None = None
    ) -> None:
        self.registry = registry
        self.stamps = stamps
        self.today = today
        self._events: dict[str, bytes] = {}
        self._event_header: tuple[bytes, bytes] | None = None

    def calendar(self, topics: Iterable[str] = ()) -> bytes:
        """Return the calendar of the whole registry, or of the union of `topics`."""
        registry = self.registry
        chosen = sorted(set(topics))
        events = in_order(kept(registry, by_topics(registry, chosen), self.today))
        cal = _calendar(registry, source=absolute(registry.calendar, feed_path("ics", chosen)))
        title = publication_title(registry, chosen)
        cal.add("name", Text(title))
        cal.add("x-wr-calname", Text(title))
        if registry.calendar.description:
            cal.add("description", Text(registry.calendar.description))
            cal.add("x-wr-caldesc", Text(registry.calendar.description))
        return self._assemble(serialize(cal).removesuffix(_END), events)

    def event(self, event: Event) -> bytes:
        """Return one event as a calendar without NAME (Outlook would add it as a new one)."""
        if self._event_header is None:
            header = serialize(_calendar(self.registry, source=self._PLACEHOLDER))
            line = fold(f"SOURCE;VALUE=URI:{self._PLACEHOLDER}") + b"\r\n"
            before, _, after = header.removesuffix(_END).partition(line)
            self._event_header = (before, after)
        before, after = self._event_header
        source = absolute(self.registry.calendar, event_ics_path(event.id))
        header = before + fold(f"SOURCE;VALUE=URI:{source}") + b"\r\n" + after
        return self._assemble(header, [event])

    def _assemble(self, header: bytes, events: list[Event]) -> bytes:
        parts = [header]
        for name, (first, last) in sorted(_zone_years(events).items()):
            parts.append(_vtimezone_bytes(name, first, last))
        for event in events:
            data = self._events.get(event.id)
            if data is None:
                vevent = _vevent(self.registry, event, self.stamps[event.id])
                data = self._events[event.id] = serialize(vevent)
            parts.append(data)
        parts.append(_END)
        return b"".join(parts)


def calendar_ics(
    registry: Registry,
    stamps: Mapping[str, Stamp],
    topics: Iterable[str] = (),
    today: dt.date | None = None,
) -> bytes:
    """Return the calendar of the whole registry, or of the union of `topics`."""
    return Writer(registry, stamps, today).calendar(topics)


def event_ics(registry: Registry, stamps: Mapping[str, Stamp], event: Event) -> bytes:
    """Return one event as a calendar without NAME (Outlook would add it as a new one)."""
    return Writer(registry, stamps).event(event)


def _calendar(registry: Registry, source: str) -> VCalendar:
    settings = registry.calendar
    cal = VCalendar()
    cal.add("version", "2.0")
    cal.add("prodid", PRODID)
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-timezone", settings.timezone)
    if settings.refresh is not None:
        cal.add(
            "refresh-interval",
            _timedelta(settings.refresh.total_seconds()),
            parameters={"VALUE": "DURATION"},
        )
        cal.add("x-published-ttl", vDuration(_timedelta(settings.refresh.total_seconds())))
    cal.add("url", settings.base_url)
    cal.add("source", source, parameters={"VALUE": "URI"})
    return cal


@functools.cache
def _vtimezone_bytes(name: str, first: int, last: int) -> bytes:
    return serialize(vtimezone(name, first, last))


def serialize(component: Component) -> bytes:
    """Return a component's content lines, each folded by `fold`, with CRLF line ends."""
    return b"".join(fold(str(line)) + b"\r\n" for line in component.content_lines() if line)


def fold(line: str) -> bytes:
    """Fold a content line at 75 octets (RFC 5545 §3.1) without splitting a UTF-8 character.

    icalendar's own folding walks the line character by character in Python;
    most lines are short, and a long one is cut on bytes, stepping back over
    UTF-8 continuation bytes (10xxxxxx) to the start of a character.
    """
    data = line.encode("utf-8")
    if len(data) <= 75:
        return data
    pieces = []
    start, limit = 0, 75
    while len(data) - start > limit:
        cut = start + limit
        while data[cut] & 0xC0 == 0x80:
            cut -= 1
        pieces.append(data[start:cut])
        start, limit = cut, 74  # a continuation line begins with a space
    pieces.append(data[start:])
    return b"\r\n ".join(pieces)


def _vevent(registry: Registry, event: Event, stamp: Stamp) -> VEvent:
    settings = registry.calendar
    language = settings.language
    page = absolute(settings, event_page_path(event.id))
    vevent = VEvent()
    vevent.add("uid", uid(settings, event.id))
    vevent.add("dtstamp", stamp.last_modified)
    vevent.add("created", stamp.created)
    vevent.add("last-modified", stamp.last_modified)
    vevent.add("sequence", stamp.sequence)
    if event.all_day:
        end = event.end if event.end is not None else event.start
        vevent.add("dtstart", event.start)
        vevent.add("dtend", end + dt.timedelta(days=1))
        vevent.add("transp", "TRANSPARENT")
    else:
        vevent.add("dtstart", _published_time(event, event.start))  # type: ignore[arg-type]
        if event.end is not None:
            vevent.add("dtend", _published_time(event, event.end))  # type: ignore[arg-type]
    title = event.title
    if event.status == "cancelled":
        title = _(language, "Cancelled: ") + title
    vevent.add("summary", Text(title))
    vevent.add("description", Text(_plain_description(registry, event, page)))
    html = Text(_html_description(event, page))
    vevent.add("x-alt-desc", html, parameters={"FMTTYPE": "text/html"})
    if event.location:
        vevent.add("location", Text(event.location))
    if event.topics:
        vevent.add("categories", TextList([registry.topic_title(t) for t in event.topics]))
    vevent.add("url", page, parameters={"VALUE": "URI"})
    contact = event.contact or settings.contact
    if contact is not None and contact.display():
        vevent.add("contact", Text(contact.display()))
    vevent.add("status", event.status.upper())
    if event.repeat:
        vevent.add("rrule", vRecur.from_ical(event.repeat))
        if event.exceptions:
            vevent.add("exdate", [_exdate(event, day) for day in event.exceptions])
    return vevent


def _published_time(event: Event, value: dt.datetime) -> dt.datetime:
    """Return a timed value as written: in its zone (TZID), or in UTC (`Z`) for UTC-like zones."""
    if is_fixed(event.timezone):
        return value.astimezone(dt.UTC)
    return value.astimezone(zone(event.timezone))


def _exdate(event: Event, day: dt.date) -> dt.date | dt.datetime:
    # EXDATE takes DTSTART's value type and zone, at the occurrence's own wall time.
    if not isinstance(event.start, dt.datetime):
        return day
    wall = dt.datetime.combine(day, event.start.timetz())
    return _published_time(event, wall)


def _plain_description(registry: Registry, event: Event, page: str) -> str:
    language = registry.calendar.language
    parts = []
    body = to_plain(event.description) if event.description else (event.summary or "")
    if body:
        parts.append(body)
    if event.url:
        parts.append(_(language, "More information: {url}").format(url=event.url))
    parts.append(_(language, "Event page: {url}").format(url=page))
    return "\n\n".join(parts)


def _html_description(event: Event, page: str) -> str:
    from markupsafe import escape

    body = to_html(event.description) if event.description else ""
    if not body and event.summary:
        body = f"<p>{escape(event.summary)}</p>"
    link = f'<p><a href="{escape(page)}">{escape(page)}</a></p>'
    return f"<html><body>{body}{link}</body></html>"


def _zone_years(events: Iterable[Event]) -> dict[str, tuple[int, int]]:
    years: dict[str, tuple[int, int]] = {}
    for event in events:
        if event.all_day or is_fixed(event.timezone):
            continue
        found = [event.first_day.year]
        if event.end is not None:
            found.append(event.end.year)
        found.extend(day.year for day in event.exceptions)
        until = re.search(r"UNTIL=(\d{4})", (event.repeat or "").upper())
        if until:
            found.append(int(until.group(1)))
        first, last = years.get(event.timezone, (min(found), max(found)))
        years[event.timezone] = (min(first, *found), max(last, *found))
    return years


def _timedelta(seconds: int) -> dt.timedelta:
    return dt.timedelta(seconds=seconds)
