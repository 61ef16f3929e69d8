"""The editor's list of events: search, topic and period filters. Pure: no request here.

"Upcoming" is `query.last_day`'s notion, the one the published pages use: an
event is upcoming while its last occurrence has not ended (a repeating event
until its rule's last date; forever only when the rule has no end). Only an
event the registry could not read is judged by the dates as written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..model import Registry
from ..query import last_day
from .yamltext import Document, Item


@dataclass(frozen=True)
class Row:
    """One event as the list shows it."""

    id: str
    title: str  # in the registry's default language
    start: str  # as written
    topics: tuple[str, ...]  # ids
    cancelled: bool
    repeats: bool
    shared: str  # why it cannot be edited here ("" when it can)
    draft: bool = False  # `draft: true`: in the editor only
    publish_at: str = ""  # as written ("" when published at once)


@dataclass(frozen=True)
class Filters:
    """What the editor asked for: a text in any title, a topic, upcoming/past/all."""

    query: str = ""
    topic: str = ""
    period: str = "upcoming"


def rows(
    document: Document,
    registry: Registry | None,
    filters: Filters,
    today: dt.date,
    languages: tuple[str, ...],
) -> list[Row]:
    """Return the events that pass `filters`, by start then id."""
    found = []
    for item in document.items:
        row, titles = _row(document, item, languages)
        needle = filters.query.casefold()
        if needle and not any(needle in title.casefold() for title in titles):
            continue
        if filters.topic and filters.topic not in row.topics:
            continue
        upcoming = _upcoming(document, item, registry, today)
        if (filters.period == "upcoming" and not upcoming) or (
            filters.period == "past" and upcoming
        ):
            continue
        found.append(row)
    found.sort(key=lambda r: (r.start.replace("T", " "), r.id))
    return found


def _row(document: Document, item: Item, languages: tuple[str, ...]) -> tuple[Row, list[str]]:
    values = document.values(item)
    written = values.get("title")
    title = default_text(written, languages)
    topics = values.get("topics")
    ids = topics if isinstance(topics, list) else [topics] if isinstance(topics, str) else []
    row = Row(
        id=item.id,
        title=title,
        start=text_of(values.get("start")),
        topics=tuple(ids),
        cancelled=values.get("status") == "cancelled",
        repeats=bool(values.get("repeat")),
        shared=item.shared,
        draft=text_of(values.get("draft")).strip() == "true",
        publish_at=text_of(values.get("publish_at")),
    )
    return row, list(written.values()) if isinstance(written, dict) else [title]


def _upcoming(document: Document, item: Item, registry: Registry | None, today: dt.date) -> bool:
    event = registry.event(item.id) if registry is not None else None
    if event is not None:
        last = last_day(event)
        return last is None or last >= today
    values = document.values(item)  # not readable as an event: the dates as written
    start = text_of(values.get("start"))
    last_written = text_of(values.get("end")) or start
    return last_written[:10] >= today.isoformat() or bool(values.get("repeat"))


def default_text(value: object, languages: tuple[str, ...]) -> str:
    """Return a text field in the default language (a person's name for the event)."""
    if isinstance(value, dict):
        found = value.get(languages[0]) or next(iter(value.values()), "")
        return found if isinstance(found, str) else ""
    return text_of(value)


def text_of(value: object) -> str:
    """Return a field's value if it is text, else ""."""
    return value if isinstance(value, str) else ""
