"""Edit one event of `events.yaml` as text: every byte outside it stays as it was.

Pure: text in, text out. `yamlsafe` already knows where every node starts and
ends, so an edit splices new text at those places instead of loading and
dumping the file (which would lose comments, quoting and order). Inside the
edited event, a field whose value did not change keeps its text; a changed
value is written in the style it had (block list stays a block list); a new
field goes after the field that comes before it in SPEC order. Each result is
read back before it is returned: the edited event must read as asked and every
other event's text must be unchanged, or the edit is refused (`EditError`).

An event's *version* is a hash of its own text: any change to it, by the
editor, by hand or by `git pull`, gives a new version; changes elsewhere do not.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping as AnyMapping
from collections.abc import Sequence as AnySequence
from dataclasses import dataclass
from typing import Any

import yaml

from ..errors import IcalpubError, YamlProblem
from ..registry import EVENT_KEYS
from ..yamlsafe import Mapping, Node, Scalar, Sequence, compose, decode

# A field's value as a person writes it: text, a list of texts, or a mapping of texts.
Value = str | list[str] | dict[str, str]
Fields = dict[str, Value]
_ESCAPES = {"\x85": "\\N", "\u2028": "\\L", "\u2029": "\\P"}


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
        return {key: _value(value) for key, (_, value) in item.fields.items()}

    def section(self, key: str) -> Mapping | None:
        """Return the top-level mapping `key` (`calendar`, `topics`), if the file has one."""
        found = _child(self.root, key)
        return found if isinstance(found, Mapping) else None

    def section_values(self, key: str) -> dict[str, Any]:
        """Return a top-level mapping as written, nested mappings included."""
        found = self.section(key)
        return _nested(found) if found is not None else {}

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
    try:
        root, _ = compose(text)
    except YamlProblem as exc:
        raise EditError(f"line {exc.line}: {exc.message}") from None
    events = _child(root, "events")
    if not isinstance(events, Sequence):
        raise EditError("the registry has no 'events:' list")
    anchors = _anchor_offsets(text)
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


def normalize(fields: AnyMapping[str, Any]) -> Fields:
    """Return `fields` as written values: numbers become text, empty values are dropped."""
    result: Fields = {}
    for key, value in fields.items():
        if value is None or value == "" or value == [] or value == {}:
            continue
        if isinstance(value, bool):
            result[key] = "true" if value else "false"
        elif isinstance(value, (str, int, float)):
            result[key] = str(value)
        elif isinstance(value, AnySequence):
            result[key] = [str(v) for v in value]
        elif isinstance(value, AnyMapping):
            result[key] = {str(k): str(v) for k, v in value.items() if v not in (None, "")}
        else:
            raise EditError(f"{key}: a value must be text, a list or a mapping")
    return result


def replace(document: Document, event_id: str, fields: AnyMapping[str, Any]) -> str:
    """Return the text with the event `event_id`'s fields set to `fields` (absent: removed).

    Multi-line text is written as a literal block (`|`) where that reads back
    the same, else double-quoted on one line.
    """
    try:
        return _replace(document, event_id, fields, literal=True)
    except EditError:
        return _replace(document, event_id, fields, literal=False)


def _replace(
    document: Document, event_id: str, fields: AnyMapping[str, Any], *, literal: bool
) -> str:
    item = _editable(document, event_id)
    wanted = normalize(fields)
    wanted.setdefault("id", event_id)
    mapping = item.node
    assert isinstance(mapping, Mapping)
    splices = _mapping_splices(document, mapping, wanted, EVENT_KEYS, literal=literal)
    result = _splice(document.text, splices)
    _check(document, result, keep=[i for i in document.items if i is not item], edited=wanted)
    return result


def set_calendar(document: Document, fields: AnyMapping[str, Any]) -> str:
    """Return the text with the calendar settings set to `fields` (absent: removed)."""
    from ..registry import CALENDAR_KEYS

    mapping = document.section("calendar")
    if mapping is None:
        raise EditError("the registry has no 'calendar:' mapping")
    wanted = normalize(fields)
    for literal in (True, False):
        splices = _mapping_splices(document, mapping, wanted, CALENDAR_KEYS, literal=literal)
        result = _splice(document.text, splices)
        try:
            _check(document, result, keep=list(document.items), edited=None)
        except EditError:
            continue
        if read(result).section_values("calendar") == wanted:
            return result
    raise EditError("the calendar settings would not read back as given; nothing was written")


def set_topic(
    document: Document,
    topic_id: str,
    titles: AnyMapping[str, str],
    description: str | AnyMapping[str, str] = "",
) -> str:
    """Return the text with topic `topic_id` (new or existing) titled `titles` per language.

    One title is written as text, several as `{lv: …, en: …}`; a new topic goes
    last among the topics, in the style of the ones before it.
    """
    titles = {k: v.strip() for k, v in titles.items() if v.strip()}
    if not titles:
        raise EditError(f"topic '{topic_id}' needs a title")
    title: Any = next(iter(titles.values())) if len(titles) == 1 else dict(titles)
    value: dict[str, Any] = {"title": title}
    if isinstance(description, AnyMapping):
        texts = {k: v.strip() for k, v in description.items() if v.strip()}
        if texts:
            value["description"] = texts
    elif description.strip():
        value["description"] = description.strip()
    rendered = "{" + ", ".join(f"{k}: {_render_nested(v)}" for k, v in value.items()) + "}"
    text, newline = document.text, document.newline
    topics = document.section("topics")
    if topics is None:
        at = _child_key_line(document, "events")
        result = _splice(
            text, [(at, at, f"topics:{newline}  {topic_id}: {rendered}{newline}{newline}")]
        )
    else:
        existing = next(
            ((k, v) for k, v in topics.pairs if isinstance(k, Scalar) and k.value == topic_id), None
        )
        if existing is not None:
            if _nested(existing[1]) == value:
                return text
            result = _splice(text, [(existing[1].index, content_end(text, existing[1]), rendered)])
        elif document.is_flow(topics):
            at = topics.end - 1
            comma = ", " if topics.pairs else ""
            result = _splice(text, [(at, at, f"{comma}{topic_id}: {rendered}")])
        elif topics.pairs:
            indent = " " * (topics.column - 1)
            at = _line_after(text, content_end(text, topics.pairs[-1][1]))
            result = _splice(text, [(at, at, f"{indent}{topic_id}: {rendered}{newline}")])
        else:
            raise EditError("the topics mapping is empty in a way the editor cannot extend")
    _check(document, result, keep=list(document.items), edited=None)
    if read(result).section_values("topics").get(topic_id) != value:
        raise EditError(f"topic '{topic_id}' would not read back as given; nothing was written")
    return result


def _mapping_splices(
    document: Document,
    mapping: Mapping,
    wanted: Fields,
    order: AnySequence[str],
    *,
    literal: bool,
) -> list[tuple[int, int, str]]:
    """Return the splices that make `mapping`'s fields `wanted`, unchanged ones untouched."""
    text = document.text
    current = {k.value: _value(v) for k, v in mapping.pairs if isinstance(k, Scalar)}
    splices: list[tuple[int, int, str]] = []
    flow = document.is_flow(mapping)
    indent = " " * (mapping.column - 1)
    pairs = [(k, v) for k, v in mapping.pairs if isinstance(k, Scalar)]
    for number, (key, value) in enumerate(pairs):
        name = key.value
        if name in wanted and wanted[name] == current.get(name):
            continue
        if name in wanted and isinstance(wanted[name], dict) and _is_mapping_block(document, value):
            assert isinstance(value, Mapping)
            # A text per language written as a block: only the changed languages' lines.
            inner = wanted[name]
            assert isinstance(inner, dict)
            splices.extend(
                _mapping_splices(document, value, dict(inner), list(inner), literal=literal)
            )
            continue
        if name in wanted:
            rendered = _render(
                document, wanted[name], value, len(indent), flow or not literal, typed=name in TYPED
            )
            start = value.index
            if rendered.startswith(document.newline):  # a block under its key: no space after ':'
                while text[start - 1] == " ":
                    start -= 1
            elif isinstance(wanted[name], str) and _is_block(document, value):
                start = text.rindex(":", key.index, value.index) + 1  # a block becomes one line
                rendered = " " + rendered
            splices.append((start, content_end(text, value), rendered))
        else:
            splices.append(_removal(document, pairs, number, flow))
    for name in [k for k in wanted if k not in current]:
        after = _preceding(pairs, name, order)
        rendered = _render(
            document, wanted[name], None, len(indent), flow or not literal, typed=name in TYPED
        )
        if flow:
            at = content_end(text, after[1])
            splices.append((at, at, f", {name}: {rendered}"))
        else:
            at = _line_after(text, content_end(text, after[1]))
            splices.append((at, at, f"{indent}{name}:{_gap(rendered)}{document.newline}"))
    return splices


