"""Change one event, the calendar settings or a topic by splicing text into the file.

Pure: a `Document` in, the new text out; every byte outside what is changed
stays as it was. Inside the edited event, a field whose value did not change
keeps its text; a changed value is written in the style it had; a new field
goes after the field that comes before it in SPEC order. Each result is read
back before it is returned: the edited part must read as asked and every other
event's text must be unchanged, or the edit is refused (`EditError`).
"""

from __future__ import annotations

from collections.abc import Mapping as AnyMapping
from collections.abc import Sequence as AnySequence
from typing import Any

from ...registry import EVENT_KEYS
from ...yamlsafe import Mapping, Node, Scalar
from .document import (
    Document,
    EditError,
    Fields,
    Item,
    content_end,
    line_after,
    nested,
    read,
    value_of,
)
from .render import TYPED, gap, normalize, render, render_nested


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
    from ...registry import CALENDAR_KEYS

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
    rendered = "{" + ", ".join(f"{k}: {render_nested(v)}" for k, v in value.items()) + "}"
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
            if nested(existing[1]) == value:
                return text
            result = _splice(text, [(existing[1].index, content_end(text, existing[1]), rendered)])
        elif document.is_flow(topics):
            at = topics.end - 1
            comma = ", " if topics.pairs else ""
            result = _splice(text, [(at, at, f"{comma}{topic_id}: {rendered}")])
        elif topics.pairs:
            indent = " " * (topics.column - 1)
            at = line_after(text, content_end(text, topics.pairs[-1][1]))
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
    current = {k.value: value_of(v) for k, v in mapping.pairs if isinstance(k, Scalar)}
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
            rendered = render(
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
        rendered = render(
            document, wanted[name], None, len(indent), flow or not literal, typed=name in TYPED
        )
        if flow:
            at = content_end(text, after[1])
            splices.append((at, at, f", {name}: {rendered}"))
        else:
            at = line_after(text, content_end(text, after[1]))
            splices.append((at, at, f"{indent}{name}:{gap(rendered)}{document.newline}"))
    return splices


def _is_mapping_block(document: Document, node: Node) -> bool:
    """Return whether `node` is a block mapping (one key per line)."""
    return isinstance(node, Mapping) and not document.is_flow(node)


def _is_block(document: Document, node: Node) -> bool:
    """Return whether `node` is a block list or mapping (its text starts on its own line)."""
    return not isinstance(node, Scalar) and not document.is_flow(node)


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
        rendered = render(document, wanted[name], None, key_indent, False, typed=name in TYPED)
        prefix = " " * dash_indent + "- " if number == 0 else " " * key_indent
        if number == 0:
            prefix += " " * (key_indent - dash_indent - 2)
        lines.append(f"{prefix}{name}:{gap(rendered)}{newline}")
    block = "".join(lines)
    blank = _separated(document)
    if not document.items:
        events = document.events
        if document.is_flow(events):  # `events: []`
            start = events.index
            result = _splice(text, [(start, events.end, newline + block.rstrip("\r\n"))])
        else:
            at = line_after(text, events.index)
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
        return (line_start, line_after(text, end), "")
    # The key shares its line with the event's `-`: the next field moves up to it.
    if number + 1 < len(pairs):
        return (key.index, pairs[number + 1][0].index, "")
    return (key.index, end, "")  # pragma: no cover - an event keeps at least its id


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
        after = read(text, before)  # the few items the edit touched are read again
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
