"""gzip made of pieces deflated one by one, so a changed calendar recompresses only what changed.

A calendar is cut before some of its VEVENTs, chosen by the event's own
first line (its UID), so the cuts stay where they are when other events
change. Each piece is deflated on its own, primed with the 32 KiB before it
(as pigz does, so the file is within one per cent of one whole deflate)
and ended on a byte boundary; the pieces joined, a final empty block, and
gzip's header and trailer make one ordinary gzip member. A piece depends only
on its bytes, the 32 KiB before it and the level, so a later version of the
file reuses every piece it shares with an earlier one: same bytes either way.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from .changed import same_end, same_start

LEVEL = 6  # zlib's default: calendars 2% larger than at level 9, in half the time
WINDOW = 32 * 1024  # deflate's window: what a piece may refer back to
EVERY = 16  # about one VEVENT in this many starts a piece: an edit deflates ~40 KB again
_BEGIN = b"BEGIN:VEVENT\r\n"
_CANDIDATE = re.compile(re.escape(_BEGIN))
_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # deflate, no name, mtime 0, OS unknown
_FINAL = b"\x03\x00"  # an empty final block

MARGIN = 4096 + 200  # more than the bytes after a VEVENT's start that decide its cut


@dataclass(frozen=True)
class Pieces:
    """A gzip member's pieces, for the next version to reuse: the bytes they were made
    from, where each piece starts, each piece's key and its deflated bytes by key."""

    data: bytes = b""
    cuts: tuple[int, ...] = ()
    keys: tuple[bytes, ...] = ()
    found: Mapping[bytes, memoryview] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.found)


def compress(
    data: bytes,
    known: Pieces | None = None,
    level: int = LEVEL,
    keep: bool = True,
) -> tuple[bytes, Pieces]:
    """Return `data` gzipped, and its pieces for the next version to reuse.

    Pieces found in `known` (from an earlier version) are not deflated again;
    the result is the same bytes with or without them. Where the earlier
    version's bytes are the same (its start and its end), its cuts and keys
    are taken as they were: a changed calendar scans and hashes only around
    its change. Without `keep`, no piece is kept or looked up (a build has no
    next version).
    """
    view = memoryview(data)
    reuse = known if keep and known is not None and known.data else None
    cuts, kept = _cuts_again(data, reuse) if reuse is not None else (_cuts(data), {})
    keys: list[bytes] = []
    parts: list[bytes | memoryview] = []
    for start, end in itertools.pairwise(cuts):
        before = view[max(0, start - WINDOW) : start]
        reused = None
        if keep:
            key = kept.get((start, end))
            if key is None:
                hashed = hashlib.blake2b(before, digest_size=16, person=b"icalpub-gz%d" % level)
                hashed.update(view[start:end])
                key = hashed.digest()
            keys.append(key)
            reused = known.found.get(key) if known else None
        if reused is not None:
            parts.append(reused)
        else:
            deflate = zlib.compressobj(level, zlib.DEFLATED, -15, zdict=before)
            parts.append(deflate.compress(view[start:end]) + deflate.flush(zlib.Z_SYNC_FLUSH))
    trailer = struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)
    member = b"".join([_HEADER, *parts, _FINAL, trailer])
    if not keep:
        return member, Pieces()
    found: dict[bytes, memoryview] = {}
    offset = len(_HEADER)
    whole = memoryview(member)
    for digest, part in zip(keys, parts, strict=True):
        size = len(part)
        found[digest] = whole[offset : offset + size]
        offset += size
    return member, Pieces(data, tuple(cuts), tuple(keys), found)


def _cuts(data: bytes, start: int = 0, end: int | None = None) -> list[int]:
    """Return where pieces start (and the end): before VEVENTs picked by their first line
    (UID). Given `end`, only the cuts of VEVENTs starting in [start, end) (no 0, no end)."""
    whole = end is None
    cuts = [0] if whole else []
    limit = len(data) if end is None else end
    for found in _CANDIDATE.finditer(data, start, min(len(data), limit + len(_BEGIN) - 1)):
        at = found.start()
        if at >= limit:
            break
        uid = data.find(b"\r\nUID:", at, at + 4096)
        first = uid + 2 if uid >= 0 else found.end()
        if at and zlib.crc32(data[first : data.find(b"\r\n", first)]) % EVERY == 0:
            cuts.append(at)
    if whole:
        cuts.append(len(data))
    return cuts


def _cuts_again(data: bytes, known: Pieces) -> tuple[list[int], dict[tuple[int, int], bytes]]:
    """Return `_cuts(data)`, and the keys of its pieces that `known` had, by (start, end):
    taken from `known` where the bytes that decide them are the same."""
    old = known.data
    same = same_start(old, data)
    same_tail = same_end(old, data, same)
    shift = len(data) - len(old)
    # A VEVENT's cut is decided by its bytes up to the end of its UID line, which starts
    # within 4,092 bytes: one starting before `low` by unchanged bytes if a line ends
    # between `low` + 4,092 and `same`; one starting from `high` on, by the unchanged end.
    low = same - MARGIN
    high = len(data) - same_tail
    if low <= 0 or high - low > len(data) // 2 or data.find(b"\r\n", low + 4092, same) < 0:
        return _cuts(data), {}
    head = [c for c in known.cuts if c < low]
    tail = [c + shift for c in known.cuts if c + shift >= high]
    cuts = head + _cuts(data, low, high) + tail  # tail ends with len(data): known's end, moved
    kept: dict[tuple[int, int], bytes] = {}
    for (start, end), key in zip(itertools.pairwise(known.cuts), known.keys, strict=True):
        if end <= same:  # the piece and the window before it are unchanged
            kept[(start, end)] = key
        elif start - WINDOW >= len(old) - same_tail:
            kept[(start + shift, end + shift)] = key
    return cuts, kept
