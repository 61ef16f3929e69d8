"""Lists of occurrences for the agenda, the archive and the widget: search, dates, pages.

Pure: "today" and the registry are passed in. Search reads every language of
an event (its default texts and all their translations) with case and
accents folded, so `macibas` finds "Mācības" and `riga` finds "Rīga".
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .model import EVENT_TEXTS, Event, Registry
from .occurrences import Occurrence, occurrences
from .query import by_topics
from .values import FIRST_YEAR, LAST_YEAR

HORIZON = dt.timedelta(days=366)  # how far ahead the agenda lists when no `to` is given
PAGE_SIZE = 20
# The dates a list may ask for: those an event may have (values.FIRST_YEAR..LAST_YEAR).
EARLIEST, LATEST = dt.date(FIRST_YEAR, 1, 1), dt.date(LAST_YEAR, 12, 31)


def fold(text: str) -> str:
    """Return `text` case-folded without accents: 'Mācības' → 'macibas'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def searchable(event: Event) -> str:
    """Return every text of `event` a search reads, in every language, folded."""
    texts = [getattr(event, name) or "" for name in EVENT_TEXTS]
    texts += [text for _, name, text in event.translations if name in EVENT_TEXTS]
    return fold("\n".join(texts))


def matches(event: Event, query: str) -> bool:
    """Return whether every word of `query` occurs in some text of `event`."""
    haystack = searchable(event)
    return all(word in haystack for word in fold(query).split())


@dataclass(frozen=True)
class Page:
    """One page of a list of occurrences."""

    items: tuple[Occurrence, ...]
    number: int  # from 1
    count: int  # pages in all (at least 1)
    total: int  # occurrences in all


def select(
    registry: Registry,
    first: dt.date,
    last: dt.date,
    topics: Iterable[str] = (),
    query: str = "",
) -> list[Occurrence]:
    """Return the occurrences from `first` to `last` of the events matching, in date order.

    `topics` is a union (none: every topic); `query` must match every word.
    An occurrence that started before `first` and is still going on is kept.
    """
    zone = registry.calendar.timezone
    found: list[Occurrence] = []
    for event in by_topics(registry, topics):
        if query.strip() and not matches(event, query):
            continue
        found.extend(occurrences(event, first, last, zone))
    found.sort(key=lambda o: (o.first_day, o.sort_key))
    return found


def upcoming(
    registry: Registry,
    today: dt.date,
    topics: Iterable[str] = (),
    query: str = "",
    first: dt.date | None = None,
    last: dt.date | None = None,
) -> list[Occurrence]:
    """Return what happens from `today` (or the later `first`) to `last` (a year by default)."""
    start = max(today, first) if first is not None else today
    end = last if last is not None else start + min(HORIZON, LATEST - start)
    return select(registry, start, end, topics, query) if start <= end else []


def past(registry: Registry, year: int, today: dt.date) -> list[Occurrence]:
    """Return `year`'s occurrences that ended before `today`, in date order."""
    if not EARLIEST.year <= year <= LATEST.year:
        return []
    first, last = dt.date(year, 1, 1), min(dt.date(year, 12, 31), today - dt.timedelta(days=1))
    if last < first:
        return []
    return [o for o in select(registry, first, last) if o.last_day < today]


def archive_years(registry: Registry, today: dt.date) -> list[int]:
    """Return the years that have past occurrences, oldest first."""
    if not registry.events:
        return []
    oldest = max(EARLIEST.year, min(event.first_day.year for event in registry.events))
    return [year for year in range(oldest, today.year + 1) if past(registry, year, today)]


def paginate(items: Sequence[Occurrence], number: int, size: int = PAGE_SIZE) -> Page | None:
    """Return page `number` (from 1) of `items`, or None when there is no such page."""
    count = max(1, math.ceil(len(items) / size))
    if not 1 <= number <= count:
        return None
    chosen = tuple(items[(number - 1) * size : number * size])
    return Page(chosen, number, count, len(items))
