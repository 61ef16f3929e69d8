"""What a reload reads again from the last read must be what a cold read of the file gives.

Attacks on the incremental read (`reread.read_again`): edits real people make
whose small piece reads differently on its own than the whole file does. The
ones marked xfail fail on main today (strict: they turn red once fixed, so the
marker must then go).
"""

from __future__ import annotations

import datetime as dt

import pytest

from icalpub.editor import yamltext
from icalpub.registry import Raw, Source, interpret
from icalpub.yamlsafe import MAX_BYTES

from .test_reread import REGISTRY

MODIFIED = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)


def whole(data: bytes) -> Source:
    return interpret("events.yaml", Raw(data, None, MODIFIED))


def reloaded(before: bytes, after: bytes) -> Source:
    first = whole(before)
    assert first.problems == [] and first.reusable.shape is not None
    return interpret("events.yaml", Raw(after, None, MODIFIED), first.reusable)


def test_an_edit_that_takes_the_file_past_the_size_limit_is_refused_on_reload() -> None:
    base = REGISTRY.encode()
    before = b"# " + b"x" * (MAX_BYTES - len(base) - 5) + b"\n" + base  # a long comment on top
    after = before.replace("title: Tiešsaistes".encode(), "title: Ilgs tiešsaistes".encode())
    assert len(before) <= MAX_BYTES < len(after)
    assert whole(after).registry is None
    assert "16 MiB" in whole(after).problems[0].message
    assert reloaded(before, after).problems == whole(after).problems


def test_a_byte_order_mark_pasted_before_the_first_event_is_refused_on_reload() -> None:
    # `cat head.yaml events-from-notepad.yaml > events.yaml`: the second file's BOM lands
    # at the start of the first event's line, in the middle of the file.
    before = REGISTRY.encode()
    after = before.replace(b"  - id: macibas-2018", b"\xef\xbb\xbf  - id: macibas-2018")
    expected = whole(after)
    assert expected.registry is None  # validate and a cold build refuse it
    found = reloaded(before, after)
    assert found.problems == expected.problems
    assert found.registry is None


def test_a_byte_order_mark_mid_file_is_refused_by_the_editors_reread_as_by_a_whole_read() -> None:
    after = REGISTRY.replace("  - id: macibas-2018", "\ufeff  - id: macibas-2018")
    with pytest.raises(yamltext.EditError) as cold:
        yamltext.read(after)
    with pytest.raises(yamltext.EditError) as again:
        yamltext.read(after, yamltext.read(REGISTRY))
    assert str(again.value) == str(cold.value)


@pytest.mark.parametrize(
    "after",
    [
        REGISTRY.replace("  - id: macibas-2018", "\ufeff  # pasted\n  - id: macibas-2018"),
        REGISTRY
        + "  # trailing comment\n  - id: beigas\n    title: Beigas\n    start: 2024-02-02\n",
        REGISTRY.replace("title: Pēdējais", 'title: "Pēdējais\n      otrā rinda"'),
        REGISTRY.replace("    title: Pēdējais\n", "    title: |2\n       Pēdējais\n"),
        REGISTRY.replace("title: Tiešsaistes seminārs", "title: Tiešsaistes\u00a0seminārs\t"),
    ],
    ids=[
        "bom-before-comment",
        "append-after-comment",
        "multiline-quoted",
        "indent-indicator",
        "nbsp-tab",
    ],
)
def test_hand_edits_reloaded_equal_a_cold_read(after: str) -> None:
    found, expected = reloaded(REGISTRY.encode(), after.encode()), whole(after.encode())
    assert found.problems == expected.problems
    assert found.registry == expected.registry
    if expected.registry is not None:
        assert [(e.id, e.line, e.column) for e in found.registry.events] == [  # type: ignore[union-attr]
            (e.id, e.line, e.column) for e in expected.registry.events
        ]


def test_events_added_to_a_list_emptied_by_hand_are_served_on_reload() -> None:
    # Seen live: `icalpub serve` stayed at 0 events ("internal error while compiling")
    # for every later version, while a cold build published them.
    head = REGISTRY.split("events:\n")[0] + "events:\n"
    one = (head + "  - id: a\n    title: A\n    start: 2024-01-02\n").encode()
    emptied = interpret("events.yaml", Raw(head.encode(), None, MODIFIED), whole(one).reusable)
    assert emptied.problems == [] and emptied.registry is not None
    refilled = (head + "  - id: b\n    title: B\n    start: 2024-03-04\n").encode()
    found = interpret("events.yaml", Raw(refilled, None, MODIFIED), emptied.reusable)
    assert found.registry == whole(refilled).registry


def test_switching_the_only_language_reads_every_event_again() -> None:
    before = b"""calendar:
  title: K
  base_url: https://calendar.example.lv/
  timezone: Europe/Riga
  languages: [lv]
events:
  - id: a
    title: {lv: A}
    start: 2024-01-02
  - id: b
    title: B
    start: 2024-01-03
"""
    after = before.replace(b"languages: [lv]", b"languages: [en]")
    expected = whole(after)
    assert expected.registry is None  # 'a' has no English title: validate and build refuse
    found = reloaded(before, after)
    assert found.problems == expected.problems
    assert found.registry is None
