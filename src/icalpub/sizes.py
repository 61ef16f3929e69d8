"""Calendars larger than clients accept, found without rendering the feeds (`validate`)."""

from __future__ import annotations

import datetime as dt

from . import ical
from .errors import Problem
from .ledger import Ledger, reconcile
from .model import Registry
from .urls import feed_path

GOOGLE_LIMIT = 1_000_000  # Google Calendar silently drops events beyond about 1 MB


def size_warnings(registry: Registry, ledger: Ledger, today: dt.date | None) -> list[Problem]:
    """Return a warning for each calendar larger than Google Calendar accepts."""
    stamps = reconcile(registry, ledger, dt.datetime(1970, 1, 1, tzinfo=dt.UTC)).stamps
    writer = ical.Writer(registry, stamps, today)
    warnings = []
    for topics in [[], *([t.id] for t in registry.topics)]:
        size = len(writer.calendar(topics))
        if size > GOOGLE_LIMIT:
            warnings.append(
                Problem(
                    registry.source,
                    1,
                    1,
                    f"{feed_path('ics', topics)} would be {size / 1e6:.1f} MB; Google Calendar "
                    "silently drops events beyond about 1 MB",
                    "set calendar.keep_past (e.g. P24M) or shorten descriptions",
                    severity="warning",
                )
            )
    return warnings
