"""Read again only what an edit touched: the event items around the changed bytes.

A registry read whole without any problem keeps its `Shape`: its bytes and
where each event item's text begins. The next version's bytes are compared
with them (common start and end); when every changed byte lies inside the
events list, only the items around the change (one more on either side) are
read again, as a small document of their own that starts on the same line,
and every other event is taken as read, its line moved by the lines the edit
added or removed. Anything else is read whole: a change to the calendar or
the topics, an item that does not start like the others, a document marker,
and (in `registry`) an alias, any problem in the items read again or a
duplicate id — so every problem is reported exactly as a whole read reports it.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections.abc import Callable
from collections.abc import Mapping as AnyMapping
from collections.abc import Sequence as AnySequence
from dataclasses import dataclass

from .changed import Text, same_end, same_start
from .errors import YamlProblem
from .ledger import Ledger
from .model import Event, Registry
from .yamlsafe import MAX_BYTES, Mapping, Node, Scalar, Sequence, child, compose, decode

HEAD = "events:\n"  # what the items read again are put under, as the registry has them
_BOM = b"\xef\xbb\xbf"
_MARKER = re.compile(r"^(?:---|\.\.\.)(?:[ \t\r\n]|$)", re.MULTILINE)
_BREAKS = re.compile("[\r\x85\u2028\u2029]")  # YAML breaks lines at these too


@dataclass(frozen=True)
class Shape:
    """Where each event's text lies in the bytes of a registry read without problems."""

    data: bytes
    starts: tuple[int, ...]  # byte offset of the line each event item starts on, in file order
    end: int  # byte offset where the events list's text ends (the next key, or the end)
    prefix: str  # what every item's first line starts with, e.g. "  - "
    registry: Registry  # as read from `data`: all its events, drafts included


@dataclass(frozen=True)
class Known:
    """What a read leaves for the next: faultless events by their text's key, and the shape."""

    events: AnyMapping[bytes, Event] = dataclasses.field(default_factory=dict)
    shape: Shape | None = None
    ledger: tuple[bytes, Ledger] | None = None  # the ledger's bytes and what they read as


@dataclass(frozen=True)
class Piece:
    """The part of a new version to read again: old items [first, last) become `text`."""

    first: int
    last: int
    text: str  # HEAD and the new text of those items
    line: int  # the line HEAD's next line is on in the whole file
    start: int  # byte offset of the items' text in the new bytes
    size: int  # its length in bytes
    shift: int  # bytes the new version has more (or fewer) than the old
    lines: int  # lines the new version has more (or fewer) than the old


ReadItems = Callable[[Sequence, Registry], "tuple[Event, ...] | None"]


def read_again(known: Known, data: bytes, read: ReadItems) -> tuple[Registry, Known] | None:
    """Return the registry `data` holds and what it leaves for the next read, reading again
    only the items an edit touched; None when it must be read whole.

    `read` checks items against a registry's settings and topics: their events, or None
    when it found any problem.
    """
    shape = known.shape
    if shape is None:
        return None
    if data == shape.data:
        return shape.registry, known
    found = piece(shape, data)
    if found is None:
        return None
    try:
        root, aliased = compose(found.text, found.line - 1)
    except YamlProblem:
        return None
    listed = items(root)
    if listed is None or aliased:
        return None
    events = read(listed, shape.registry) if listed.items else ()
    if events is None:
        return None
    after = spliced(shape, found, listed.items, events, data)
    if after is None:
        return None
    ids = {event.id for event in after.registry.events}
    if len(ids) != len(after.registry.events):
        return None  # a duplicate id: the whole read names both places
    return after.registry, Known(known.events, after)


def shape_of(data: bytes, text: str, root: Node | None, registry: Registry | None) -> Shape | None:
    """Return the shape of a registry read whole from `data` (decoded as `text`), or None
    when its events list is not written as block items that all start alike."""
    if not isinstance(root, Mapping) or registry is None:
        return None
    events = child(root, "events")
    if not isinstance(events, Sequence) or not events.items:
        return None
    if len(events.items) != len(registry.events):  # pragma: no cover - a problem was reported
        return None
    if "\r" in text and "\r" in text.replace("\r\n", ""):
        return None  # a lone CR ends a line: lines are counted by LF
    prefix = _prefix(text, events.items[0])
    if prefix is None or any(_prefix(text, item) != prefix for item in events.items):
        return None
    lines = [item.index - len(prefix) for item in events.items]
    end = events.end
    if end < len(text) and text[end - 1] not in "\r\n":
        return None
    # Byte offsets: the text before each boundary, encoded once in all.
    offset = 3 if data.startswith(b"\xef\xbb\xbf") else 0  # the byte order mark decode dropped
    offsets: list[int] = []
    at = 0
    for boundary in [*lines, end]:
        offset += len(text[at:boundary].encode("utf-8"))
        offsets.append(offset)
        at = boundary
    return Shape(data, tuple(offsets[:-1]), offsets[-1], prefix, registry)


