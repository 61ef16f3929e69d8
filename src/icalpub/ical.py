"""Model → .ics bytes (RFC 5545 + RFC 7986), written for what real clients accept."""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from collections.abc import Collection, Iterable, Mapping

from icalendar import Calendar as VCalendar
from icalendar import vDuration, vRecur

from .contentlines import Text, escape_text, fold, fold_bytes, serialize
from .display import publication_title
from .i18n import _
from .languages import topic_fallback
from .ledger import Stamp
from .model import Calendar, Event, Registry
from .query import keep_from, last_day, order_key
from .selection import Facts, Selection, Spans, changed_since, row_key, zone_span, zone_years
from .text import to_html, to_plain
from .urls import absolute, event_ics_path, event_page_path, feed_path, uid
from .vtimezone import vtimezone
from .zones import is_fixed, zone

PRODID = "-//icalpub//icalpub//EN"
KEPT_CALENDARS = 64  # calendars per writer kept for the next one to patch (unions beyond: not)
_END = b"END:VCALENDAR\r\n"


class Writer:
    """Render one registry's calendars, reusing what repeats between them.

    A VEVENT is the same bytes in every calendar that holds it (the whole
    calendar, its topics', unions, its own file), and so are a VTIMEZONE and
    the per-event header; one Writer per publication keeps them.
    """

    _PLACEHOLDER = "\x00source\x00"

    def __init__(
        self,
        registry: Registry,
        stamps: Mapping[str, Stamp],
        today: dt.date | None = None,
        hashes: Mapping[str, str] | None = None,
        previous: Writer | None = None,
        rendered: Mapping[str, bytes] | None = None,
        fresh: Collection[str] | None = None,
    ) -> None:
        """Prepare to render; with the events' content `hashes`, reuse `previous`'s VEVENTs.

        `rendered` holds VEVENTs already made for these stamps, by event id
        (the build makes them on every core). `fresh`: the ids whose stamps and
        hashes the reconcile made anew rather than took from `previous`'s (the
        others are the very same objects for the very same events).

        A VEVENT's bytes depend only on the event's content (its hash), its
        stamp and the calendar's settings, so a reload after an edit renders
        just the edited events again.
        """
        self.registry = registry
        self.stamps = stamps
        self.today = today
        self.hashes = hashes or {}
        self._fresh = fresh
        self._events: dict[str, bytes] = {}
        self._by_content: dict[tuple[object, ...], bytes] = {}
        same = previous is not None and previous.registry.calendar == registry.calendar
        self._earlier = previous._by_content if previous is not None and same else {}
        self._rendered = rendered or {}
        self._event_header: tuple[bytes, bytes] | None = None
        # Each event's VTIMEZONE zone and years by id: it is in several calendars and its file.
        self._years: dict[str, tuple[str, int, int] | None] = {}
        # Event files kept for the next writer, by what they are made of.
        self._files: dict[tuple[str, bytes, bytes, bytes], bytes] = {}
        self._earlier_files = previous._files if previous is not None else {}
        # Every event's file by path, as `event_files` last made them (the next writer's).
        self._event_files: tuple[str, dict[str, bytes]] | None = None
        self._earlier_event_files = previous._event_files if previous is not None and same else None
        # What orders and selects an event, found once per Event object (a reload reuses them).
        self._facts: dict[str, Facts] = {}
        self._earlier_facts = previous._facts if previous is not None else {}
        # Each calendar's events and VEVENTs, by topics: the next writer patches them.
        self._calendars: dict[tuple[str, ...], Selection] = {}
        self._earlier_calendars = previous._calendars if previous is not None and same else {}
        self._previous = previous if same else None  # until compared (see `_changed`)
        if previous is not None:
            previous._previous = None  # one writer back at most: never a chain kept alive
        self._changes: set[str] | None = None
        self._earlier_events: Mapping[str, Event] = {}  # the previous writer's, by id

    def calendar(self, topics: Iterable[str] = ()) -> bytes:
        """Return the calendar of the whole registry, or of the union of `topics`."""
        registry = self.registry
        chosen = sorted(set(topics))
        cutoff = keep_from(registry, self.today)
        selection = self._patched(tuple(chosen), cutoff) or self._selected(chosen, cutoff)
        if len(self._calendars) < KEPT_CALENDARS:
            self._calendars[tuple(chosen)] = selection
        cal = _calendar(registry, source=absolute(registry.calendar, feed_path("ics", chosen)))
        title = publication_title(registry, chosen)
        settings = registry.calendar
        cal.add("name", Text(title), parameters=_language(settings, "title", settings.fallback))
        cal.add("x-wr-calname", Text(title))
        if settings.description:
            marked = _language(settings, "description", settings.fallback)
            cal.add("description", Text(settings.description), parameters=marked)
            cal.add("x-wr-caldesc", Text(settings.description))
        parts = [serialize(cal).removesuffix(_END)]
        for name, (first, last) in sorted(selection.years.items()):
            parts.append(_vtimezone_bytes(name, first, last))
        return b"".join([*parts, *selection.parts, _END])

    def _selected(self, topics: list[str], cutoff: dt.date | None) -> Selection:
        """Return the events of the union of `topics` that keep_past keeps, in order
        (`query.in_order(query.kept(...))`), the years each of their zones spans,
        and their VEVENTs."""
        wanted = set(topics)
        rows: list[tuple[tuple[float, str], Event]] = []
        years: dict[str, tuple[int, int]] = {}
        for event in self.registry.events:
            facts = self._kept(event, wanted, cutoff)
            if facts is None:
                continue
            rows.append((facts.key, event))
            if facts.span is not None:
                name, first, end = facts.span
                known = years.get(name)
                years[name] = (
                    (first, end) if known is None else (min(known[0], first), max(known[1], end))
                )
        rows.sort(key=row_key)
        parts = [self._events.get(event.id) or self._event_bytes(event) for _, event in rows]
        return Selection(rows, years, cutoff, parts)

    def _kept(self, event: Event, wanted: set[str], cutoff: dt.date | None) -> Facts | None:
        """Return the event's facts when a calendar of `wanted` topics (all: empty) keeps
        it in keep_past's window, else None."""
        if wanted and not wanted.intersection(event.topics):
            return None
        facts = self._facts_of(event)
        if cutoff is not None:
            if not facts.has_last:
                facts.last, facts.has_last = last_day(event), True
            if facts.last is not None and facts.last < cutoff:
                return None
        return facts

    def _patched(self, topics: tuple[str, ...], cutoff: dt.date | None) -> Selection | None:
        """Return the previous writer's selection for `topics` with the changed events
        taken out and put in again where they belong, or None when it must be made anew.

        The same rows as `_selected` makes: rows are ordered by a key unique to
        each event, unchanged events keep their keys and VEVENTs, and each zone's
        years come from counts of its events' first and last years.
        """
        own = self._calendars.get(topics)
        if own is not None and own.cutoff == cutoff:
            return own
        earlier = self._earlier_calendars.get(topics)
        if earlier is None or earlier.cutoff != cutoff:
            return None
        changed = self._changed()
        if changed is None:
            return None
        if not changed:
            return earlier
        spans = Spans(earlier.spans or Spans.of(event for _, event in earlier.rows))
        rows, parts = list(earlier.rows), list(earlier.parts)
        for event_id in changed:  # its row, found by its key (unique: it ends with the id)
            was = self._earlier_events.get(event_id)
            if was is None:
                continue
            at = bisect.bisect_left(rows, order_key(was), key=row_key)
            if at < len(rows) and rows[at][1] is was:
                spans.count(zone_span(was), -1)
                del rows[at], parts[at]
        wanted = set(topics)
        for event_id in sorted(changed):
            event = self.registry.event(event_id)
            facts = self._kept(event, wanted, cutoff) if event is not None else None
            if event is None or facts is None:
                continue
            at = bisect.bisect_left(rows, facts.key, key=row_key)
            rows.insert(at, (facts.key, event))
            parts.insert(at, self._events.get(event_id) or self._event_bytes(event))
            spans.count(facts.span, 1)
        return Selection(rows, spans.years(), cutoff, parts, spans)

    def _changed(self) -> set[str] | None:
        """Return the ids of events not as the previous writer had them (new, edited,
        given another stamp, removed), or None when there are many or no previous writer.

        Unchanged events' VEVENTs and facts are taken over from the previous writer.
        """
        previous, self._previous = self._previous, None
        if previous is None:
            return self._changes
        earlier = previous.registry
        if earlier.topics != self.registry.topics:
            return None
        self._earlier_events = earlier.by_id
        changed = changed_since(
            (earlier, previous.stamps, previous.hashes),
            (self.registry, self.stamps, self.hashes),
            self._fresh,
        )
        if len(changed) * 8 > len(self.registry.events) + 8:
            return None
        # Copied first (one step under the GIL): the previous writer may still be
        # rendering a union for a request of the previous publication.
        events, facts = dict(previous._events), dict(previous._facts)
        by_content = list(previous._by_content.items())
        for event_id in changed:
            events.pop(event_id, None)
            facts.pop(event_id, None)
        self._events.update(events)
        self._facts.update(facts)
        self._by_content.update((key, data) for key, data in by_content if key[0] not in changed)
        self._changes = changed
        return changed

    def _facts_of(self, event: Event) -> Facts:
        found = self._facts.get(event.id)
        if found is None or found.event is not event:
            found = self._earlier_facts.get(event.id)
            if found is None or found.event is not event:
                found = Facts(event, order_key(event), zone_span(event))
            self._facts[event.id] = found
        return found

    def event_files(self, prefix: str) -> dict[str, bytes]:
        """Return every event's file by path (`prefix` + `events/<id>.ics`), each kept for
        the next writer: after an edit, the unchanged events' files are the previous
        writer's, and only the changed events' are looked up or made."""
        changed, earlier = self._changed(), self._earlier_event_files
        if changed is not None and earlier is not None and earlier[0] == prefix:
            found = dict(earlier[1])
            for event_id in changed:
                found.pop(prefix + event_ics_path(event_id), None)
            events = (self.registry.event(i) for i in changed)
            made = [e for e in events if e is not None]
        else:
            found, made = {}, list(self.registry.events)
        for event in made:
            found[prefix + event_ics_path(event.id)] = self.event(event, keep=True)
        self._event_files = (prefix, found)
        return dict(found)

    def event(self, event: Event, keep: bool = False) -> bytes:
        """Return one event as a calendar without NAME (Outlook would add it as a new one).

        With `keep`, the file is kept for the next writer to reuse (every event's,
        when the tree is written); without, the file is only looked up.
        """
        if self._event_header is None:
            header = serialize(_calendar(self.registry, source=self._PLACEHOLDER))
            line = fold(f"SOURCE;VALUE=URI:{self._PLACEHOLDER}") + b"\r\n"
            before, _, after = header.removesuffix(_END).partition(line)
            self._event_header = (before, after)
        before, after = self._event_header
        data = self._events.get(event.id) or self._event_bytes(event)
        # The header and the VEVENT's bytes (which fix its zones' too) make the file.
        key = (event.id, data, before, after)
        found = self._files.get(key) or self._earlier_files.get(key)
        if found is None:
            source = absolute(self.registry.calendar, event_ics_path(event.id))
            header = before + fold(f"SOURCE;VALUE=URI:{source}") + b"\r\n" + after
            found = self._assemble(header, [event])
        if keep:
            self._files[key] = found
        return found

    def _assemble(self, header: bytes, events: list[Event]) -> bytes:
        parts = [header]
        for name, (first, last) in sorted(zone_years(events, self._years).items()):
            parts.append(_vtimezone_bytes(name, first, last))
        for event in events:
            data = self._events.get(event.id)
            if data is None:
                data = self._event_bytes(event)
            parts.append(data)
        parts.append(_END)
        return b"".join(parts)

    def _event_bytes(self, event: Event) -> bytes:
        stamp = self.stamps[event.id]
        digest = self.hashes.get(event.id)
        key = (event.id, digest, stamp)  # the calendar's settings: the same as `previous`'s
        data = self._earlier.get(key) if digest is not None else None
        if data is None:
            data = self._rendered.get(event.id) or vevent_bytes(self.registry, event, stamp)
        if digest is not None:
            self._by_content[key] = data
        self._events[event.id] = data
        return data


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
    cal.add("url", absolute(settings))
    cal.add("source", source, parameters={"VALUE": "URI"})
    return cal


