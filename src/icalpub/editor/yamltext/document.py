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

import hashlib
from dataclasses import dataclass
from typing import Any

from ...errors import IcalpubError, YamlProblem
from ...yamlsafe import Mapping, Node, Scalar, Sequence, compose, decode

# A field's value as a person writes it: text, a list of texts, or a mapping of texts.
Value = str | list[str] | dict[str, str]
Fields = dict[str, Value]


class EditError(IcalpubError):
    """The edit cannot be made as text (the event is written with aliases, or the file's
    shape is not a registry's); the message says why, for a person."""


@dataclass(frozen=True)
class Item:
    """One event of the file: where its text is, its fields' nodes and its version."""

    id: str
    node: Node
    start: int  # the start of its first line (the one with its `-`)
    end: int  # the start of the line after its last one
    fields: dict[str, tuple[Node, Node]]
    shared: str  # why it cannot be edited as text ("" when it can)
    version: str


@dataclass(frozen=True)
class Document:
    """The registry's text and its events, in file order."""

    text: str
    newline: str
    events: Node  # the `events:` sequence
    items: tuple[Item, ...]
    root: Node | None = None

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


def read(text: str) -> Document:
    """Return the document of a registry's text; raise EditError if it has no events list."""
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
    return Document(text, newline, events, tuple(items), root)


def read_bytes(data: bytes) -> Document:
    """Return the document of a registry file's bytes."""
    try:
        return read(decode(data))
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


def child(node: Node | None, key: str) -> Node | None:
    if isinstance(node, Mapping):
        for k, v in node.pairs:
            if isinstance(k, Scalar) and k.value == key:
                return v
    return None


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
        for key, value in node.pairs:
            if isinstance(key, Scalar) and key.value not in fields:
                fields[key.value] = (key, value)
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
    return Item(event_id, node, start, end, fields, shared, version)


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