def piece(shape: Shape, data: bytes) -> Piece | None:
    """Return the items of `shape` that `data` changes, as new text; None: read it whole."""
    old, starts = shape.data, shape.starts
    if len(data) > MAX_BYTES:
        return None  # the whole read says how large it is
    around = span(starts, shape.end, old, data)
    if around is None:
        return None
    first, last = around
    start = starts[first]
    old_end = starts[last] if last < len(starts) else shape.end
    shift = len(data) - len(old)
    new_end = old_end + shift
    if new_end < start:  # pragma: no cover - the end lies in the unchanged part
        return None
    chunk = data[start:new_end]
    if _BOM in chunk:
        return None  # decode would drop one at the piece's start; the whole read refuses it
    if chunk and new_end < len(data) and not chunk.endswith(b"\n"):
        return None  # the next item would start within a line
    try:
        text = decode(chunk)
    except YamlProblem:
        return None
    if not stands_alone(text):
        return None
    line = shape.registry.events[first].line
    lines = chunk.count(b"\n") - old.count(b"\n", start, old_end)
    return Piece(first, last, HEAD + text, line, start, len(chunk), shift, lines)


def span(starts: AnySequence[int], end: int, old: Text, new: Text) -> tuple[int, int] | None:
    """Return the items [first, last) around what `new` changes in `old` (one more on either
    side); None when a change lies before the first item's `starts` or after the list's `end`."""
    if not starts:
        return None
    same = same_start(old, new)
    changed_to = len(old) - same_end(old, new, same)  # old[same:changed_to] changed
    if same < starts[0] or changed_to > end or same == len(old) == len(new):
        return None
    first = max(bisect.bisect_right(starts, same) - 2, 0)
    last = min(bisect.bisect_right(starts, max(changed_to - 1, same)) + 1, len(starts))
    return first, last


def stands_alone(text: str) -> bool:
    """Return whether items' text reads the same on its own as within the file: no document
    marker, and no line break but LF and CRLF (YAML also breaks at CR, NEL, LS and PS)."""
    return not _MARKER.search(text) and not _BREAKS.search(text.replace("\r\n", ""))


def items(root: Node | None) -> Sequence | None:
    """Return the list of a piece read as a document, or None when it is not just the list."""
    if not isinstance(root, Mapping) or len(root.pairs) != 1:
        return None
    key, value = root.pairs[0]
    if not isinstance(key, Scalar) or key.value != "events" or not key.plain:
        return None
    if isinstance(value, Scalar) and value.is_null:
        return Sequence(value.index, value.lines)  # every item of the piece was deleted
    return value if isinstance(value, Sequence) else None


def spliced(
    shape: Shape, piece: Piece, found: list[Node], events: AnySequence[Event], data: bytes
) -> Shape | None:
    """Return the shape of `data`: `shape` with the piece's items replaced by `events`."""
    text = piece.text
    if len(found) != len(events) or any(_prefix(text, item) != shape.prefix for item in found):
        return None
    base = piece.start - len(HEAD.encode())
    starts = [base + len(text[: _line_start(text, item.index)].encode()) for item in found]
    old = shape.registry
    after = old.events[piece.last :]
    if piece.lines:
        after = tuple(event.moved(piece.lines) for event in after)
    registry = dataclasses.replace(old, events=(*old.events[: piece.first], *events, *after))
    moved = [at + piece.shift for at in shape.starts[piece.last :]]
    kept = (*shape.starts[: piece.first], *starts, *moved)
    if not kept:
        return None  # no item left: the whole read keeps no shape either
    return Shape(
        data,
        kept,
        shape.end + piece.shift,
        shape.prefix,
        registry,
    )


def _prefix(text: str, item: Node) -> str | None:
    """Return what an item's first line holds before its text ("  - "), or None if unusual."""
    head = text[_line_start(text, item.index) : item.index]
    stripped = head.lstrip(" ")
    if not stripped.startswith("-") or stripped[1:].strip(" ") or not stripped[1:]:
        return None
    return head


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1  # a shape's text ends lines with LF or CRLF only
