"""Reading again only the items an edit touched gives exactly what reading the whole file gives.

A reload or an editor's save hands the last read's `Known` to the reader; an
edit inside the events list is then read as a few items. Hypothesis edits a
registry at random — any characters anywhere, breaking it, adding top-level
keys, duplicating ids, deleting and adding items, in LF, CRLF or with a byte
order mark — one version after another, and each read with the last read's
`Known` must equal a read of the whole file with nothing known: the same
registry (every event, its line and column), the same problems, the same shape.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icalpub import reread
from icalpub.editor import yamltext
from icalpub.registry import Raw, Source, interpret

MODIFIED = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
REGISTRY = """\
calendar:
  title: Notikumu kalendārs
  base_url: https://calendar.example.lv/
  timezone: Europe/Riga
  languages: [lv, en]
topics:
  training: {title: {lv: Mācības, en: Training}}
  project: {title: {lv: Projekti, en: Projects}}
events:
  - id: macibas-2018
    title: {lv: Mācības, en: Training}
    start: 2018-09-25
    end: 2018-09-26
    topics: [training, project]
    description: |
      Šā gada 25. septembrī Rīgā notiek mācības.

      Otrā rindkopa ar **Markdown**.
  # a comment between events
  - id: darba-grupa-2022
    title: "Darba grupas sēde: 'ceturtā'"
    start: 2022-01-12 10:00
    end: 2022-01-12 12:30
    repeat: FREQ=MONTHLY;BYDAY=2WE;COUNT=6
    except: [2022-03-09]
    topics: [project]
  - {id: flow-2023, title: Flow item, start: 2023-05-01}
  - id: tiessaiste-2021
    title: Tiešsaistes seminārs
    start: 2021-05-20T10:00:00+03:00
    end: 2021-05-20T12:00:00+03:00
    summary: >
      Folded
      lead.
    contact: {name: Iekšlietu ministrija, phone: "67829674"}
  - id: pedejais
    title: Pēdējais
    start: 2023-10-18
"""
PIECES = st.sampled_from(
    [
        "a",
        "ā",
        " ",
        "  ",
        "\n",
        "\n  ",
        "\n    ",
        "-",
        "- ",
        ":",
        ": ",
        "'",
        '"',
        "#",
        "|",
        "{",
        "}",
        "[",
        "]",
        "&a ",
        "*a",
        "\t",
        "---\n",
        "...\n",
        "\r",
        "\u0085",
        "\n  - id: jauns\n    title: Jauns\n    start: 2024-01-02\n",
        "  - id: macibas-2018\n    title: Divreiz\n    start: 2024-01-02\n",
        "title: X\n",
        "    location: Rīga\n",
        "topics:\n",
        "end: 2017-01-01\n",
    ]
)
EDIT = st.tuples(st.floats(0, 1), st.integers(0, 40), st.lists(PIECES, max_size=4))
AT_ITEM = st.tuples(st.integers(0, 10), st.integers(0, 3), st.lists(PIECES, max_size=3))
RETITLE = st.tuples(st.integers(0, 10), st.text("abcāē :#-'", min_size=1, max_size=12))


def whole(data: bytes) -> Source:
    return interpret("events.yaml", Raw(data, None, MODIFIED))


def again(data: bytes, known: reread.Known) -> Source:
    return interpret("events.yaml", Raw(data, None, MODIFIED), known)


def assert_same(found: Source, expected: Source) -> None:
    assert found.problems == expected.problems
    assert found.registry == expected.registry
    if found.registry is not None:
        assert [(e.id, e.line, e.column) for e in found.registry.events] == [
            (e.id, e.line, e.column) for e in expected.registry.events
        ]
    assert found.reusable.shape == expected.reusable.shape


def edit_anywhere(data: bytes, edit: tuple[float, int, list[str]]) -> bytes:
    where, removed, pieces = edit
    at = int(where * len(data))
    while 0 < at < len(data) and (data[at] & 0xC0) == 0x80:  # within a UTF-8 character: its start
        at -= 1
    return data[:at] + "".join(pieces).encode() + data[at + removed :]


def retitle(data: bytes, edit: tuple[int, str]) -> bytes:
    """Set an event's title line to a new one-line title, quoted (what the editor does most)."""
    which, title = edit
    lines = data.split(b"\n")
    titles = [n for n, line in enumerate(lines) if line.startswith(b"    title: ")]
    if titles:
        chosen = titles[which % len(titles)]
        end = b"\r" if lines[chosen].endswith(b"\r") else b""
        lines[chosen] = b"    title: " + repr(title).encode() + end
    return b"\n".join(lines)


