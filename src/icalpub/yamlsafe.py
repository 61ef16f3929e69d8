"""Turn YAML text into a tree of positioned nodes, refusing anything hostile.

PyYAML's own composer and constructor recurse (10,000 nested lists overflow the
stack), expand aliases without a bound ("billion laughs") and construct any tag
they know. This module drives only the event parser (libyaml's when present),
which is iterative, and builds plain nodes itself: tags are refused, nesting
and alias expansion are bounded, and every node keeps its line and column.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import yaml

from .errors import YamlProblem

MAX_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64
MAX_ALIASED_NODES = 100_000
_PARSER_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# What YAML 1.1 forbids in a stream (it allows tab, LF, CR, NEL and printable text).
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAK = re.compile("\r\n|\r|\n")
_PLAIN_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_STANDARD_TAGS = frozenset(
    "tag:yaml.org,2002:" + name
    for name in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")
) | {"!"}


@dataclass(slots=True)
class Node:
    """A YAML node; its 1-based line and column are worked out when asked for (errors)."""

    index: int  # character offset in the text
    lines: _Lines = field(repr=False, compare=False)
    size: int = field(default=1, repr=False)  # nodes it expands to, aliases included
    end: int = field(default=-1, repr=False)  # offset just after its text (the editor's span)

    @property
    def line(self) -> int:
        """Return the 1-based line, counted as editors count."""
        return self.lines.at(self.index)[0]

    @property
    def column(self) -> int:
        """Return the 1-based column, in characters."""
        return self.lines.at(self.index)[1]


@dataclass(slots=True)
class Scalar(Node):
    """A scalar as written: its text and whether it was unquoted (plain)."""

    value: str = ""
    plain: bool = True

    @property
    def is_null(self) -> bool:
        """Return whether YAML reads this scalar as null."""
        return self.plain and self.value in _PLAIN_NULLS


@dataclass(slots=True)
class Sequence(Node):
    """A YAML list."""

    items: list[Node] = field(default_factory=list)


@dataclass(slots=True)
class Mapping(Node):
    """A YAML mapping, its pairs in file order (duplicates kept for reporting)."""

    pairs: list[tuple[Node, Node]] = field(default_factory=list)


def child(node: Node | None, key: str) -> Node | None:
    """Return the value of `key` in a mapping node (its first), or None."""
    if isinstance(node, Mapping):
        for k, v in node.pairs:
            if isinstance(k, Scalar) and k.value == key:
                return v
    return None


def decode(data: bytes) -> str:
    """Return `data` as text, refusing oversized files and invalid UTF-8 with a position."""
    if len(data) > MAX_BYTES:
        raise YamlProblem(
            1, 1, f"the file is {len(data):,} bytes; the limit is {MAX_BYTES:,} bytes (16 MiB)"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        head = data[: exc.start]
        line = head.count(b"\n") + 1
        column = len(head[head.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        raise YamlProblem(
            line,
            column,
            f"invalid UTF-8: byte 0x{data[exc.start]:02x} at byte offset {exc.start}",
        ) from None
    text = text.removeprefix("\ufeff")
    bad = _UNPRINTABLE.search(text)
    if bad:
        before = text[: bad.start()]
        raise YamlProblem(
            before.count("\n") + 1,
            bad.start() - (before.rfind("\n") + 1) + 1,
            f"the file contains the control character U+{ord(bad.group()):04X}, which YAML "
            "does not allow; delete it",
        )
    return text


class _Mark(Protocol):
    index: int


class _Lines:
    """Turn a character offset into the line and column an editor shows.

    YAML also breaks lines at NEL, LS and PS, which editors show inside a
    line; positions are counted from LF, CRLF and CR only, as editors do.
    """

    def __init__(self, text: str, offset: int = 0) -> None:
        self.starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]
        self.offset = offset  # lines before the text's first line (a part of a file)
        self.shift = 0  # characters before the text's first (a part of a file: `compose_part`)

    def position(self, mark: _Mark | None) -> tuple[int, int]:
        return (1, 1) if mark is None else self.at(mark.index)

    def at(self, index: int) -> tuple[int, int]:
        index -= self.shift
        line = bisect.bisect_right(self.starts, index)
        return line + self.offset, index - self.starts[line - 1] + 1


def compose(
    text: str, first_line: int = 1, marks: list[int] | None = None
) -> tuple[Node | None, bool]:
    """Return the one document of `text` (from `first_line` of its file) as nodes (None if
    empty) and whether it uses an alias; `marks` gets each anchor's and alias's offset."""
    lines = _Lines(text, first_line - 1)
    marks = [] if marks is None else marks
    stack: list[tuple[Node, Node | None]] = []  # (collection, pending mapping key)
    anchors: dict[str, Node] = {}
    aliased = 0
    root: Node | None = None
    documents = 0
    scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
    starts, ends = _COLLECTIONS, (yaml.SequenceEndEvent, yaml.MappingEndEvent)
    events: Iterable[Any] = yaml.parse(text, Loader=_PARSER_LOADER)  # dispatched by class below
    try:
        for event in events:
            kind = type(event)  # dispatch on the exact class: most events are scalars
            if kind is scalar_event:
                node: Node = _scalar(event, lines)
                if event.anchor:
                    _anchor(event, node, anchors, marks)
            elif kind in starts:
                collection = _open(event, lines, len(stack))
                if event.anchor:
                    _anchor(event, collection, anchors, marks)
                stack.append((collection, None))
                continue
            elif kind in ends:
                node, pending = stack.pop()
                node.end = event.end_mark.index
                assert pending is None, "a mapping key without a value"  # the parser forbids it
            elif kind is alias_event:
                node = _alias(event, lines, anchors, stack)
                marks.append(event.start_mark.index)
                aliased += node.size
                if aliased > MAX_ALIASED_NODES:
                    raise YamlProblem(*lines.at(event.start_mark.index), _TOO_MANY_ALIASED)
            else:
                documents += kind is yaml.DocumentStartEvent
                if documents > 1:
                    raise YamlProblem(*lines.at(event.start_mark.index), _ONE_DOCUMENT)
                continue
            if not stack:
                root = node
                continue
            parent, pending = stack[-1]
            parent.size += node.size
            if parent.__class__ is Sequence:
                parent.items.append(node)
            elif pending is None:
                stack[-1] = (parent, node)
            else:
                assert isinstance(parent, Mapping)
                parent.pairs.append((pending, node))
                stack[-1] = (parent, None)
    except yaml.YAMLError as exc:
        raise _syntax_problem(exc, lines) from None
    return root, aliased > 0


def compose_part(text: str, offset: int, first_line: int, marks: list[int]) -> Node | None:
    """Return the nodes of a part of a file that starts at character `offset` of the file,
    on line `first_line`: offsets and lines as if the whole file had been composed."""
    root, _ = compose(text, first_line, marks)
    marks[:] = [mark + offset for mark in marks]
    if root is None:
        return None
    root.lines.shift = offset
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:  # an alias: the node it names is moved once
            continue
        seen.add(id(node))
        node.index += offset
        node.end += offset
        if isinstance(node, Sequence):
            stack.extend(node.items)
        elif isinstance(node, Mapping):
            stack.extend(part for pair in node.pairs for part in pair)
    return root


_TOO_MANY_ALIASED = f"aliases expand to more than {MAX_ALIASED_NODES:,} nodes"
_ONE_DOCUMENT = "only one YAML document is allowed"
_COLLECTIONS: dict[type, type[Sequence] | type[Mapping]] = {
    yaml.SequenceStartEvent: Sequence,
    yaml.MappingStartEvent: Mapping,
}


def _scalar(event: Any, lines: _Lines) -> Scalar:
    """Return the node of a scalar event, refusing tags other than YAML's own."""
    index = event.start_mark.index
    tag = event.tag
    if tag is not None and tag not in _STANDARD_TAGS:
        _check_tag(tag, lines, index)
    plain = event.style in (None, "") and bool(event.implicit and event.implicit[0])
    return Scalar(index, lines, value=event.value, plain=plain, end=event.end_mark.index)


