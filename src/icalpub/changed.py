"""Where two versions of a text or of some bytes differ: their common start and end.

Compared 64 KiB at a time (a memory comparison), then narrowed by halves: a
12 MB registry or calendar whose one event changed is told apart in a few
milliseconds. The incremental read (`reread`) and the gzip pieces (`gzipped`)
start from here.
"""

from __future__ import annotations

from typing import TypeVar

Text = TypeVar("Text", str, bytes)
_STEP = 1 << 16  # bytes compared at once when looking for the first and last change


def same_start(old: Text, new: Text) -> int:
    """Return how many bytes `old` and `new` have in common at their start."""
    limit = min(len(old), len(new))
    at = 0
    while at < limit and old[at : at + _STEP] == new[at : at + _STEP]:
        at += _STEP
    if at >= limit:
        return limit
    low, high = at, min(at + _STEP, limit)  # old[:low] == new[:low]; they differ before high
    while high - low > 1:
        middle = (low + high) // 2
        if old[low:middle] == new[low:middle]:
            low = middle
        else:
            high = middle
    return low if old[low] != new[low] else high


def same_end(old: Text, new: Text, start: int) -> int:
    """Return how many bytes `old` and `new` have in common at their end, not before `start`."""
    limit = min(len(old), len(new)) - start
    size_old, size_new = len(old), len(new)
    at = 0
    while at < limit:
        step = min(_STEP, limit - at)
        if old[size_old - at - step : size_old - at] != new[size_new - at - step : size_new - at]:
            break
        at += step
    else:
        return limit
    low, high = at, at + min(_STEP, limit - at)  # the last `low` bytes agree; not all `high`
    while high - low > 1:
        middle = (low + high) // 2
        if old[size_old - middle : size_old - low] == new[size_new - middle : size_new - low]:
            low = middle
        else:
            high = middle
    return low if old[size_old - low - 1] != new[size_new - low - 1] else high
