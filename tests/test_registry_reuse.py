"""A reload reuses the events whose text did not change: the result is what a fresh read gives."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icalpub import registry as registry_module
from icalpub.registry import _parse
from icalpub.reread import Known

from .conftest import SHIPPED

TEXT = SHIPPED.read_text("utf-8")
LINES = TEXT.splitlines(keepends=True)
EDITS = st.sampled_from(
    [
        "",  # delete the line
        "\n",
        "# a comment\n",
        "    title: Jauns nosaukums\n",
        "    updated: 2000-01-01\n",  # a warning (before published) or an error
        "  - id: frem-ii-macibas-2018-09\n    title: Dublikāts\n    start: 2024-01-01\n",
        "  timezone: America/New_York\n",
        "    topics: [training]\n",
        "  training: {title: Apmācības}\n",
        "x: &a {id: anchored, title: A, start: 2024-01-01}\n",
        "    location: *a\n",
        "      - id: indented\n",
    ]
)


@given(st.lists(st.tuples(st.integers(0, len(LINES) - 1), EDITS), min_size=1, max_size=3))
@settings(max_examples=300, deadline=None)
def test_reusing_events_gives_exactly_what_a_fresh_read_gives(
    edits: list[tuple[int, str]],
) -> None:
    lines = list(LINES)
    for at, replacement in edits:
        lines[min(at, len(lines) - 1)] = replacement
    edited = "".join(lines).encode()
    _, _, known = _parse(TEXT.encode(), "events.yaml", None)
    reused = _parse(edited, "events.yaml", known)
    fresh = _parse(edited, "events.yaml", None)
    assert reused[0] == fresh[0]  # events compare with their line and column
    assert reused[1] == fresh[1]
    assert reused[2].shape == fresh[2].shape  # where the next read may start again


def test_an_edit_builds_only_the_events_it_touched(monkeypatch: pytest.MonkeyPatch) -> None:
    # Events by their text's key alone, as when an edit also touches the settings
    # (an edit inside the events list alone is read as a few items: tests/test_reread.py).
    known = Known(_parse(TEXT.encode(), "events.yaml", None)[2].events)
    assert len(known.events) == 16  # all but the last, whose text has no known end
    built: list[str] = []
    real = registry_module._Reader.event

    def counting(self, node, zone, declared):  # type: ignore[no-untyped-def]
        event = real(self, node, zone, declared)
        built.append(event.id if event else "?")
        return event

    monkeypatch.setattr(registry_module._Reader, "event", counting)
    edited = TEXT.replace("- id: es-diena-2019\n", "- id: es-diena-2019\n    # edited\n", 1)
    registry, _, _ = _parse(("# top\n" + edited).encode(), "events.yaml", known)
    assert registry is not None
    assert sorted(built) == sorted({"es-diena-2019", registry.events[-1].id})
    fresh, _, _ = _parse(("# top\n" + edited).encode(), "events.yaml", None)
    assert registry == fresh  # every reused event moved down a line with the text

    # An edit in place moves nothing: the other events are the very same objects.
    built.clear()
    in_place = TEXT.replace("padomes konference", "padomes konference (2.)", 1)
    again, _, _ = _parse(in_place.encode(), "events.yaml", known)
    assert again is not None
    assert sorted(built) == sorted({"baltijas-juras-valstu-konference-2020", again.events[-1].id})
    assert (
        sum(e is known_event for e in again.events for known_event in known.events.values()) == 15
    )


def test_a_registry_with_aliases_reuses_nothing() -> None:
    line = '    contact: {name: Iekšlietu ministrija, phone: "67829674"}\n'
    aliased = TEXT.replace(line, line.replace("contact: ", "contact: &c "), 1)
    aliased = aliased.replace(line, "    contact: *c\n", 1)
    registry, _, known = _parse(aliased.encode(), "events.yaml", None)
    assert registry is not None  # valid, and one event's contact is another's text
    assert known == Known()


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("  timezone: Europe/Riga\n", "  timezone: America/New_York\n"),  # the default zone
        ("  training:", "  trainings:"),  # the declared topics
    ],
)
def test_what_events_depend_on_outside_their_text_is_part_of_the_key(
    before: str, after: str
) -> None:
    _, _, known = _parse(TEXT.encode(), "events.yaml", None)
    edited = TEXT.replace(before, after, 1).encode()
    reused, fresh = _parse(edited, "events.yaml", known), _parse(edited, "events.yaml", None)
    assert reused[:2] == fresh[:2]
    assert reused[2].shape == fresh[2].shape


def test_every_node_knows_where_its_text_ends() -> None:
    """The editor's minimal edit needs each field's span: start and end offsets."""
    from icalpub.yamlsafe import Mapping, Scalar, Sequence, compose

    text = (
        "events:\n"
        "  - id: a   # first\n"
        "    title: 'Quoted: yes'\n"
        "    topics: [x, y]\n"
        "    where: {city: Rīga}\n"
        "  - id: b\n"
    )
    root, _ = compose(text)
    assert isinstance(root, Mapping)
    events = root.pairs[0][1]
    assert isinstance(events, Sequence)
    first = events.items[0]
    assert isinstance(first, Mapping)
    spans = {
        key.value: text[value.index : value.end]
        for key, value in first.pairs
        if isinstance(key, Scalar)
    }
    assert spans == {
        "id": "a",
        "title": "'Quoted: yes'",
        "topics": "[x, y]",
        "where": "{city: Rīga}",
    }
    assert text[first.index : first.end].startswith("id: a")
    assert text[first.index : first.end].rstrip().endswith("{city: Rīga}")
