"""Expand events into dated occurrences for pages: repeats, exceptions, multi-day spans."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from .model import Event
from .recurrence import parse_rule
from .zones import zone

DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Occurrence:
    """One time an event takes place; timed values are in the calendar's zone."""

    event: Event
    start: dt.date | dt.datetime
    end: dt.date | dt.datetime | None
    first_day: dt.date
    last_day: dt.date

    def covers(self, day: dt.date) -> bool:
        """Return whether the occurrence takes place (at least partly) on `day`."""
        return self.first_day <= day <= self.last_day

    @property
    def sort_key(self) -> tuple[object, ...]:
        """Order within a day: all-day first, then by start time, then title."""
        time = self.start.time() if isinstance(self.start, dt.datetime) else dt.time.min
        return (isinstance(self.start, dt.datetime), time, self.event.title, self.event.id)


def occurrences(
    event: Event, first: dt.date, last: dt.date, calendar_zone: str
) -> list[Occurrence]:
    """Return the event's occurrences that cover any day from `first` to `last`."""
    length = (event.end - event.start) if event.end is not None else dt.timedelta(0)
    if event.repeat is None:
        starts: list[dt.date | dt.datetime] = [event.start]
    else:
        rule = parse_rule(event)
        if isinstance(rule, str):  # pragma: no cover - validation refuses such rules
            return []
        # The window, clamped to the dates Python has (a page of year 1 or 9998 has one).
        low = dt.datetime.combine(_moved(first, -(abs(length) + DAY)), dt.time())
        high = dt.datetime.combine(_moved(last, 2 * DAY), dt.time())
        if isinstance(event.start, dt.datetime):
            low, high = (
                low.replace(tzinfo=event.start.tzinfo),
                high.replace(tzinfo=event.start.tzinfo),
            )
        found = rule.between(low, high, inc=True)
        if isinstance(event.start, dt.datetime):
            starts = [s for s in found if s.date() not in event.exceptions]
        else:
            starts = [s.date() for s in found if s.date() not in event.exceptions]
    result = []
    tz = zone(calendar_zone)
    for start in starts:
        end = start + length if event.end is not None else None
        if isinstance(start, dt.datetime):
            local_start = start.astimezone(tz)
            local_end = end.astimezone(tz) if isinstance(end, dt.datetime) else None
            first_day = local_start.date()
            last_day = first_day
            if local_end is not None and local_end > local_start:
                last_day = (local_end - dt.timedelta(microseconds=1)).date()
            occurrence = Occurrence(event, local_start, local_end, first_day, last_day)
        else:
            last_day = end if isinstance(end, dt.date) else start
            occurrence = Occurrence(event, start, end, start, last_day)
        if occurrence.first_day <= last and occurrence.last_day >= first:
            result.append(occurrence)
    return result


def _moved(day: dt.date, delta: dt.timedelta) -> dt.date:
    """Return `day` moved by `delta`, or the first or last date there is."""
    try:
        return day + delta
    except OverflowError:
        return dt.date.min if delta < dt.timedelta(0) else dt.date.max


def by_day(
    events: Iterable[Event], first: dt.date, last: dt.date, calendar_zone: str
) -> dict[dt.date, list[Occurrence]]:
    """Return, for each day from `first` to `last`, the occurrences on it in display order."""
    days: dict[dt.date, list[Occurrence]] = {}
    day = first
    while day <= last:
        days[day] = []
        day += DAY
    for event in events:
        for occurrence in occurrences(event, first, last, calendar_zone):
            day = max(occurrence.first_day, first)
            while day <= min(occurrence.last_day, last):
                days[day].append(occurrence)
                day += DAY
    for found in days.values():
        found.sort(key=lambda o: o.sort_key)
    return days


def upcoming(event: Event, today: dt.date, calendar_zone: str, count: int = 5) -> list[Occurrence]:
    """Return the next `count` occurrences of `event` from `today` on (within ten years)."""
    found = occurrences(event, today, today + dt.timedelta(days=3653), calendar_zone)
    return sorted(found, key=lambda o: (o.first_day, o.sort_key))[:count]
