"""How an event reads to a person: its date, time and place in a language."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from babel.dates import format_date

from .i18n import _, date_range, locale, time_range
from .model import Event, Registry
from .zones import zone


def when(event: Event, language: str, calendar_zone: str) -> str:
    """Return '2018. gada 25.–26. septembris' or '2022. gada 12. janvāris, 10:00–12:30 (zone)'."""
    if not isinstance(event.start, dt.datetime):
        last = event.end if isinstance(event.end, dt.date) else event.start
        return date_range(event.start, last, language)
    # A fixed-instant event has no zone of its own: readers see it in the calendar's.
    tz = zone(calendar_zone if event.fixed else event.timezone)
    start = event.start.astimezone(tz)
    end = event.end.astimezone(tz) if isinstance(event.end, dt.datetime) else None
    loc = locale(language)
    if end is None or end.date() == start.date():
        text = f"{format_date(start, 'long', locale=loc)}, {time_range(start, end, language)}"
    else:
        first = f"{format_date(start, 'long', locale=loc)}, {time_range(start, None, language)}"
        finish = f"{format_date(end, 'long', locale=loc)}, {time_range(end, None, language)}"
        text = f"{first} – {finish}"
    if event.timezone != calendar_zone and not event.fixed:
        text += f" ({event.timezone})"
    return text


def publication_title(registry: Registry, topics: Sequence[str]) -> str:
    """Return a calendar's or feed's title: the calendar's, with the chosen topics after it."""
    title = registry.calendar.title
    if not topics:
        return title
    names = ", ".join(registry.topic_title(t) for t in topics)
    return _(registry.calendar.language, "{title}: {topics}").format(title=title, topics=names)
