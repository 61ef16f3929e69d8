"""Values as YAML text: scalars plain when every YAML tool reads them back the same,
quoted otherwise; lists and mappings in the style the old value had.

Pure: values in, text out. A value is written so that icalpub's reader and
any YAML 1.1 tool (PyYAML and the tools in an editor's chain) read back the
same text; `normalize` turns what a form or the API sends into such values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping as AnyMapping
from collections.abc import Sequence as AnySequence
from typing import Any

import yaml

from ...errors import YamlProblem
from ...yamlsafe import Mapping, Node, Scalar, child, compose
from .document import Document, EditError, Fields, Value

_ESCAPES = {"\x85": "\\N", "\u2028": "\\L", "\u2029": "\\P"}


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


def gap(rendered: str) -> str:
    """Return a value as it follows its key's colon: after a space, or on the next lines."""
    return rendered if rendered.startswith(("\n", "\r")) else " " + rendered


def render_nested(value: Any) -> str:
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(f"{_scalar(k, True)}: {_scalar(v, True)}" for k, v in value.items())
            + "}"
        )
    return _scalar(str(value), True)


def render(
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


# Fields (and `repeat`'s keys) whose values are dates, numbers or a boolean (`draft`):
# written plain as before.
TYPED = frozenset(
    {"start", "end", "except", "published", "updated", "sequence", "repeat", "draft", "publish_at"}
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
    found = child(node, "k")
    return isinstance(found, Scalar) and found.plain and not found.is_null and found.value == value


def _yaml11_reads_as_meant(value: str, typed: bool) -> bool:
    """Return whether a YAML 1.1 reader takes `value`, written plain, as text (or, in a
    `typed` field, as the date or number it is)."""
    if value in _ONE_LETTER_BOOLEANS:
        return False
    tag = _YAML11.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    if typed and value in ("true", "false"):  # `draft: true`, the boolean every reader sees
        return True
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
