"""What is published at a moment: drafts never, scheduled events from their instant on.

Pure: `now` is passed in. The publication is made from `published(registry,
now)`; `next_change` is the next instant at which that set changes, so the
service can publish again then by itself (a timer, not a request).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from .ledger import Ledger
from .model import Event, Registry


def published(registry: Registry, now: dt.datetime, ledger: Ledger | None = None) -> Registry:
    """Return `registry` without drafts and events scheduled after `now` (itself if none).

    An event the `ledger` shows subscribers already have stays published: a
    `publish_at` written on it later does not take it back (that would be a
    deletion for subscribers, and its id could never come back).
    """
    seen = ledger.entries if ledger is not None else {}

    def shown_now(event: Event) -> bool:
        if is_published(event, now):
            return True
        entry = seen.get(event.id)
        return not event.draft and entry is not None and entry.deleted is None

    shown = tuple(e for e in registry.events if shown_now(e))
    if len(shown) == len(registry.events):
        return registry
    return dataclasses.replace(registry, events=shown)


def is_published(event: Event, now: dt.datetime) -> bool:
    """Return whether subscribers see `event` at `now`."""
    return not event.draft and (event.publish_at is None or event.publish_at <= now)


def next_change(registry: Registry, now: dt.datetime) -> dt.datetime | None:
    """Return the next instant after `now` at which a scheduled event appears, if any."""
    later = [
        e.publish_at
        for e in registry.events
        if not e.draft and e.publish_at is not None and e.publish_at > now
    ]
    return min(later, default=None)