def _is_mapping_block(document: Document, node: Node) -> bool:
    """Return whether `node` is a block mapping (one key per line)."""
    return isinstance(node, Mapping) and not document.is_flow(node)


def _is_block(document: Document, node: Node) -> bool:
    """Return whether `node` is a block list or mapping (its text starts on its own line)."""
    return not isinstance(node, Scalar) and not document.is_flow(node)


def _gap(rendered: str) -> str:
    """Return a value as it follows its key's colon: after a space, or on the next lines."""
    return rendered if rendered.startswith(("\n", "\r")) else " " + rendered


def _render_nested(value: Any) -> str:
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(f"{_scalar(k, True)}: {_scalar(v, True)}" for k, v in value.items())
            + "}"
        )
    return _scalar(str(value), True)


def _nested(node: Node) -> Any:
    if isinstance(node, Scalar):
        return "" if node.is_null else node.value
    if isinstance(node, Sequence):
        return [_nested(item) for item in node.items]
    if isinstance(node, Mapping):
        return {k.value: _nested(v) for k, v in node.pairs if isinstance(k, Scalar)}
    return ""  # pragma: no cover


def _child_key_line(document: Document, key: str) -> int:
    """Return the start of the line of the top-level `key:`."""
    root = document.root
    if isinstance(root, Mapping):
        for k, _ in root.pairs:
            if isinstance(k, Scalar) and k.value == key:
                return document.text.rfind("\n", 0, k.index) + 1
    raise EditError(f"the registry has no '{key}:'")


