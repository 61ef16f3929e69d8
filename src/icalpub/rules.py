"""Rules across an event's fields: what each value alone cannot say is wrong.

Pure: each rule takes a built `Event` and returns the faults it finds, each
naming the field it belongs beside. The reader places them in the file; the
editor shows them beside the form's field.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from .model import Event
from .recurrence import occurs_on, parse_rule


@dataclass(frozen=True)
class Fault:
    """One broken rule: the field it concerns, what is wrong, how to fix it."""

    field: str
    message: str
    hint: str = ""
    severity: Literal["error", "warning"] = "error"


def check(event: Event, what: str) -> list[Fault]:
    """Return every fault of `event` across its fields; `what` names it in messages."""
    faults = times(event, what) + repeat(event, what)
    if event.published and event.updated and event.updated < event.published:
        faults.append(Fault("updated", f"{what} updated is before published", "", "warning"))
    return faults


def times(event: Event, what: str) -> list[Fault]:
    """Return whether start and end are of one kind and in order."""
    if event.end is None:
        return []
    if isinstance(event.start, dt.datetime) != isinstance(event.end, dt.datetime):
        kind = "a date and time" if isinstance(event.start, dt.datetime) else "a date only"
        return [
            Fault(
                "end",
                f"{what} starts with {kind}, so its end must be {kind} too",
                "all-day events use dates for both; timed events use times for both",
            )
        ]
    if event.end < event.start:
        return [
            Fault(
                "end",
                f"{what} ends before it starts",
                "for all-day events 'end' is the last day, inclusive",
            )
        ]
    return []


def repeat(event: Event, what: str) -> list[Fault]:
    """Return whether the repeat rule parses and every `except` date is one of its dates."""
    if event.repeat is None:
        if event.exceptions:
            return [
                Fault(
                    "except",
                    f"{what} has 'except' but no 'repeat'",
                    "'except' skips occurrences of a repeating event",
                )
            ]
        return []
    rule = parse_rule(event)
    if isinstance(rule, str):
        return [
            Fault(
                "repeat",
                f"{what} repeat is not a valid RRULE: {rule}",
                "e.g. FREQ=MONTHLY;BYDAY=2WE;COUNT=6",
            )
        ]
    return [
        Fault(
            "except",
            f"{what} except {day.isoformat()} is not an occurrence of the repeat rule",
            "list only dates the event repeats on",
        )
        for day in event.exceptions
        if not occurs_on(rule, event, day)
    ]