def edited(data: bytes, kind: str, edit: tuple) -> bytes:  # type: ignore[type-arg]
    if kind == "any":
        return edit_anywhere(data, edit)
    return edit_in_item(data, edit) if kind == "item" else retitle(data, edit)


EDITS = st.lists(
    st.one_of(
        EDIT.map(lambda e: ("any", e)),
        AT_ITEM.map(lambda e: ("item", e)),
        RETITLE.map(lambda e: ("title", e)),
    ),
    min_size=1,
    max_size=6,
)


def edit_in_item(data: bytes, edit: tuple[int, int, list[str]]) -> bytes:
    """Edit at an item's start or one of its first lines (where editors edit)."""
    item, line, pieces = edit
    starts = [i for i in range(len(data)) if data.startswith(b"\n  - ", i)]
    if not starts:
        return data + "".join(pieces).encode()
    at = starts[item % len(starts)] + 1
    for _ in range(line):
        at = data.find(b"\n", at) + 1 or len(data)
    return data[:at] + "".join(pieces).encode() + data[at:]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["lf", "crlf", "bom"]),
    EDITS,
)
def test_each_version_read_again_equals_the_whole_read(
    form: str,
    edits: list[tuple[str, tuple]],  # type: ignore[type-arg]
) -> None:
    data = REGISTRY.encode()
    if form == "crlf":
        data = data.replace(b"\n", b"\r\n")
    elif form == "bom":
        data = b"\xef\xbb\xbf" + data
    known = whole(data).reusable
    for kind, edit in edits:
        data = edited(data, kind, edit)
        found, expected = again(data, known), whole(data)
        assert_same(found, expected)
        known = found.reusable


def test_an_edit_inside_one_event_is_read_as_a_few_items() -> None:
    data = REGISTRY.encode()
    known = whole(data).reusable
    assert known.shape is not None
    edited = data.replace(b"title: Tie\xc5\xa1saistes", b"title: Jauns tie\xc5\xa1saistes")
    calls: list[int] = []

    def read(items, registry):  # type: ignore[no-untyped-def]
        calls.append(len(items.items))
        from icalpub.registry import _read_items

        return _read_items("events.yaml", items, registry)

    found = reread.read_again(known, edited, read)
    assert found is not None
    registry, after = found
    assert calls == [3]  # the edited item and one on either side, not the five
    assert registry.event("tiessaiste-2021").title == "Jauns tiešsaistes seminārs"
    assert registry == whole(edited).registry
    assert after.shape == whole(edited).reusable.shape


def test_a_change_to_the_settings_or_a_duplicate_id_is_read_whole() -> None:
    data = REGISTRY.encode()
    known = whole(data).reusable

    def never(items, registry):  # type: ignore[no-untyped-def]
        raise AssertionError("read as items")

    retitled = data.replace(b"title: Notikumu", b"title: Jauns notikumu")
    assert reread.read_again(known, retitled, never) is None
    duplicate = data.replace(b"id: pedejais", b"id: flow-2023")
    assert again(duplicate, known).problems == whole(duplicate).problems
    assert any("used twice" in p.message for p in again(duplicate, known).problems)


