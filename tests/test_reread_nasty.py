"""Reading again from the last read equals a whole read, under edits nastier than
tests/test_reread.py's: whole items moved, swapped, duplicated and deleted (the
last one too), characters a word processor or another editor pastes (no-break
space, BOM, line and paragraph separators, tabs), tags, directives, explicit
keys, block scalars with indicators, and keys at the top level written between
items — each read with the last version's state against a read with nothing known.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icalpub.editor import yamltext

from .test_reread import REGISTRY, again, assert_same, document_facts, whole

NASTY = st.sampled_from(
    [
        "\u00a0",
        "\u2028",
        "\u2029",
        "\u200b",
        "\t",
        "\r\n",
        "\n",
        "\n  ",
        "  - ",
        "- ",
        "? ",
        "!!str ",
        "!!binary ",
        "!t ",
        "%YAML 1.1\n",
        "--- ",
        "---\n",
        "&x ",
        "*x",
        "|+\n",
        "|2-\n",
        ">\n",
        "'",
        '"',
        "\\",
        "#",
        " #",
        "{",
        "[",
        ",",
        "title: \n",
        "topics:\n  x: {title: {lv: X}}\n",
        "events:\n",
        "    description: |\n\n     odd\n   indent\n",
        "  - {id: flow, title: 'a\n     b', start: 2024-01-01}\n",
        "  - id: jauns\n    title: Jauns\n    start: 2024-01-02\n",
    ]
)


def lines_of_items(data: bytes) -> list[tuple[int, int]]:
    starts = [i + 1 for i in range(len(data)) if data.startswith(b"\n  - ", i)]
    end = len(data)
    return [(s, starts[n + 1] if n + 1 < len(starts) else end) for n, s in enumerate(starts)]


def move(data: bytes, edit: tuple[str, int, int]) -> bytes:
    """Move, swap, duplicate or delete whole items (what editors do with lines)."""
    kind, a, b = edit
    items = lines_of_items(data)
    if len(items) < 2 and kind.startswith("delete"):
        return data  # emptying the list: test_reread_attack.py (a known failure)
    if not items:
        return data
    first, second = items[a % len(items)], items[b % len(items)]
    text = data[first[0] : first[1]]
    if kind == "delete":
        return data[: first[0]] + data[first[1] :]
    if kind == "delete-last":
        last = items[-1]
        return data[: last[0]] + data[last[1] :]
    if kind == "to-end":
        rest = data[: first[0]] + data[first[1] :]
        return rest + (b"" if rest.endswith(b"\n") else b"\n") + text
    if kind == "duplicate":
        return data[: second[0]] + text + data[second[0] :]
    if first[0] > second[0]:
        first, second = second, first
    if first == second:
        return data
    one, two = data[first[0] : first[1]], data[second[0] : second[1]]
    return data[: first[0]] + two + data[first[1] : second[0]] + one + data[second[1] :]


def insert(data: bytes, edit: tuple[float, int, list[str]]) -> bytes:
    where, removed, pieces = edit
    at = int(where * len(data))
    while 0 < at < len(data) and (data[at] & 0xC0) == 0x80:
        at -= 1
    return data[:at] + "".join(pieces).encode() + data[at + removed :]


def at_line_start(data: bytes, edit: tuple[int, list[str]]) -> bytes:
    line, pieces = edit
    starts = [0] + [i + 1 for i in range(len(data)) if data[i : i + 1] == b"\n"]
    at = starts[line % len(starts)]
    return data[:at] + "".join(pieces).encode() + data[at:]


EDITS = st.lists(
    st.one_of(
        st.tuples(
            st.just("move"),
            st.tuples(
                st.sampled_from(["delete", "delete-last", "to-end", "duplicate", "swap"]),
                st.integers(0, 9),
                st.integers(0, 9),
            ),
        ),
        st.tuples(
            st.just("insert"),
            st.tuples(st.floats(0, 1), st.integers(0, 12), st.lists(NASTY, max_size=3)),
        ),
        st.tuples(st.just("line"), st.tuples(st.integers(0, 60), st.lists(NASTY, max_size=3))),
    ),
    min_size=1,
    max_size=6,
)


def edited(data: bytes, kind: str, edit: Any) -> bytes:
    if kind == "move":
        return move(data, edit)
    return insert(data, edit) if kind == "insert" else at_line_start(data, edit)


def start(form: str) -> bytes:
    data = REGISTRY.encode()
    if form == "crlf":
        return data.replace(b"\n", b"\r\n")
    if form == "bom":
        return b"\xef\xbb\xbf" + data
    if form == "comment-after":
        return data + b"# the end\n"
    return data.replace(b"events:\n", b"events:\n\n  # first\n\n") if form == "spaced" else data


FORMS = st.sampled_from(["lf", "crlf", "bom", "comment-after", "spaced"])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FORMS, EDITS)
def test_nasty_hand_edits_read_again_equal_the_whole_read(form: str, edits: list[Any]) -> None:
    data = start(form)
    known = whole(data).reusable
    for kind, edit in edits:
        data = edited(data, kind, edit)
        found, expected = again(data, known), whole(data)
        assert_same(found, expected)
        known = found.reusable


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FORMS.filter(lambda f: f != "bom"), EDITS)
def test_nasty_hand_edits_of_the_editors_document_equal_the_whole_read(
    form: str, edits: list[Any]
) -> None:
    text = start(form).decode()
    previous = yamltext.read(text)
    for kind, edit in edits:
        text = edited(text.encode(), kind, edit).decode("utf-8", "replace")
        try:
            expected = yamltext.read(text)
        except yamltext.EditError as error:
            with pytest.raises(yamltext.EditError) as raised:
                yamltext.read(text, previous)
            assert str(raised.value) == str(error)
            continue
        found = yamltext.read(text, previous)
        assert document_facts(found) == document_facts(expected)
        previous = found