def insert(document: Document, fields: AnyMapping[str, Any], after: str | None) -> str:
    """Return the text with a new event added after the event `after` (None: first).

    The new event is written in block style with the indentation of the file's
    other events, separated from them as they are separated from each other.
    """
    wanted = normalize(fields)
    text = document.text
    newline = document.newline
    if document.items:
        first = document.items[0]
        dash = text.rindex("-", 0, first.node.index)
        dash_indent = dash - first.start
        key_indent = first.node.column - 1 if isinstance(first.node, Mapping) else dash_indent + 2
    else:
        dash_indent, key_indent = 2, 4
    lines: list[str] = []
    for number, name in enumerate(k for k in EVENT_KEYS if k in wanted):
        rendered = _render(document, wanted[name], None, key_indent, False, typed=name in TYPED)
        prefix = " " * dash_indent + "- " if number == 0 else " " * key_indent
        if number == 0:
            prefix += " " * (key_indent - dash_indent - 2)
        lines.append(f"{prefix}{name}:{_gap(rendered)}{newline}")
    block = "".join(lines)
    blank = _separated(document)
    if not document.items:
        events = document.events
        if document.is_flow(events):  # `events: []`
            start = events.index
            result = _splice(text, [(start, events.end, newline + block.rstrip("\r\n"))])
        else:
            at = _line_after(text, events.index)
            result = _splice(text, [(at, at, block)])
    elif after is None:
        at = _comments_above(text, document.items[0].start)
        result = _splice(text, [(at, at, block + (newline if blank else ""))])
    else:
        previous = _editable_or_any(document, after)
        at = previous.end
        result = _splice(text, [(at, at, (newline if blank else "") + block)])
    _check(document, result, keep=list(document.items), edited=wanted)
    return result


def delete(document: Document, event_id: str) -> str:
    """Return the text without the event `event_id` and the blank lines that followed it."""
    item = _editable(document, event_id)
    text = document.text
    end = item.end
    while True:
        line_end = text.find("\n", end)
        line = text[end : len(text) if line_end < 0 else line_end + 1]
        if not line or line.strip():
            break
        end += len(line)
    if end >= len(text) and item.start > 0:
        # The last event: drop the blank lines before it instead.
        start = item.start
        while start > 0:
            previous = text.rfind("\n", 0, start - 1) + 1
            if text[previous:start].strip():
                break
            start = previous
        result = text[:start] + text[item.end :]
    else:
        result = text[: item.start] + text[end:]
    _check(document, result, keep=[i for i in document.items if i is not item], edited=None)
    return result


# -- reading ---------------------------------------------------------------------------


def _child(node: Node | None, key: str) -> Node | None:
    if isinstance(node, Mapping):
        for k, v in node.pairs:
            if isinstance(k, Scalar) and k.value == key:
                return v
    return None


