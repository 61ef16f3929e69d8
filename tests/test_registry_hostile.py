"""Hostile registry files are refused cleanly, with a position and without a traceback."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from icalpub.yamlsafe import MAX_BYTES

from .conftest import HEADER
from .reading import parse, read

EVENT = "  - id: a\n    title: A\n    start: 2022-01-12\n"


def only_problem(data: bytes) -> str:
    registry, problems = parse(data, "r.yaml")
    assert registry is None
    assert len(problems) == 1
    return str(problems[0])


def test_billion_laughs_stops_at_its_node_bound_in_little_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev, name = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    data = ("\n".join(lines) + "\n").encode()
    from icalpub import yamlsafe

    # Count the nodes the composer makes: the bound stops it, not the file's end.
    made = 0
    real = yamlsafe.Scalar.__init__

    def counting(self: yamlsafe.Scalar, *args: object, **kwargs: object) -> None:
        nonlocal made
        made += 1
        real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(yamlsafe.Scalar, "__init__", counting)
    tracemalloc.start()
    message = only_problem(data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert message.startswith("r.yaml:")
    assert "aliases expand to more than 100,000 nodes" in message
    assert "lol" not in message
    assert made < 1_000  # the aliases are counted, never expanded into 9**9 nodes
    assert peak < 50 * 1024 * 1024


def test_ten_thousand_levels_of_nesting_are_refused() -> None:
    data = b"calendar: " + b"[" * 10_000 + b"]" * 10_000 + b"\n"
    message = only_problem(data)
    assert message.startswith("r.yaml:1:")
    assert "nesting" in message


def test_file_over_16_mib_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    from icalpub import registry

    def never(*args: object) -> object:
        raise AssertionError("the YAML parser was called")

    monkeypatch.setattr(registry, "compose", never)
    data = b"#" * (MAX_BYTES + 1)
    message = only_problem(data)
    assert message == (
        "r.yaml:1:1: error: the file is 16,777,217 bytes; the limit is 16,777,216 bytes (16 MiB)"
    )


def test_read_stops_reading_a_huge_file(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with path.open("wb") as handle:
        handle.truncate(MAX_BYTES * 4)
    registry, problems = read(path)
    assert registry is None
    assert "the file is 16,777,217 bytes" in str(problems[0])


def test_invalid_utf8_names_the_byte_offset_and_line() -> None:
    data = (HEADER + EVENT).encode().replace(b"title: A", b"title: A\xff")
    offset = data.index(b"\xff")
    assert only_problem(data) == (
        f"r.yaml:11:13: error: invalid UTF-8: byte 0xff at byte offset {offset}"
    )


def test_python_tags_are_refused_and_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    data = (HEADER + f"  - !!python/object/apply:os.system ['touch {marker}']\n").encode()
    message = only_problem(data)
    assert message == (
        "r.yaml:10:5: error: YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is "
        "not allowed; write plain values without tags"
    )
    assert not marker.exists()


def test_tab_indentation_is_a_located_syntax_error() -> None:
    data = (HEADER + "  - id: a\n\ttitle: A\n").encode()
    message = only_problem(data)
    assert message.startswith(
        "r.yaml:11:1: error: YAML syntax: found a tab character that violates indentation"
    )


def test_nul_byte_is_a_located_syntax_error() -> None:
    data = (HEADER + EVENT).encode().replace(b"title: A", b"title: A\x00")
    assert only_problem(data) == (
        "r.yaml:11:13: error: the file contains the control character U+0000, which YAML "
        "does not allow; delete it"
    )


def test_utf8_bom_and_crlf_line_ends_are_accepted() -> None:
    data = b"\xef\xbb\xbf" + (HEADER + EVENT).replace("\n", "\r\n").encode()
    registry, problems = parse(data)
    assert problems == []
    assert registry is not None
    assert registry.events[0].title == "A"


def test_duplicate_keys_are_an_error_not_silently_last_wins() -> None:
    data = (HEADER + EVENT + "    title: B\n").encode()
    assert only_problem(data) == (
        "r.yaml:13:5: error: 'title' is given twice in an event; the first is on line 11"
    )


def test_two_documents_are_refused() -> None:
    data = (HEADER + EVENT + "---\nx: 1\n").encode()
    assert only_problem(data) == "r.yaml:13:1: error: only one YAML document is allowed"


def test_recursive_alias_is_refused() -> None:
    assert only_problem(b"calendar: &a [*a]\n") == "r.yaml:1:15: error: alias *a refers to itself"


def test_empty_file_says_so() -> None:
    assert only_problem(b"") == "r.yaml:1:1: error: the registry is empty; start with 'calendar:'"
