"""The registry's text as the editor sees it: its events, where each one's text is, versions.

Pure: text in, a `Document` out. `yamlsafe` knows where every node starts and
ends; here that becomes the events of the file in order (`Item`: where its
text is, its fields' nodes, and whether it can be edited as text) and the
values as a person wrote them. An event's *version* is a hash of its own
text: any change to it, by the editor, by hand or by `git pull`, gives a new
version; changes elsewhere do not. The same for the `calendar:` and `topics:`
mappings (`Document.section_version`).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ... import reread
from ...errors import IcalpubError, YamlProblem
from ...yamlsafe import Mapping, Node, Scalar, Sequence, child, compose, compose_part, decode

# A field's value as a person writes it: text, a list of texts, or a mapping of texts.
Value = str | list[str] | dict[str, str]
Fields = dict[str, Value]
Parts = tuple[Node, dict[str, tuple[Node, Node]]]  # an item's node and its fields' nodes


class EditError(IcalpubError):
    """The edit cannot be made as text (the event is written with aliases, or the file's
    shape is not a registry's); the message says why, for a person."""


@dataclass(frozen=True, eq=False)
class Item:
    """One event of the file: where its text is, its fields' nodes and its version.

    The nodes of an item an edit only moved are read from its own text when asked for.
    """

    id: str
    start: int  # the start of its first line (the one with its `-`)
    end: int  # the start of the line after its last one
    shared: str  # why it cannot be edited as text ("" when it can)
    version: str
    parts: Callable[[], Parts] = field(repr=False)

    @functools.cached_property
    def _parts(self) -> Parts:
        return self.parts()

    @property
    def node(self) -> Node:
        """Return the item's node."""
        return self._parts[0]

    @property
    def fields(self) -> dict[str, tuple[Node, Node]]:
        """Return its fields' key and value nodes by name (the first of a repeated key)."""
        return self._parts[1]


@dataclass(frozen=True, eq=False)
class Document:
    """The registry's text and its events, in file order."""

    text: str
    newline: str
    items: tuple[Item, ...]
    events_end: int  # where the events list's text ends (the next top-level key, or the end)
    anchored: bool  # whether the text has an anchor or an alias anywhere
    column: int  # where each line that starts an item has its `-` (-1: not a block list)
    tree: Callable[[], tuple[Node | None, Node]] = field(repr=False)  # the root and `events:`

    @functools.cached_property
    def _tree(self) -> tuple[Node | None, Node]:
        return self.tree()

    @property
    def root(self) -> Node | None:
        """Return the document's root node (read whole when an edit was read as items)."""
        return self._tree[0]

    @property
    def events(self) -> Node:
        """Return the `events:` sequence."""
        return self._tree[1]

    def item(self, event_id: str) -> Item | None:
        """Return the event with `event_id`, if the file has it."""
        for item in self.items:
            if item.id == event_id:
                return item
        return None

    def values(self, item: Item) -> Fields:
        """Return the event's fields as written (text as the YAML reads it), in file order."""
        return {key: value_of(value) for key, (_, value) in item.fields.items()}

    def section(self, key: str) -> Mapping | None:
        """Return the top-level mapping `key` (`calendar`, `topics`), if the file has one."""
        found = child(self.root, key)
        return found if isinstance(found, Mapping) else None

    def section_values(self, key: str) -> dict[str, Any]:
        """Return a top-level mapping as written, nested mappings included."""
        found = self.section(key)
        return nested(found) if found is not None else {}

    def section_version(self, key: str) -> str:
        """Return the version of a top-level mapping: a hash of its text ("" if absent)."""
        found = self.section(key)
        if found is None:
            return ""
        return hashlib.sha256(
            self.text[found.index : content_end(self.text, found)].encode()
        ).hexdigest()[:20]

    def is_flow(self, node: Node) -> bool:
        """Return whether `node` is a flow collection (`[...]` or `{...}`)."""
        return self.text[node.index : node.index + 1] in ("[", "{")


_LAST: list[Document] = []  # the last document `read` returned (Documents never change)


def read(text: str, previous: Document | None = None) -> Document:
    """Return the document of a registry's text; raise EditError if it has no events list.

    Given an earlier version's document, an edit inside its events list is read as
    the few items it touched (`reread.span`); the other items are moved. The last
    document read is kept: a save reads its result to check it, to answer with the
    event's new version and as the file's next state (the same text, read once).
    """
    for known in _LAST:
        if known.text is text or known.text == text:
            return known
    document = _read_again(text, previous) if previous is not None else None
    if document is None:
        document = _read_whole(text)
    _LAST[:] = [document]
    return document


def _read_whole(text: str) -> Document:
    anchors: list[int] = []  # where the text has an anchor or an alias (values are shared)
    try:
        root, _ = compose(text, marks=anchors)
    except YamlProblem as exc:
        raise EditError(f"line {exc.line}: {exc.message}") from None
    events = child(root, "events")
    if not isinstance(events, Sequence):
        raise EditError("the registry has no 'events:' list")
    anchors.sort()
    items: list[Item] = []
    floor = events.index
    for node in events.items:
        items.append(_item(text, node, anchors, floor))
        floor = items[-1].end
    newline = "\r\n" if "\r\n" in text else "\n"
    tree = (root, events)
    column = events.column - 1 if text[events.index : events.index + 1] == "-" else -1
    return Document(text, newline, tuple(items), events.end, bool(anchors), column, lambda: tree)


def read_bytes(data: bytes, previous: Document | None = None) -> Document:
    """Return the document of a registry file's bytes (see `read` for `previous`)."""
    try:
        return read(decode(data), previous)
    except YamlProblem as exc:
        raise EditError(f"line {exc.line}: {exc.message}") from None


def nested(node: Node) -> Any:
    if isinstance(node, Scalar):
        return "" if node.is_null else node.value
    if isinstance(node, Sequence):
        return [nested(item) for item in node.items]
    if isinstance(node, Mapping):
        return {k.value: nested(v) for k, v in node.pairs if isinstance(k, Scalar)}
    return ""  # pragma: no cover


def _item(text: str, node: Node, anchors: list[int], floor: int) -> Item:
    """Return the event item `node`; `floor` is where the previous item's text ended."""
    own = node.index >= floor  # not an alias of a node written before it
    at = node.index if own else next((a for a in anchors if a >= floor), floor)
    dash = text.rfind("-", floor, at + 1)
    start = text.rfind("\n", 0, max(dash, floor)) + 1
    fields: dict[str, tuple[Node, Node]] = {}
    event_id = ""
    ends = [at + 1]
    if isinstance(node, Mapping) and own:
        fields = _fields(node)
        for key, value in node.pairs:
            ends.append(content_end(text, value) if value.index >= start else key.end + 1)
        found = fields.get("id")
        if found is not None and isinstance(found[1], Scalar):
            event_id = found[1].value.strip()
    elif own:
        ends.append(content_end(text, node))
    end = line_after(text, max(ends) - 1)
    shared = ""
    if not own or any(start <= a < end for a in anchors):
        shared = "it is written with YAML anchors or aliases (& or *), so its values are shared"
    elif not isinstance(node, Mapping):
        shared = "it is not a mapping of fields"
    version = hashlib.sha256(text[start:end].encode()).hexdigest()[:20]
    parts = (node, fields)
    return Item(event_id, start, end, shared, version, lambda: parts)


def _fields(node: Node) -> dict[str, tuple[Node, Node]]:
    found: dict[str, tuple[Node, Node]] = {}
    if isinstance(node, Mapping):
        for key, value in node.pairs:
            if isinstance(key, Scalar) and key.value not in found:
                found[key.value] = (key, value)
    return found


def _read_again(text: str, previous: Document) -> Document | None:
    """Return the document of `text` read as the items its change to `previous` touched,
    or None when it must be read whole (a change outside the items, any anchor or alias)."""
    items, column = previous.items, previous.column
    lone_cr = "\r" in text and "\r" in text.replace("\r\n", "")  # lines are counted by LF
    if not items or column < 0 or previous.anchored or lone_cr:
        return None
    starts = [item.start for item in items]
    around = reread.span(starts, previous.events_end, previous.text, text)
    if around is None:
        return None
    first, last = around
    start, shift = starts[first], len(text) - len(previous.text)
    end = (starts[last] if last < len(starts) else previous.events_end) + shift
    part = text[start:end]
    if (part and end < len(text) and not part.endswith("\n")) or not reread.stands_alone(part):
        return None
    dash = " " * column + "-"  # the lines around the part start items of the list
    if text[start : start + len(dash)] != dash or (
        last < len(items) and text[end : end + len(dash)] != dash
    ):
        return None
    marks: list[int] = []
    head = reread.HEAD
    try:
        root = compose_part(head + part, start - len(head), text.count("\n", 0, start), marks)
    except YamlProblem:
        return None
    listed = reread.items(root)
    if listed is None or marks:
        return None
    if listed.items and listed.column - 1 != column:
        return None  # the items would not be the list's own in the whole text
    read_now: list[Item] = []
    for node in listed.items:
        read_now.append(_item(text, node, [], read_now[-1].end if read_now else start))
    moved = [_moved(text, item, shift) for item in items[last:]]
    newline = "\r\n" if "\r\n" in text else "\n"
    tree = functools.partial(_tree_of, text)
    found = (*items[:first], *read_now, *moved)
    return Document(text, newline, found, previous.events_end + shift, False, column, tree)


def _moved(text: str, item: Item, shift: int) -> Item:
    start, end = item.start + shift, item.end + shift
    parts = functools.partial(_parts_at, text, start, end)
    return Item(item.id, start, end, item.shared, item.version, parts)


def _parts_at(text: str, start: int, end: int) -> Parts:
    """Return the nodes of the item whose text is text[start:end], read on its own."""
    root = compose_part(text[start:end], start, text.count("\n", 0, start) + 1, [])
    assert isinstance(root, Sequence) and len(root.items) == 1  # read so before it moved
    return root.items[0], _fields(root.items[0])


def _tree_of(text: str) -> tuple[Node | None, Node]:
    root, _ = compose(text)
    events = child(root, "events")
    assert events is not None  # the version this one was read from had the list
    return root, events


def value_of(node: Node) -> Value:
    if isinstance(node, Scalar):
        return "" if node.is_null else node.value
    if isinstance(node, Sequence):
        return [item.value if isinstance(item, Scalar) else "" for item in node.items]
    if isinstance(node, Mapping):
        return {
            k.value: v.value if isinstance(v, Scalar) else ""
            for k, v in node.pairs
            if isinstance(k, Scalar)
        }
    return ""  # pragma: no cover - every node is one of the three


def content_end(text: str, node: Node) -> int:
    """Return where the node's own text ends: no trailing blank lines or later comments."""
    while isinstance(node, (Mapping, Sequence)) and text[node.index : node.index + 1] not in (
        "[",
        "{",
    ):
        last: Node | None = None
        if isinstance(node, Mapping) and node.pairs:
            last = node.pairs[-1][1]
        elif isinstance(node, Sequence) and node.items:
            last = node.items[-1]
        if last is None:
            break
        node = last
    end = node.end
    while end > node.index and text[end - 1] in " \t\r\n":
        end -= 1
    return end


def line_after(text: str, at: int) -> int:
    """Return the start of the line after the one `at` is on."""
    found = text.find("\n", at)
    return len(text) if found < 0 else found + 1


# -- writing ---------------------------------------------------------------------------