def _anchor_offsets(text: str) -> list[int]:
    """Return where the text has an anchor or an alias (their values are shared)."""
    offsets: list[int] = []
    try:
        for token in yaml.scan(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
            if isinstance(token, (yaml.AnchorToken, yaml.AliasToken)):
                offsets.append(token.start_mark.index)
    except yaml.YAMLError:  # pragma: no cover - compose read it already
        pass
    return offsets


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
    end = _line_after(text, max(ends) - 1)
    shared = ""
    if not own or any(start <= a < end for a in anchors):
        shared = "it is written with YAML anchors or aliases (& or *), so its values are shared"
    elif not isinstance(node, Mapping):
        shared = "it is not a mapping of fields"
    version = hashlib.sha256(text[start:end].encode()).hexdigest()[:20]
    return Item(event_id, node, start, end, fields, shared, version)


def _value(node: Node) -> Value:
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


def _line_after(text: str, at: int) -> int:
    """Return the start of the line after the one `at` is on."""
    found = text.find("\n", at)
    return len(text) if found < 0 else found + 1


# -- writing ---------------------------------------------------------------------------


def _editable(document: Document, event_id: str) -> Item:
    item = document.item(event_id)
    if item is None:
        raise EditError(f"there is no event '{event_id}'")
    if item.shared:
        raise EditError(f"event '{event_id}' cannot be edited here: {item.shared}")
    return item


def _editable_or_any(document: Document, event_id: str) -> Item:
    item = document.item(event_id)
    if item is None:
        raise EditError(f"there is no event '{event_id}'")
    return item


def _preceding(
    pairs: list[tuple[Scalar, Node]], name: str, keys: AnySequence[str] = EVENT_KEYS
) -> tuple[Scalar, Node]:
    """Return the pair a new field `name` goes after: the last one that comes before it."""
    order = {key: number for number, key in enumerate(keys)}
    rank = order.get(name, len(order))
    chosen = pairs[0]
    for pair in pairs:
        if order.get(pair[0].value, len(order)) < rank:
            chosen = pair
    return chosen


def _removal(
    document: Document, pairs: list[tuple[Scalar, Node]], number: int, flow: bool
) -> tuple[int, int, str]:
    text = document.text
    key, value = pairs[number]
    end = content_end(text, value)
    if flow:
        if number > 0:
            return (content_end(text, pairs[number - 1][1]), end, "")
        if len(pairs) > 1:
            return (key.index, pairs[1][0].index, "")
        return (key.index, end, "")
    line_start = text.rfind("\n", 0, key.index) + 1
    if text[line_start : key.index].strip() == "":
        return (line_start, _line_after(text, end), "")
    # The key shares its line with the event's `-`: the next field moves up to it.
    if number + 1 < len(pairs):
        return (key.index, pairs[number + 1][0].index, "")
    return (key.index, end, "")  # pragma: no cover - an event keeps at least its id


def _render(
    document: Document,
    value: Value,
    old: Node | None,
    indent: int,
    flow: bool,
    typed: bool = False,
) -> str:
    """Return the YAML text of `value` for a field at `indent`, in the old value's style
    (`typed`: a field of dates or numbers, where YAML 1.1's reading of them is meant)."""
    newline = document.newline
    if isinstance(value, str):
        if "\n" in value:
            block = None if flow else _literal(value, indent + 2, newline)
            return block or _quoted(value)
        return _scalar(value, flow, typed)
    block_style = old is not None and not document.is_flow(old) and not isinstance(old, Scalar)
    if isinstance(value, list):
        parts = [_scalar(v, True, typed) for v in value]
        if block_style and parts and not flow:
            assert old is not None
            pad = " " * (old.column - 1)
            return (newline + pad).join(f"- {_scalar(v, False, typed)}" for v in value)
        return "[" + ", ".join(parts) + "]"
    return _render_mapping(document, value, old, indent, flow, typed)


def _render_mapping(
    document: Document,
    value: dict[str, str],
    old: Node | None,
    indent: int,
    flow: bool,
    typed: bool = False,
) -> str:
    """Return a mapping (a contact, a text per language) in the old value's style.

    A flow mapping stays one; a block one stays block, and a mapping holding a
    multi-line text (a description per language) is written as a block with
    each text a literal block, starting on the line after its key.
    """
    newline = document.newline
    pairs = list(value.items())
    was_block = old is not None and isinstance(old, Mapping) and not document.is_flow(old)
    multiline = any("\n" in text for _, text in pairs)
    if flow or not pairs or not (was_block or multiline):
        return (
            "{"
            + ", ".join(f"{_scalar(k, True)}: {_scalar(v, True, typed)}" for k, v in pairs)
            + "}"
        )
    if was_block:
        assert old is not None
        pad, lead = " " * (old.column - 1), ""
    else:
        pad = " " * (indent + 2)
        lead = newline + pad
    parts = []
    for key, text in pairs:
        if "\n" in text:
            written = _literal(text, len(pad) + 2, newline) or _quoted(text)
        else:
            written = _scalar(text, False, typed)
        parts.append(f"{_scalar(key, False)}: {written}")
    return lead + (newline + pad).join(parts)


_PLAIN_START = re.compile(r"[-?:,\[\]{}#&*!|>'\"%@`\s]")
# YAML 1.1 (PyYAML and the tools built on it) reads some plain scalars as something other
# than text: booleans, nulls, numbers in any base, dates. Its own resolver says which;
# it leaves out the one-letter booleans of the 1.1 spec, which other 1.1 readers keep.
_YAML11 = yaml.resolver.Resolver()
_YAML11_TEXT = "tag:yaml.org,2002:str"
_YAML11_TYPED = {f"tag:yaml.org,2002:{t}" for t in ("int", "float", "timestamp")}
# Fields (and `repeat`'s keys) whose values are dates or numbers: written plain as before.
TYPED = frozenset(
    {"start", "end", "except", "published", "updated", "sequence", "repeat"}
    | {"until", "count", "interval", "feed_items"}
)
_ONE_LETTER_BOOLEANS = frozenset("yYnN")


def _scalar(value: str, flow: bool, typed: bool = False) -> str:
    """Return `value` plain when YAML reads it back as the same text (YAML 1.1 too, or as
    the date or number a `typed` field means), else double-quoted."""
    if _plain_safe(value, flow) and _yaml11_reads_as_meant(value, typed):
        return value
    return _quoted(value)


def _plain_safe(value: str, flow: bool) -> bool:
    if not value or value != value.strip() or any(c in value for c in "\n\r\t"):
        return False
    if _PLAIN_START.match(value) and not re.match(r"-\d", value):
        return False
    if ": " in value or " #" in value or value.endswith(":"):
        return False
    if flow and any(c in value for c in ",[]{}"):
        return False
    try:
        node, _ = compose(f"{{k: {value}}}" if flow else f"k: {value}\n")
    except YamlProblem:
        return False
    found = _child(node, "k")
    return isinstance(found, Scalar) and found.plain and not found.is_null and found.value == value


def _yaml11_reads_as_meant(value: str, typed: bool) -> bool:
    """Return whether a YAML 1.1 reader takes `value`, written plain, as text (or, in a
    `typed` field, as the date or number it is)."""
    if value in _ONE_LETTER_BOOLEANS:
        return False
    tag = _YAML11.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    return tag == _YAML11_TEXT or (typed and tag in _YAML11_TYPED)


def _quoted(value: str) -> str:
    quoted = json.dumps(value, ensure_ascii=False)
    return "".join(_ESCAPES.get(c, c) for c in quoted)


def _literal(value: str, indent: int, newline: str) -> str | None:
    """Return `value` as a literal block (`|`), or None when a literal cannot hold it."""
    body = value.rstrip("\n")
    trailing = len(value) - len(body)
    if not body or body[0] in " \t" or "\r" in body or any(c in body for c in _ESCAPES):
        return None
    chomp = "-" if trailing == 0 else "" if trailing == 1 else "+"
    pad = " " * indent
    lines = [(pad + line if line else "") for line in body.split("\n")]
    return f"|{chomp}{newline}" + newline.join(lines) + newline * max(trailing - 1, 0)


def _splice(text: str, splices: list[tuple[int, int, str]]) -> str:
    for start, end, new in sorted(splices, key=lambda s: (s[0], s[1]), reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _separated(document: Document) -> bool:
    """Return whether the file puts a blank line between events."""
    items = document.items
    if len(items) < 2:
        return True
    between = document.text[items[0].end : items[1].start]
    return any(not line.strip() for line in between.splitlines())


def _comments_above(text: str, start: int) -> int:
    """Return the start of the comment lines directly above the line at `start`."""
    while start > 0:
        previous = text.rfind("\n", 0, start - 1) + 1
        if not text[previous:start].lstrip().startswith("#"):
            break
        start = previous
    return start


def _check(before: Document, text: str, keep: list[Item], edited: Fields | None) -> None:
    """Read the result back: kept events' text unchanged, the edited one as asked."""
    try:
        after = read(text)
    except EditError as exc:
        raise EditError(f"the edit would not be valid YAML ({exc}); nothing was written") from None
    remaining = {i.id: before.text[i.start : i.end] for i in keep}
    for item in after.items:
        if item.id in remaining and remaining[item.id] == after.text[item.start : item.end]:
            del remaining[item.id]
        elif edited is not None and item.id == edited.get("id"):
            got = after.values(item)
            if got != edited:
                raise EditError(f"the edit would read back as {got!r}; nothing was written")
            edited = None
    if remaining:
        raise EditError("the edit would change other events; nothing was written")
    if edited is not None:
        raise EditError("the edited event is not in the result; nothing was written")