def test_a_registry_with_an_alias_or_a_flow_list_keeps_no_shape() -> None:
    aliased = REGISTRY.replace("topics: [project]\n", "topics: &t [project]\n").replace(
        "start: 2023-10-18\n", "start: 2023-10-18\n    topics: *t\n"
    )
    assert whole(aliased.encode()).registry is not None
    assert whole(aliased.encode()).reusable.shape is None
    flow = REGISTRY.split("events:\n")[0] + "events: [{id: a, title: A, start: 2024-01-01}]\n"
    assert whole(flow.encode()).registry is not None
    assert whole(flow.encode()).reusable.shape is None


def document_facts(document: Any) -> list[tuple[object, ...]]:
    """Everything the editor reads from a document: items, their fields' nodes and values."""
    text = document.text

    def end(node: Any) -> int:  # where its text ends (a block's end mark is the next token's)
        return yamltext.content_end(text, node)  # type: ignore[no-any-return]

    facts: list[tuple[object, ...]] = [(document.newline, document.events_end)]
    for item in document.items:
        facts.append((item.id, item.start, item.end, item.shared, item.version))
        facts.append((item.node.index, end(item.node), item.node.line, item.node.column))
        facts.append(tuple(document.values(item).items()))
        for key, value in item.fields.values():
            facts.append((key.index, end(key), key.line, value.index, end(value), value.column))
    root, events = document.root, document.events
    facts.append((root.index, events.index, events.end, len(events.items)))
    return facts


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["lf", "crlf"]),
    EDITS,
)
def test_the_editors_document_read_again_equals_the_whole_read(
    form: str,
    edits: list[tuple[str, tuple]],  # type: ignore[type-arg]
) -> None:
    text = REGISTRY.replace("\n", "\r\n") if form == "crlf" else REGISTRY
    previous = yamltext.read(text)
    for kind, edit in edits:
        data = text.encode()
        data = edited(data, kind, edit)
        text = data.decode("utf-8", "replace")
        try:
            expected = yamltext.read(text)
        except yamltext.EditError:
            with pytest.raises(yamltext.EditError):
                yamltext.read(text, previous)
            continue
        found = yamltext.read(text, previous)
        assert document_facts(found) == document_facts(expected)
        previous = found


def test_an_edit_inside_one_event_reads_three_items_of_the_document(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from icalpub.editor.yamltext import document as module

    previous = yamltext.read(REGISTRY)
    composed: list[str] = []
    real = module.compose_part

    def counting(text: str, *args: Any) -> Any:
        composed.append(text)
        return real(text, *args)

    monkeypatch.setattr(module, "compose_part", counting)
    edited = REGISTRY.replace("title: Tiešsaistes", "title: Jauns tiešsaistes")
    found = yamltext.read(edited, previous)
    assert len(composed) == 1 and composed[0].count("\n  - id: ") == 3 - 1
    assert found.items[:2] == previous.items[:2]  # before the change: the very same items
    assert found.values(found.item("tiessaiste-2021"))["title"] == "Jauns tiešsaistes seminārs"
    assert document_facts(found) == document_facts(yamltext.read(edited))


def test_the_ledger_is_parsed_again_only_when_its_bytes_changed() -> None:
    data = REGISTRY.encode()
    ledger = b'{"version": 1, "events": {}}\n'
    first = interpret("events.yaml", Raw(data, ledger, MODIFIED))
    edited = data.replace(b"title: Tie\xc5\xa1saistes", b"title: Jauns tie\xc5\xa1saistes")
    same = interpret("events.yaml", Raw(edited, ledger, MODIFIED), first.reusable)
    assert same.ledger is first.ledger  # the registry changed, the ledger did not
    other = interpret("events.yaml", Raw(edited, ledger + b" ", MODIFIED), same.reusable)
    assert other.ledger is not first.ledger and other.ledger == first.ledger
    assert same.reusable.ledger is not None and same.reusable.ledger[1] is first.ledger