def _open(event: Any, lines: _Lines, depth: int) -> Node:
    """Return the node a sequence or mapping starts, refusing tags and deep nesting."""
    index = event.start_mark.index
    _check_tag(event.tag, lines, index)
    if depth >= MAX_DEPTH:
        raise YamlProblem(*lines.at(index), f"nesting is deeper than {MAX_DEPTH} levels")
    return _COLLECTIONS[type(event)](index, lines)


def _anchor(event: Any, node: Node, anchors: dict[str, Node], marks: list[int]) -> None:
    """Name `node` by the event's anchor (a later anchor of the same name takes over)."""
    anchors[event.anchor] = node
    marks.append(event.start_mark.index)


def _alias(
    event: Any, lines: _Lines, anchors: dict[str, Node], stack: list[tuple[Node, Node | None]]
) -> Node:
    """Return the node an alias names, refusing unknown anchors and aliases to themselves."""
    index = event.start_mark.index
    target = anchors.get(event.anchor or "")
    if target is None:
        raise YamlProblem(*lines.at(index), f"unknown alias *{event.anchor}")
    if any(target is open_node for open_node, _ in stack):
        raise YamlProblem(*lines.at(index), f"alias *{event.anchor} refers to itself")
    return target


def _syntax_problem(exc: yaml.YAMLError, lines: _Lines) -> YamlProblem:
    """Return libyaml's syntax error as a problem at its place (and where its context began)."""
    if not isinstance(exc, yaml.MarkedYAMLError):
        return YamlProblem(1, 1, f"YAML syntax: {exc}")
    line, column = lines.position(exc.problem_mark or exc.context_mark)
    problem = exc.problem or exc.context or "invalid YAML"
    context = f" ({exc.context})" if exc.context and exc.problem else ""
    if exc.context_mark is not None and exc.problem_mark is not None:
        opened = lines.position(exc.context_mark)
        if opened[0] != line:
            context += f", which began at line {opened[0]}, column {opened[1]}"
    return YamlProblem(line, column, f"YAML syntax: {problem}{context}")


def _check_tag(tag: str | None, lines: _Lines, index: int) -> None:
    if tag is not None and tag not in _STANDARD_TAGS:
        raise YamlProblem(
            *lines.at(index), f"YAML tag {tag!r} is not allowed; write plain values without tags"
        )