@functools.cache
def _vtimezone_bytes(name: str, first: int, last: int) -> bytes:
    return serialize(vtimezone(name, first, last))


def vevent_bytes(registry: Registry, event: Event, stamp: Stamp) -> bytes:
    """Return the event's VEVENT, its properties in icalendar's canonical order.

    Written line by line rather than through icalendar's Component, which spends
    most of a build's time on per-property objects; values that need a codec
    (RRULE) still come from icalendar, text is escaped by `escape_text`, every
    line folded by `fold`. Tests parse the result with icalendar and vobject.
    """
    settings = registry.calendar
    page = absolute(settings, event_page_path(event.id))
    lines: list[tuple[str, str]] = []  # (name with parameters, value as written)
    add = lines.append
    title = event.title
    if event.status == "cancelled":
        title = _(settings.language, "Cancelled: ") + title
    fallback = event.fallback
    add(("SUMMARY" + _marked(settings, "title", fallback), escape_text(title)))
    if event.all_day:
        last = event.end if event.end is not None else event.start
        add(("DTSTART;VALUE=DATE", f"{event.start:%Y%m%d}"))
        add(("DTEND;VALUE=DATE", f"{last + dt.timedelta(days=1):%Y%m%d}"))
    else:
        add(_timed("DTSTART", event, [event.start]))  # type: ignore[list-item]
        if event.end is not None:
            add(_timed("DTEND", event, [event.end]))  # type: ignore[list-item]
    add(("DTSTAMP", _utc(stamp.last_modified)))
    add(("UID", uid(settings, event.id)))
    add(("SEQUENCE", str(stamp.sequence)))
    if event.repeat:
        add(("RRULE", vRecur.from_ical(event.repeat).to_ical().decode()))
        if event.exceptions:
            if event.all_day:
                add(("EXDATE;VALUE=DATE", ",".join(f"{d:%Y%m%d}" for d in event.exceptions)))
            else:
                add(_timed("EXDATE", event, [_exdate(event, d) for d in event.exceptions]))
    if event.topics:
        titles = ",".join(escape_text(registry.topic_title(t)) for t in event.topics)
        add(("CATEGORIES" + _categories_language(registry, event), titles))
    contact = event.contact or settings.contact
    if contact is not None and contact.display():
        add(("CONTACT", escape_text(contact.display())))
    add(("CREATED", _utc(stamp.created)))
    text_field = "description" if event.description else "summary"
    marked = _marked(settings, text_field, fallback)
    add(("DESCRIPTION" + marked, escape_text(_plain_description(registry, event, page))))
    add(("LAST-MODIFIED", _utc(stamp.last_modified)))
    if event.location:
        add(("LOCATION" + _marked(settings, "location", fallback), escape_text(event.location)))
    add(("STATUS", event.status.upper()))
    if event.all_day:
        add(("TRANSP", "TRANSPARENT"))
    add(("URL;VALUE=URI", page))
    html = _html_description(event, page, settings.default_language if marked else None)
    add(("X-ALT-DESC;FMTTYPE=text/html", escape_text(html)))
    body = [b"BEGIN:VEVENT"]
    for name, value in lines:
        data = f"{name}:{value}".encode()
        body.append(data if len(data) <= 75 else fold_bytes(data))  # most lines are short
    body.append(b"END:VEVENT\r\n")
    return b"\r\n".join(body)


