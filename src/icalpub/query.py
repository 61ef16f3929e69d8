"""Select events: by topic, by the keep_past window, in publication order; "today" is passed in."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping

from .model import Event, Registry
from .recurrence import parse_rule


def by_topics(registry: Registry, topics: Iterable[str] = ()) -> tuple[Event, ...]:
    """Return the events in any of `topics` (the union), or all events when none are given."""
    chosen = set(topics)
    if not chosen:
        return registry.events
    return tuple(e for e in registry.events if chosen.intersection(e.topics))


def last_day(event: Event) -> dt.date | None:
    """Return the local date the event's last occurrence ends, None if it repeats forever."""
    end = event.end if event.end is not None else event.start
    last = end.date() if isinstance(end, dt.datetime) else end
    if event.repeat is None:
        return last
    rule = parse_rule(event)
    if isinstance(rule, str) or not re.search(r"\b(COUNT|UNTIL)=", event.repeat.upper()):
        return None
    occurrences = list(rule)  # bounded: the rule has COUNT or UNTIL
    if not occurrences:
        return last
    return last + (occurrences[-1].date() - event.first_day)


def kept(registry: Registry, events: Iterable[Event], today: dt.date | None) -> tuple[Event, ...]:
    """Return `events` without those that ended longer than `keep_past` before `today`."""
    cutoff = keep_from(registry, today)
    if cutoff is None:
        return tuple(events)
    result = []
    for event in events:
        last = last_day(event)
        if last is None or last >= cutoff:
            result.append(event)
    return tuple(result)


def keep_from(registry: Registry, today: dt.date | None) -> dt.date | None:
    """Return the first day an event's last occurrence may end on and be kept, or None
    when every event is kept (no `keep_past`, or no `today`)."""
    keep_past = registry.calendar.keep_past
    if keep_past is None or today is None:
        return None
    cutoff = _months_before(today, keep_past.years * 12 + keep_past.months)
    return cutoff - dt.timedelta(days=keep_past.days, seconds=keep_past.seconds)


def in_order(events: Iterable[Event]) -> list[Event]:
    """Return events by start (UTC instant for timed events, the day for all-day), then id."""
    return sorted(events, key=order_key)


def order_key(event: Event) -> tuple[float, str]:
    """Return what `in_order` sorts an event by."""
    return (_sort_instant(event), event.id)


def newest_first(events: Iterable[Event], created: Mapping[str, dt.datetime]) -> list[Event]:
    """Return events by when they were published (`created`), newest first, then id.

    The order of every feed: `created` is each event's CREATED from the ledger
    (its `published`, else when it was first seen — never its future start).
    """
    return sorted(events, key=lambda e: (-created[e.id].timestamp(), e.id))


def _sort_instant(event: Event) -> float:
    start = event.start
    if isinstance(start, dt.datetime):
        return start.timestamp()
    return dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC).timestamp()


def _months_before(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    for candidate in range(day.day, 0, -1):
        try:
            return dt.date(year, month, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover
