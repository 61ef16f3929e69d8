"""VTIMEZONE components from the IANA data: yearly RRULEs, not decades of RDATEs.

Outlook mishandles long RDATE lists (what icalendar's `add_missing_timezones`
writes); clients expect one STANDARD and one DAYLIGHT component with a yearly
rule, as Outlook and Google write themselves. This module finds the zone's
transitions in the years the events need, groups the years in which a
transition follows the same rule ("last Sunday of March at 03:00"), and writes
each group as one observance with an RRULE; a rule that holds in the last year
needed is left open-ended so that repeating events stay right after it.
"""

from __future__ import annotations

import calendar as monthcal
import datetime as dt
import functools
from dataclasses import dataclass

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard, vRecur

from .zones import zone

_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_SCAN_STEP = dt.timedelta(hours=12)


@dataclass(frozen=True)
class Transition:
    """One change of a zone's offset, DST flag or abbreviation."""

    utc: dt.datetime
    before: dt.timedelta
    after: dt.timedelta
    dst: bool
    name: str

    @property
    def local(self) -> dt.datetime:
        """Return the wall-clock time of the change, read before it (RFC 5545 DTSTART)."""
        return (self.utc + self.before).replace(tzinfo=None)

    @property
    def rule(self) -> tuple[object, ...]:
        """Return what must be equal for two years' transitions to share one RRULE."""
        local = self.local
        days_in_month = monthcal.monthrange(local.year, local.month)[1]
        nth = -1 if local.day + 7 > days_in_month else (local.day - 1) // 7 + 1
        return (
            local.month,
            nth,
            local.weekday(),
            local.time(),
            self.before,
            self.after,
            self.dst,
            self.name,
        )


def vtimezone(name: str, first_year: int, last_year: int) -> Timezone:
    """Return a VTIMEZONE for zone `name` that is right from `first_year` to `last_year`."""
    component = Timezone()
    component.add("tzid", name)
    found = transitions(name, first_year - 1, last_year)
    scan_start = dt.datetime(first_year - 1, 1, 1, tzinfo=dt.UTC)
    if not found or found[0].utc.year > first_year - 1:
        # No change before the first year: one observance from the scan start.
        state = _state(name, scan_start)
        base = Transition(scan_start, state[0], state[0], state[1], state[2])
        component.add_component(_observance(base, None, open_ended=False, single=True))
    for kind in (False, True):  # STANDARD first, then DAYLIGHT
        groups = _groups([t for t in found if t.dst is kind])
        for group in groups:
            open_ended = group[-1].utc.year == last_year
            component.add_component(
                _observance(group[0], group[-1], open_ended, single=len(group) == 1)
            )
    return component


@functools.cache
def transitions(name: str, first_year: int, last_year: int) -> tuple[Transition, ...]:
    """Return every transition of zone `name` from `first_year` to the end of `last_year`.

    The zone is scanned in steps of 12 hours from the first instant, each change
    found then pinned to the second; the scan goes on from it. One build asks for
    many year spans of the same zone (every calendar and event file has its own),
    whose scans meet at the first transition they find: each piece of scan is
    made once (`_next_transition`) and shared.
    """
    moment = dt.datetime(first_year, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(last_year + 1, 1, 1, tzinfo=dt.UTC)
    found: list[Transition] = []
    while (transition := _next_transition(name, moment, end)) is not None:
        found.append(transition)
        moment = transition.utc
    return tuple(found)


# (zone, scan start) → (the transition found, in the step starting at the instant),
# or (None, the instant the scan stopped at having found none).
_scanned: dict[tuple[str, dt.datetime], tuple[Transition | None, dt.datetime]] = {}


def _next_transition(name: str, moment: dt.datetime, end: dt.datetime) -> Transition | None:
    """Return the first change the scan from `moment` finds in a step starting before `end`."""
    key = (name, moment)
    state = _state(name, moment)
    start = moment
    if key in _scanned:
        transition, at = _scanned[key]
        if transition is not None:
            return transition if at < end else None
        if end <= at:
            return None
        start = at  # nothing changed up to there: go on scanning
    while start < end:
        following = start + _SCAN_STEP
        next_state = _state(name, following)
        if next_state != state:
            low, high = start, following  # state(low) == state, state(high) != state
            while high - low > dt.timedelta(seconds=1):
                middle = low + (high - low) / 2
                middle = middle.replace(microsecond=0)
                if _state(name, middle) == state:
                    low = middle
                else:
                    high = middle
            after = _state(name, high)
            transition = Transition(high, state[0], after[0], after[1], after[2])
            _scanned[key] = (transition, start)
            return transition
        start = following
    _scanned[key] = (None, start)
    return None


def _state(name: str, moment: dt.datetime) -> tuple[dt.timedelta, bool, str]:
    local = moment.astimezone(zone(name))
    return (local.utcoffset() or dt.timedelta(), bool(local.dst()), local.tzname() or "")


def _groups(found: list[Transition]) -> list[list[Transition]]:
    groups: list[list[Transition]] = []
    for transition in found:
        if groups:
            last = groups[-1][-1]
            if last.rule == transition.rule and transition.utc.year == last.utc.year + 1:
                groups[-1].append(transition)
                continue
        groups.append([transition])
    return groups


def _observance(
    first: Transition, last: Transition | None, open_ended: bool, single: bool
) -> TimezoneStandard | TimezoneDaylight:
    observance = TimezoneDaylight() if first.dst else TimezoneStandard()
    observance.add("dtstart", first.local)
    observance.add("tzoffsetfrom", first.before)
    observance.add("tzoffsetto", first.after)
    if first.name:
        observance.add("tzname", first.name)
    if open_ended or not single:
        local = first.local
        nth = first.rule[1]
        weekday = _WEEKDAYS[local.weekday()]
        rule = {"FREQ": "YEARLY", "BYMONTH": [local.month], "BYDAY": [f"{nth}{weekday}"]}
        if not open_ended and last is not None:
            rule["UNTIL"] = [last.utc.replace(tzinfo=dt.UTC)]
        observance.add("rrule", vRecur(rule))
    return observance
