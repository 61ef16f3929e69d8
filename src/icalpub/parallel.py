"""Render a large registry's VEVENTs on every core, for `icalpub build` (never the service).

Rendering is pure Python, so threads would take turns; a forked child
process inherits the registry without copying or pickling it, renders its
share and sends back bytes. The parent renders its own share meanwhile. Only
where fork is safe and cheap (Linux), only before the build starts any
thread, and only when there are enough events to pay for a process.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Mapping

from .ical import vevent_bytes
from .ledger import Stamp
from .model import Event, Registry

log = logging.getLogger("icalpub")
MINIMUM = 2_000  # events below which one process is faster
_job: tuple[Registry, Mapping[str, Stamp]] | None = None  # what a forked child renders


def vevents(registry: Registry, stamps: Mapping[str, Stamp]) -> dict[str, bytes]:
    """Return VEVENT bytes by event id, the same bytes `vevent_bytes` gives.

    Every event's, or none for a small registry; if a child process dies, its
    share is missing and the writer renders those itself.
    """
    events = registry.events
    cores = min(os.cpu_count() or 1, 8)
    if cores < 2 or len(events) < MINIMUM or sys.platform != "linux":
        return {}  # the writer renders them as it goes
    if threading.active_count() > 1:
        # A fork copies only this thread: a lock another thread holds (logging's,
        # an allocator's) would stay locked in the child for ever. Render here.
        log.info("not forking renderers: %d threads are running", threading.active_count())
        return {}
    # Imported only here: a build of fewer events never forks.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    global _job
    _job = (registry, stamps)
    context = multiprocessing.get_context("fork")
    rendered: dict[str, bytes] = {}
    try:
        with ProcessPoolExecutor(cores - 1, mp_context=context) as pool:
            shares = [pool.submit(_render, share, cores) for share in range(1, cores)]
            rendered.update(zip(_ids(events, 0, cores), _render(0, cores), strict=True))
            for share, result in enumerate(shares, start=1):
                rendered.update(zip(_ids(events, share, cores), result.result(), strict=True))
    except BrokenProcessPool:
        # A child died (out of memory?): the writer renders what is missing itself.
        log.warning("a rendering process died; rendering its share in this one")
    finally:
        _job = None
    return rendered


def _ids(events: tuple[Event, ...], share: int, shares: int) -> list[str]:
    return [event.id for event in events[share::shares]]


def _render(share: int, shares: int) -> list[bytes]:
    assert _job is not None
    registry, stamps = _job
    return [vevent_bytes(registry, e, stamps[e.id]) for e in registry.events[share::shares]]
