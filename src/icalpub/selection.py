"""Which events a calendar holds, in order, and the years its zones span.

Facts found once per Event object (its order key, zone span, last day), a
calendar's selection (its rows and VEVENTs) and the counts of its zones'
years, which let `ical.Writer` patch a calendar after an edit instead of
selecting and sorting every event again.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from .ledger import Stamp
from .model import Event, Registry
from .recurrence import until_year
from .zones import is_fixed


def zone_years(
    events: Iterable[Event], known: dict[str, tuple[str, int, int] | None] | None = None
) -> dict[str, tuple[int, int]]:
    """Return the years each zone's VTIMEZONE must cover; `known` keeps each event's span
    by id (a writer asks for an event in several calendars and its own file)."""
    years: dict[str, tuple[int, int]] = {}
    known = {} if known is None else known
    for event in events:
        if event.id not in known:
            known[event.id] = zone_span(event)
        span = known[event.id]
        if span is None:
            continue
        name, low, high = span
        first, last = years.get(name, (low, high))
        years[name] = (min(first, low), max(last, high))
    return years


def zone_span(event: Event) -> tuple[str, int, int] | None:
    """Return the zone whose VTIMEZONE `event` needs and the years it must cover, if any."""
    if event.all_day or is_fixed(event.timezone):
        return None
    found = [event.first_day.year]
    if event.end is not None:
        found.append(event.end.year)
    found.extend(day.year for day in event.exceptions)
    until = until_year(event)
    if until is not None:
        found.append(until)
    return event.timezone, min(found), max(found)


class Facts:
    """What orders and selects one event in a calendar: found once per Event object."""

    __slots__ = ("event", "has_last", "key", "last", "span")

    def __init__(self, event: Event, key: tuple[float, str], span: tuple[str, int, int] | None):
        self.event = event
        self.key = key
        self.span = span
        self.last: dt.date | None = None  # query.last_day, found when keep_past asks
        self.has_last = False


@dataclass
class Selection:
    """One calendar's events in order with their VEVENTs, and its zones' years."""

    rows: list[tuple[tuple[float, str], Event]]
    years: dict[str, tuple[int, int]]
    cutoff: dt.date | None
    parts: list[bytes]
    spans: Spans | None = None  # counted when first patched


class Spans:
    """How many events of a calendar start and end their zone's span in each year."""

    def __init__(self, earlier: Spans | None = None) -> None:
        self.lows: dict[str, Counter[int]] = {}
        self.highs: dict[str, Counter[int]] = {}
        if earlier is not None:
            self.lows = {name: Counter(found) for name, found in earlier.lows.items()}
            self.highs = {name: Counter(found) for name, found in earlier.highs.items()}

    @classmethod
    def of(cls, events: Iterable[Event]) -> Spans:
        """Return the counts of `events`."""
        spans = cls()
        for event in events:
            spans.count(zone_span(event), 1)
        return spans

    def count(self, span: tuple[str, int, int] | None, step: int) -> None:
        """Count an event's span in (`step` 1) or out (-1)."""
        if span is not None:
            name, first, last = span
            self.lows.setdefault(name, Counter())[first] += step
            self.highs.setdefault(name, Counter())[last] += step

    def years(self) -> dict[str, tuple[int, int]]:
        """Return each zone's first and last year, as `zone_years` finds them."""
        found = {}
        for name, lows in self.lows.items():
            firsts = [year for year, count in lows.items() if count > 0]
            if firsts:
                lasts = [year for year, count in self.highs[name].items() if count > 0]
                found[name] = (min(firsts), max(lasts))
        return found


def row_key(row: tuple[tuple[float, str], Event]) -> tuple[float, str]:
    return row[0]


Rendered = tuple[Registry, Mapping[str, Stamp], Mapping[str, str]]  # registry, stamps, hashes


def changed_since(
    earlier: Rendered, now: Rendered, fresh: Collection[str] | None = None
) -> set[str]:
    """Return the ids of events new, edited, given another stamp or removed since `earlier`.

    With the reconcile's `fresh` ids (outcomes it made anew rather than took
    from the one `earlier` was rendered with), only those can have another
    stamp or hash for the very same event object: the rest is one pass of
    identity checks.
    """
    (old_registry, stamps, hashes), (registry, own_stamps, own_hashes) = earlier, now
    own, old = registry.events, old_registry.events
    changed: set[str] = set()
    checked: Iterable[str]
    if fresh is not None and len(own) == len(old):
        for event, was in zip(own, old, strict=True):
            if event is not was:
                changed.update((event.id, was.id))
        checked = fresh
    else:
        earlier_events, ids = old_registry.by_id, registry.by_id
        changed.update(e.id for e in own if earlier_events.get(e.id) is not e)
        changed.update(e.id for e in old if e.id not in ids)
        checked = ids
    for event_id in checked:
        stamp, was_stamp = own_stamps.get(event_id), stamps.get(event_id)
        if (was_stamp is not stamp and was_stamp != stamp) or hashes.get(
            event_id
        ) != own_hashes.get(event_id):
            changed.add(event_id)
    return changed
