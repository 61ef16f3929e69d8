"""The registry as frozen values: Calendar, Topic, Event; no I/O here."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Status = Literal["confirmed", "tentative", "cancelled"]
When = dt.date | dt.datetime
# Texts in the languages after the default: (language, field, text).
Translations = tuple[tuple[str, str, str], ...]
EVENT_TEXTS = ("title", "summary", "description", "location")  # fields that take a language
CALENDAR_TEXTS = ("title", "description")


@dataclass(frozen=True)
class Contact:
    """Who answers questions about an event or the calendar."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None

    def display(self) -> str:
        """Return 'name, phone, email' with the empty parts left out."""
        return ", ".join(part for part in (self.name, self.phone, self.email) if part)


@dataclass(frozen=True)
class Duration:
    """An ISO 8601 duration kept in calendar parts (months cannot be seconds)."""

    text: str
    years: int = 0
    months: int = 0
    days: int = 0
    seconds: int = 0

    def total_seconds(self) -> int:
        """Return the duration in seconds, a month counted as 30 days, a year as 365."""
        return ((self.years * 365) + (self.months * 30) + self.days) * 86400 + self.seconds


@dataclass(frozen=True)
class Topic:
    """A named group of events, with its title in one or more languages."""

    id: str
    titles: tuple[tuple[str, str], ...]  # (language, title); first is the default
    description: str | None = None
    translations: Translations = ()  # the description in other languages

    def title(self, language: str) -> str:
        """Return the title in `language`, else the first one given."""
        for lang, text in self.titles:
            if lang == language:
                return text
        return self.titles[0][1]

    def has_title(self, language: str) -> bool:
        """Return whether a title is given in `language` itself ("" is the default's)."""
        return any(lang == language for lang, _ in self.titles)


@dataclass(frozen=True)
class Event:
    """One entry of the registry, with its times resolved to dates or aware datetimes."""

    id: str
    title: str
    start: When
    end: When | None
    timezone: str
    topics: tuple[str, ...] = ()
    location: str | None = None
    summary: str | None = None
    description: str | None = None
    url: str | None = None
    contact: Contact | None = None
    published: dt.datetime | None = None
    updated: dt.datetime | None = None
    sequence: int | None = None
    status: Status = "confirmed"
    draft: bool = False  # in the editor only, published nowhere (SPEC §6)
    publish_at: dt.datetime | None = None  # published from this instant on, not before
    repeat: str | None = None
    exceptions: tuple[dt.date, ...] = ()
    fixed: bool = False  # written with offsets and no zone: instants, published in UTC
    line: int = 0
    column: int = 0
    translations: Translations = ()
    fallback: frozenset[str] = frozenset()  # in a language's view: texts left in the default

    def moved(self, lines: int) -> Event:
        """Return this event written `lines` further down the file.

        A copy of its fields (a tenth of `dataclasses.replace`'s cost): an edit
        near the top of a large registry moves every event below it.
        """
        moved = object.__new__(Event)
        moved.__dict__.update(self.__dict__)
        object.__setattr__(moved, "line", self.line + lines)
        return moved

    def translation(self, language: str, name: str) -> str | None:
        """Return the text of field `name` in `language` (not the default), or None."""
        for lang, key, text in self.translations:
            if lang == language and key == name:
                return text
        return None

    @property
    def all_day(self) -> bool:
        """Return whether the event is a date-only (all-day) event."""
        return not isinstance(self.start, dt.datetime)

    @property
    def first_day(self) -> dt.date:
        """Return the local date the event starts on."""
        return self.start.date() if isinstance(self.start, dt.datetime) else self.start

    @property
    def published_at(self) -> dt.datetime:
        """Return when the event was announced: `published`, else its start."""
        if self.published is not None:
            return self.published
        return as_datetime(self.start, self.timezone)

    @property
    def updated_at(self) -> dt.datetime:
        """Return the last edit: `updated`, else `published_at`."""
        return self.updated if self.updated is not None else self.published_at


@dataclass(frozen=True)
class Calendar:
    """The calendar-wide settings of a registry."""

    title: str
    base_url: str
    timezone: str
    description: str | None = None
    language: str = "lv"
    contact: Contact | None = None
    refresh: Duration | None = None
    keep_past: Duration | None = None
    feed_items: int = 50
    languages: tuple[str, ...] = ()  # every language published, the default first; () = language
    translations: Translations = ()
    fallback: frozenset[str] = frozenset()  # in a language's view: texts left in the default

    @property
    def published_languages(self) -> tuple[str, ...]:
        """Return the languages the calendar is published in, the default first."""
        return self.languages or (self.language,)

    @property
    def default_language(self) -> str:
        """Return the language of the plain texts and of today's addresses."""
        return self.published_languages[0]

    @property
    def max_age(self) -> int:
        """Return how many seconds clients may cache: `refresh`, one hour when not set."""
        return int(self.refresh.total_seconds()) if self.refresh is not None else 3600

    @property
    def host(self) -> str:
        """Return the host name of `base_url`, the domain of every UID."""
        from urllib.parse import urlsplit

        return urlsplit(self.base_url).hostname or "localhost"


@dataclass(frozen=True)
class Registry:
    """A whole validated registry: settings, topics and events in file order."""

    calendar: Calendar
    topics: tuple[Topic, ...]
    events: tuple[Event, ...]
    source: str = field(default="events.yaml", compare=False)

    @functools.cached_property
    def by_id(self) -> Mapping[str, Event]:
        """Return the events by id (for loops over another registry's events)."""
        return {event.id: event for event in self.events}

    def event(self, event_id: str) -> Event | None:
        """Return the event with this id, or None."""
        return self.by_id.get(event_id)

    def topic_title(self, topic_id: str) -> str:
        """Return a topic's title in the calendar's language (its id if undeclared)."""
        topic = self.topic(topic_id)
        return topic.title(self.calendar.language) if topic else topic_id

    def topic(self, topic_id: str) -> Topic | None:
        """Return the declared topic with this id, or None."""
        for topic in self.topics:
            if topic.id == topic_id:
                return topic
        return None


def as_datetime(when: When, timezone: str) -> dt.datetime:
    """Return `when` as an aware datetime; a date becomes its midnight in `timezone`."""
    from .zones import zone

    if isinstance(when, dt.datetime):
        return when
    return dt.datetime.combine(when, dt.time(0, 0), tzinfo=zone(timezone))