def _timed(name: str, event: Event, values: list[dt.datetime]) -> tuple[str, str]:
    """Return a date-time property: with TZID in its zone, or in UTC with `Z`."""
    if is_fixed(event.timezone):
        return name, ",".join(_utc(v) for v in values)
    tz = zone(event.timezone)
    return f"{name};TZID={event.timezone}", ",".join(
        f"{v.astimezone(tz):%Y%m%dT%H%M%S}" for v in values
    )


@functools.lru_cache(maxsize=4096)
def _utc(value: dt.datetime) -> str:
    # Three stamps an event, mostly the same instants (a ledger's first build).
    return f"{value.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"


def _exdate(event: Event, day: dt.date) -> dt.datetime:
    # EXDATE takes DTSTART's value type and zone, at the occurrence's own wall time.
    assert isinstance(event.start, dt.datetime)
    return dt.datetime.combine(day, event.start.timetz())


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


def _html_description(event: Event, page: str, fallback: str | None = None) -> str:
    from markupsafe import escape

    body = to_html(event.description) if event.description else ""
    if not body and event.summary:
        body = f"<p>{escape(event.summary)}</p>"
    if body and fallback:
        body = f'<div lang="{fallback}">{body}</div>'
    link = f'<p><a href="{escape(page)}">{escape(page)}</a></p>'
    return f"<html><body>{body}{link}</body></html>"


def _marked(settings: Calendar, field: str, fallback: frozenset[str]) -> str:
    """Return `;LANGUAGE=<default>` for a text shown untranslated, else nothing."""
    return f";LANGUAGE={settings.default_language}" if field in fallback else ""


def _language(settings: Calendar, field: str, fallback: frozenset[str]) -> dict[str, str]:
    """Return the LANGUAGE parameter of a calendar property shown untranslated, if it is."""
    return {"LANGUAGE": settings.default_language} if field in fallback else {}


def _categories_language(registry: Registry, event: Event) -> str:
    """Return `;LANGUAGE=<default>` when every topic title shows untranslated."""
    settings = registry.calendar
    topics = [registry.topic(t) for t in event.topics]
    if all(t is not None and topic_fallback(t, settings) for t in topics):
        return f";LANGUAGE={settings.default_language}"
    return ""


def _timedelta(seconds: int) -> dt.timedelta:
    return dt.timedelta(seconds=seconds)
