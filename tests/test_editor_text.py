"""The editor's text edits: every byte outside the edited event (and field) stays as it was."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from icalpub.editor import yamltext
from icalpub.editor.yamltext import EditError

from .conftest import HEADER, SHIPPED
from .editing import changed_lines
from .reading import parse

TEXT = SHIPPED.read_text("utf-8")


def edit(text: str, event_id: str, **changes: object) -> str:
    document = yamltext.read(text)
    item = document.item(event_id)
    assert item is not None
    fields: dict[str, object] = dict(document.values(item))
    for key, value in changes.items():
        if value is None:
            fields.pop(key, None)
        else:
            fields[key] = value
    return yamltext.replace(document, event_id, fields)


@pytest.mark.parametrize("event_id", [i.id for i in yamltext.read(TEXT).items])
def test_changing_the_title_of_any_shipped_event_changes_exactly_its_title_line(
    event_id: str,
) -> None:
    document = yamltext.read(TEXT)
    item = document.item(event_id)
    assert item is not None
    title = document.values(item)["title"]
    if isinstance(title, dict):  # one text per language: only the Latvian one changes
        after = edit(TEXT, event_id, title={**title, "lv": "Jauns nosaukums: ar kolu"})
        key = "lv:"
    else:
        after = edit(TEXT, event_id, title="Jauns nosaukums: ar kolu")
        key = "title:"
    removed, added = changed_lines(TEXT, after)
    assert len(removed) == 1
    assert removed[0].strip().startswith(key)
    assert added == [removed[0].split(key)[0] + f'{key} "Jauns nosaukums: ar kolu"\n']
    registry = parse(after.encode())[0]
    assert registry is not None
    event = registry.event(event_id)
    assert event is not None and event.title == "Jauns nosaukums: ar kolu"
    if isinstance(title, dict):
        assert event.translation("en", "title") == title["en"]


def test_unchanged_fields_keep_their_text_quoting_and_comments() -> None:
    text = HEADER + (
        "  - id: a\n"
        "    # the title as the ministry spells it\n"
        "    title: 'Quoted  title'   # kept\n"
        "    start: 2024-05-01\n"
        '    "location": "Rīga"\n'
        "\n"
        "  - id: b\n"
        "    title: B\n"
        "    start: 2024-06-01\n"
    )
    after = edit(text, "a", start="2024-05-02")
    assert changed_lines(text, after) == (
        ["    start: 2024-05-01\n"],
        ["    start: 2024-05-02\n"],
    )


def test_a_flow_mapping_event_is_edited_in_place() -> None:
    text = HEADER + (
        "  - {id: a, title: A, start: 2024-05-01}  # one line\n"
        "  - {id: b, title: B, start: 2024-06-01}\n"
    )
    after = edit(text, "a", title="Ā, with a comma", location="Rīga")
    assert changed_lines(text, after) == (
        ["  - {id: a, title: A, start: 2024-05-01}  # one line\n"],
        ['  - {id: a, title: "Ā, with a comma", start: 2024-05-01, location: Rīga}  # one line\n'],
    )
    assert parse(after.encode())[0] is not None


def test_crlf_files_keep_crlf_and_new_lines_use_it() -> None:
    text = (HEADER + "  - id: a\n    title: A\n    start: 2024-05-01\n").replace("\n", "\r\n")
    after = edit(text, "a", title="B", location="Rīga")
    assert "\n" not in after.replace("\r\n", "")
    assert changed_lines(text, after) == (
        ["    title: A\r\n"],
        ["    title: B\r\n", "    location: Rīga\r\n"],
    )


def test_a_new_field_goes_after_the_field_before_it_in_spec_order() -> None:
    text = HEADER + "  - id: a\n    title: A\n    start: 2024-05-01\n    topics: [training]\n"
    after = edit(text, "a", end="2024-05-02", summary="Short")
    assert after.endswith(
        "    start: 2024-05-01\n    end: 2024-05-02\n    topics: [training]\n    summary: Short\n"
    )


def test_removing_a_field_removes_only_its_lines() -> None:
    text = HEADER + (
        "  - id: a\n    title: A\n    start: 2024-05-01\n"
        "    description: |\n      Line one\n\n      Line two\n    location: Rīga\n"
    )
    after = edit(text, "a", description=None)
    removed, added = changed_lines(text, after)
    assert added == []
    assert removed == ["    description: |\n", "      Line one\n", "\n", "      Line two\n"]


def test_multi_line_text_is_written_as_a_literal_block_in_the_files_indentation() -> None:
    text = HEADER + "  - id: a\n    title: A\n    start: 2024-05-01\n"
    after = edit(text, "a", description="First paragraph.\n\n- a list\n- of two\n")
    assert after.endswith(
        "    description: |\n      First paragraph.\n\n      - a list\n      - of two\n"
    )
    registry = parse(after.encode())[0]
    assert registry is not None
    assert registry.events[0].description == "First paragraph.\n\n- a list\n- of two"


def test_a_block_list_stays_a_block_list() -> None:
    text = (
        HEADER + "  - id: a\n    title: A\n    start: 2024-05-01\n    topics:\n      - training\n"
    )
    after = edit(text, "a", topics=["training", "project"])
    assert after.endswith("    topics:\n      - training\n      - project\n")


def test_a_new_event_goes_in_start_order_in_the_files_style() -> None:
    document = yamltext.read(TEXT)
    after = yamltext.insert(
        document,
        {"id": "jauns", "title": "Jauns", "start": "2019-01-01", "topics": ["training"]},
        after="es-diena-2018",
    )
    previous = document.item("es-diena-2018")
    assert previous is not None
    block = "\n  - id: jauns\n    title: Jauns\n    start: 2019-01-01\n    topics: [training]\n"
    assert after == TEXT[: previous.end] + block + TEXT[previous.end :]
    ids = [e.id for e in parse(after.encode())[0].events]  # type: ignore[union-attr]
    assert ids[ids.index("es-diena-2018") + 1] == "jauns"


def test_deleting_an_event_removes_its_lines_and_one_separator() -> None:
    document = yamltext.read(TEXT)
    item = document.item("es-diena-2018")
    assert item is not None
    after = yamltext.delete(document, "es-diena-2018")
    assert after == TEXT[: item.start] + TEXT[item.end + 1 :]
    assert "es-diena-2018" not in after


def test_an_event_written_with_aliases_is_refused_with_the_reason() -> None:
    text = HEADER + (
        "  - id: a\n    title: A\n    start: 2024-05-01\n    contact: &c {name: X}\n"
        "  - id: b\n    title: B\n    start: 2024-06-01\n    contact: *c\n"
    )
    document = yamltext.read(text)
    with pytest.raises(EditError, match="anchors or aliases"):
        yamltext.replace(document, "b", {"id": "b", "title": "C", "start": "2024-06-01"})
    with pytest.raises(EditError, match="anchors or aliases"):
        yamltext.replace(document, "a", {"id": "a", "title": "C", "start": "2024-06-01"})


def test_the_version_changes_with_the_events_text_only() -> None:
    document = yamltext.read(TEXT)
    other = yamltext.read(edit(TEXT, "es-diena-2018", title="Cits"))
    for before, after in zip(document.items, other.items, strict=True):
        assert (before.version == after.version) == (before.id != "es-diena-2018")


TRICKY = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufeff")
    | st.sampled_from([":", "#", "-", "'", '"', "{", "[", "&", "*", "!", "|", ">", "%", "@", " "]),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip() == s and s.strip() and s != "A")


@given(TRICKY)
@settings(max_examples=200, deadline=None)
def test_any_title_reads_back_exactly_and_changes_one_line(title: str) -> None:
    text = HEADER + (
        "  - id: a\n    title: A  # comment\n    start: 2024-05-01\n"
        "  - id: b\n    title: B\n    start: 2024-06-01\n"
    )
    after = edit(text, "a", title=title)
    registry = parse(after.encode())[0]
    assert registry is not None
    assert registry.events[0].title == title
    removed, added = changed_lines(text, after)
    assert removed == ["    title: A  # comment\n"] and len(added) == 1


def test_calendar_settings_change_only_their_lines() -> None:
    document = yamltext.read(TEXT)
    settings = dict(document.section_values("calendar"), feed_items="30")
    settings["title"] = {"lv": "Kalendārs", "en": "Calendar of events"}
    del settings["description"]
    after = yamltext.set_calendar(document, settings)
    removed, added = changed_lines(TEXT, after)
    assert [line.split(":")[0].strip() for line in removed] == [
        "lv",  # the title's Latvian text
        "description",
        "lv",
        "en",
        "feed_items",
    ]
    assert added == ["    lv: Kalendārs\n", "  feed_items: 30\n"]


def test_a_new_topic_goes_last_in_the_topics_style() -> None:
    document = yamltext.read(TEXT)
    after = yamltext.set_topic(document, "seminar", {"lv": "Semināri", "en": "Seminars"})
    assert changed_lines(TEXT, after) == (
        [],
        ["  seminar: {title: {lv: Semināri, en: Seminars}}\n"],
    )
    registry = parse(after.encode())[0]
    assert registry is not None
    assert registry.topics[-1].titles == (("lv", "Semināri"), ("en", "Seminars"))


def test_a_topic_is_retitled_in_place_and_a_flow_mapping_of_topics_grows() -> None:
    document = yamltext.read(TEXT)
    after = yamltext.set_topic(document, "training", {"lv": "Apmācības", "en": "Training"})
    assert changed_lines(TEXT, after) == (
        ["  training: {title: {lv: Mācības, en: Training}}\n"],
        ["  training: {title: {lv: Apmācības, en: Training}}\n"],
    )
    text = (
        HEADER.replace(
            "topics:\n  training: {title: {lv: Mācības, en: Training}}\n"
            "  project: {title: Projekti}\n",
            "topics: {training: {title: Mācības}}\n",
        )
        + "  - id: a\n    title: A\n    start: 2024-05-01\n"
    )
    grown = yamltext.set_topic(yamltext.read(text), "project", {"lv": "Projekti"})
    assert "topics: {training: {title: Mācības}, project: {title: Projekti}}\n" in grown


YAML11_OTHERWISE = [
    "yes", "no", "on", "off", "Yes", "NO", "On", "y", "n", "Y", "N", "true", "False",
    "null", "~", "Null", "0x1F", "012", "0b101", "1_000", "1:20", "+12", "-7", "3.5e3",
    ".inf", "-.Inf", ".nan", "2022-01-01", "2001-12-14t21:59:43.10-05:00", "<<", "=",
]  # fmt: skip


def pyyaml_and_icalpub(text: str, event_id: str) -> tuple[object, object]:
    """Return an event's title as PyYAML's safe_load reads it and as icalpub reads it."""
    for event in yaml.safe_load(text)["events"]:
        if event["id"] == event_id:
            theirs = event["title"]
    registry = parse(text.encode())[0]
    assert registry is not None
    event = registry.event(event_id)
    assert event is not None
    return theirs, event.title


@pytest.mark.parametrize("title", YAML11_OTHERWISE)
def test_values_yaml_1_1_reads_as_something_else_are_quoted(title: str) -> None:
    text = HEADER + "  - id: a\n    title: A\n    start: 2024-05-01\n"
    after = edit(text, "a", title=title)
    assert pyyaml_and_icalpub(after, "a") == (title, title)
    mapped = edit(text, "a", title={"lv": title, "en": title})  # the texts of a mapping too
    assert yaml.safe_load(mapped)["events"][0]["title"] == {"lv": title, "en": title}


@given(TRICKY | st.sampled_from(YAML11_OTHERWISE))
@settings(max_examples=200, deadline=None)
def test_pyyaml_and_icalpub_read_any_saved_title_alike(title: str) -> None:
    text = HEADER + "  - id: a\n    title: A\n    start: 2024-05-01\n"
    after = edit(text, "a", title=title)
    assert pyyaml_and_icalpub(after, "a") == (title, title)
