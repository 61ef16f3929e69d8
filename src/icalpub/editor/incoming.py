"""What an editor sends, checked before it is written: JSON bodies and form fields.

Pure. The registry's validator judges what an event means; this module refuses
what is not an event's value at all, naming the field, so that nothing
reaches the file as Python's text for it (`{'deep': 'y'}`, `inf`) and nothing
answers 500: lone surrogates, control characters YAML cannot hold, values
nested deeper than a text per language, non-finite or huge numbers, line
breaks in one-line fields (every break `str.splitlines` knows, U+2028 and NEL
too), and an `id` that is not text.
JSON is parsed here too, so that 5,000 nested arrays are a 400, not a
RecursionError.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

# The fields whose text may have several lines; every other text is one line.
MULTI_LINE = frozenset({"description"})
LINE_BREAK = re.compile("[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
SURROGATE = re.compile("[\ud800-\udfff]")
# What YAML cannot hold even quoted (C0 and C1 controls but tab and line breaks; U+FFFE/F).
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]")
MAX_NUMBER = 10**15  # beyond any sequence, count or interval; a larger one is not a value


class BodyError(ValueError):
    """The body is not one JSON object icalpub reads; the message says why."""


def parse_json(data: bytes) -> dict[str, Any]:
    """Return a request body's JSON object, refusing NaN and Infinity; nesting deeper than
    the parser goes is refused too (RecursionError, raised by the parser before any harm)."""
    try:
        found = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except RecursionError:
        raise BodyError("the body is nested too deeply") from None
    except ValueError as exc:
        raise BodyError(f"the body is not JSON: {exc}") from None
    if not isinstance(found, dict):
        raise BodyError("the body must be one JSON object")
    return found


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def problems(fields: Mapping[str, Any]) -> dict[str, list[str]]:
    """Return, per field, why its value cannot be written (empty when every value can)."""
    found: dict[str, list[str]] = {}
    for key, value in fields.items():
        for text in _value_problems(key, value):
            found.setdefault(key, []).append(text)
    event_id = fields.get("id")
    if event_id is not None and not isinstance(event_id, str):
        found.setdefault("id", []).append('the id must be text, e.g. "riga-marathon-2025"')
    return found


def _value_problems(key: str, value: Any) -> list[str]:
    if isinstance(key, str) and SURROGATE.search(key):
        return ["a key contains a lone surrogate, which is not text"]
    if isinstance(value, list):
        if any(isinstance(v, (list, dict)) for v in value):
            return [f"{key} must be a list of texts, not of lists or mappings"]
        return [p for v in value for p in _scalar_problems(key, v)]
    if isinstance(value, dict):
        if any(isinstance(v, (list, dict)) for v in value.values()):
            return [f"{key} must map names to texts, not to lists or mappings"]
        return [
            p for k, v in value.items() for p in _scalar_problems(key, k) + _scalar_problems(key, v)
        ]
    return _scalar_problems(key, value)


def _scalar_problems(key: str, value: Any) -> list[str]:
    if value is None or isinstance(value, bool):
        return []
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return [f"{key} must be a finite number"]
        if abs(value) > MAX_NUMBER:
            return [f"{key} is too large a number"]
        return []
    if not isinstance(value, str):
        return [f"{key} must be text"]
    if SURROGATE.search(value):
        return [f"{key} contains a lone surrogate, which is not text"]
    control = CONTROL.search(value)
    if control:
        return [f"{key} contains the control character U+{ord(control.group()):04X}; delete it"]
    # One line break at the end is what a literal block (`|`) holds: GET gives it, PUT takes it.
    if key not in MULTI_LINE and LINE_BREAK.search(value.removesuffix("\n")):
        return [f"{key} must be one line; join the lines into one"]
    return []
