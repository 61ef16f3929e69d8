"""Render a large registry's VEVENTs on every core, for `icalpub build` (never the service).

Rendering is pure Python, so threads would take turns; a forked child
process inherits the registry without copying or pickling it, renders its
share and sends back bytes. The parent renders its own share meanwhile. Only
where fork is safe and cheap (Linux), only before the build starts any
thread, and only when there are enough events to pay for a process.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Mapping

from .ical import vevent_bytes
from .ledger import Stamp
from .model import Event, Registry

MINIMUM = 2_000  # events below which one process is faster
_job: tuple[Registry, Mapping[str, Stamp]] | None = None  # what a forked child renders


def vevents(registry: Registry, stamps: Mapping[str, Stamp]) -> dict[str, bytes]:
    """Return every event's VEVENT bytes by event id: the same bytes `vevent_bytes` gives."""
    events = registry.events
    cores = min(os.cpu_count() or 1, 8)
    if cores < 2 or len(events) < MINIMUM or sys.platform != "linux":
        return {}  # the writer renders them as it goes
    global _job
    _job = (registry, stamps)
    try:
        with multiprocessing.get_context("fork").Pool(cores - 1) as pool:
            shares = [pool.apply_async(_render, (share, cores)) for share in range(1, cores)]
            rendered = dict(zip(_ids(events, 0, cores), _render(0, cores), strict=True))
            for share, result in enumerate(shares, start=1):
                rendered.update(zip(_ids(events, share, cores), result.get(), strict=True))
    finally:
        _job = None
    return rendered


def _ids(events: tuple[Event, ...], share: int, shares: int) -> list[str]:
    return [event.id for event in events[share::shares]]


def _render(share: int, shares: int) -> list[bytes]:
    assert _job is not None
    registry, stamps = _job
    return [vevent_bytes(registry, e, stamps[e.id]) for e in registry.events[share::shares]]
