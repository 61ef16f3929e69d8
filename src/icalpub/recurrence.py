"""Repeat rules: an event's RRULE parsed once, in local wall time, with its UNTIL checks.

The reader validates with it; the pages' occurrences, the keep_past window and
the calendars' zone years read the same parse, never the reader's internals.
"""

from __future__ import annotations

import datetime as dt
import re

from dateutil import rrule

from .model import Event

UNTIL = re.compile(r"UNTIL=([0-9TZ]+)")
INTERVAL = re.compile(r"(?:^|;)\s*INTERVAL\s*=\s*([^;]*)")
MAX_INTERVAL = 10_000  # dateutil loops for ever on 0 and fails on negatives
NTH_DAY = re.compile(r"([+-]?\d+)(?:MO|TU|WE|TH|FR|SA|SU)")
MONTHLY = re.compile(r"(?:^|;)\s*FREQ\s*=\s*MONTHLY\b")
DAY_PARTS = re.compile(r"(?:^|;)\s*BY(?:DAY|MONTHDAY|YEARDAY|WEEKNO)\s*=")


def parse_rule(event: Event) -> rrule.rrule | str:
    """Return the event's RRULE expanded in local wall time, or why it is invalid."""
    from icalendar.prop import vRecur

    text = (event.repeat or "").strip()
    if text.upper().startswith("RRULE:"):
        return "write the rule without 'RRULE:'"
    start = event.start
    first = start if isinstance(start, dt.datetime) else dt.datetime.combine(start, dt.time())
    until = UNTIL.search(text.upper())
    if until:
        value = until.group(1)
        if isinstance(start, dt.datetime) and not value.endswith("Z"):
            return "UNTIL of a timed event must be in UTC, e.g. UNTIL=20220630T235959Z"
        if not isinstance(start, dt.datetime) and "T" in value:
            return "UNTIL of an all-day event must be a date, e.g. UNTIL=20220630"
    interval = INTERVAL.search(text.upper())
    if interval and not (
        interval.group(1).strip().isdigit()
        and 1 <= int(interval.group(1).strip()[:6]) <= MAX_INTERVAL
    ):
        return f"INTERVAL must be a whole number from 1 to {MAX_INTERVAL}"
    byday = re.search(r"(?:^|;)\s*BYDAY\s*=\s*([^;]*)", text.upper())
    most = 5 if "FREQ=MONTHLY" in text.upper().replace(" ", "") else 53
    if byday and any(not 1 <= abs(int(n[:4])) <= most for n in NTH_DAY.findall(byday.group(1))):
        return f"BYDAY counts weekdays from 1 to {most} (or -1 to -{most}), e.g. 3TH or -1FR"
    try:
        vRecur.from_ical(text)
        rule = rrule.rrulestr(text, dtstart=first, forceset=False)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        return str(exc) or exc.__class__.__name__
    if not isinstance(rule, rrule.rrule):  # pragma: no cover - forceset=False
        return "only one rule is allowed"
    if _never(rule, text.upper(), first):
        return "no date matches all its BY parts (like BYMONTH=2;BYMONTHDAY=30: 30 February)"
    return rule


def _never(rule: rrule.rrule, text: str, first: dt.datetime) -> bool:
    """Return whether a rule matches no day at all.

    dateutil would look for its next date step by step up to the year 9999 —
    seconds for every question a page or a calendar asks of a daily rule. The
    same BY parts stepping by years find a day, or run out, many times sooner.
    """
    if MONTHLY.search(text) and NTH_DAY.search(text):
        return False  # "2WE" of a month is not "2WE" of a year: stepping by months is quick

    yearly = rule.replace(freq=rrule.YEARLY, interval=1, count=None, until=None, bysetpos=None)
    if not DAY_PARTS.search(text):  # every day, not the start's anniversary
        yearly = yearly.replace(
            byweekday=(rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA, rrule.SU)
        )
    return yearly.after(first, inc=True) is None


def occurs_on(rule: rrule.rrule, event: Event, day: dt.date) -> bool:
    """Return whether the repeating `event` has an occurrence on local date `day`."""
    midnight = dt.datetime.combine(day, dt.time())
    if isinstance(event.start, dt.datetime):
        midnight = midnight.replace(tzinfo=event.start.tzinfo)
    hits = rule.between(midnight, midnight + dt.timedelta(days=1), inc=True)
    return any(hit.date() == day for hit in hits)


def until_year(event: Event) -> int | None:
    """Return the year of the event's UNTIL, if its rule has one."""
    found = UNTIL.search((event.repeat or "").upper())
    return int(found.group(1)[:4]) if found else None
