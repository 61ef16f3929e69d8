"""Two languages of content: the registry's texts per language, and a publication for each."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import atoma
import feedparser
import icalendar
import pytest
import vobject
from click.testing import CliRunner
from flask.testing import FlaskClient

from icalpub.cli import cli
from icalpub.ledger import Ledger
from icalpub.publish import Publication, publish
from icalpub.reader import read_source

from .conftest import SHIPPED
from .reading import parse
from .test_feeds import fparse

Write = Callable[..., Path]
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
BILINGUAL = """\
calendar:
  title: {lv: Kalendārs, en: Calendar}
  description: Tikai latviski
  base_url: https://cal.example.org/
  timezone: Europe/Riga
  language: lv
  languages: [lv, en]
topics:
  training: {title: {lv: Mācības, en: Training}}
  project: {title: Projekti}
events:
"""


@pytest.fixture(scope="module")
def shipped() -> Publication:
    source = read_source(SHIPPED)
    assert source.registry is not None
    return publish(source.registry, source.ledger, NOW)


def problems_of(text: str) -> list[str]:
    return [str(p) for p in parse(text.encode())[1]]


# -- the registry --------------------------------------------------------------------


def test_texts_per_language_are_read_with_the_default_as_the_plain_text() -> None:
    registry, problems = parse(
        (
            BILINGUAL + "  - id: a\n    title: {lv: Sēde, en: Meeting}\n    start: 2022-01-12\n"
            "    description:\n      lv: |\n        Latviski\n      en: |\n        In English\n"
        ).encode()
    )
    assert problems == [] and registry is not None
    event = registry.events[0]
    assert (event.title, event.description) == ("Sēde", "Latviski")
    assert event.translation("en", "title") == "Meeting"
    assert event.translation("en", "description") == "In English"
    assert event.translation("en", "summary") is None
    assert registry.calendar.published_languages == ("lv", "en")
    assert registry.calendar.title == "Kalendārs"


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (
            "  - id: a\n    title: {lv: Sēde, de: Sitzung}\n    start: 2022-01-12\n",
            "events.yaml:13:23: error: event 'a' title has a text in 'de', which is not in "
            "calendar.languages (lv, en); add 'de' to calendar.languages, or correct the key",
        ),
        (
            "  - id: a\n    title: {en: Meeting}\n    start: 2022-01-12\n",
            "events.yaml:13:12: error: event 'a' title has no text in 'lv', the default "
            "language; add 'lv: …' — the other languages fall back to it",
        ),
        (
            "  - id: a\n    title: Sēde\n    start: 2022-01-12\n"
            "    location: {lv: Rīga, eng: Riga}\n",
            "events.yaml:15:26: error: event 'a' location has a text in 'eng', which is not in "
            "calendar.languages (lv, en); did you mean 'en'?",
        ),
        (
            "  - id: a\n    title: {lv: Sēde, en: [a, b]}\n    start: 2022-01-12\n",
            "events.yaml:13:27: error: event 'a' title (en) must be a single value, "
            "not a list or mapping",
        ),
    ],
)
def test_a_wrong_language_key_is_an_error_with_place_and_hint(event: str, expected: str) -> None:
    assert problems_of(BILINGUAL + event) == [expected]


def test_a_one_language_registry_refuses_a_second_language_in_an_event() -> None:
    one = BILINGUAL.replace("  languages: [lv, en]\n", "").replace(
        "title: {lv: Kalendārs, en: Calendar}", "title: Kalendārs"
    )
    found = problems_of(
        one + "  - id: a\n    title: {lv: Sēde, en: Meeting}\n    start: 2022-01-12\n"
    )
    assert found == [
        "events.yaml:12:23: error: event 'a' title has a text in 'en', which is not in "
        "calendar.languages (lv); add 'en' to calendar.languages, or correct the key"
    ]


def test_languages_must_start_with_the_language_and_list_each_once() -> None:
    found = problems_of(
        BILINGUAL.replace("languages: [lv, en]", "languages: [en, lv, en]")
        + "  - id: a\n    title: X\n    start: 2022-01-12\n"
    )
    assert "events.yaml:7:23: error: language 'en' is listed twice" in found
    assert (
        "events.yaml:7:14: error: calendar.languages must start with calendar.language ('lv'); "
        "the first language is the default: the one plain texts are written in"
    ) in found


def test_calendar_title_per_language_needs_the_default() -> None:
    found = problems_of(
        BILINGUAL.replace("title: {lv: Kalendārs, en: Calendar}", "title: {en: Calendar}")
        + "  - id: a\n    title: X\n    start: 2022-01-12\n"
    )
    assert found == [
        "events.yaml:2:10: error: calendar title has no text in 'lv', the default language; "
        "add 'lv: …' — the other languages fall back to it"
    ]


def test_validate_warns_which_events_lack_a_translation(registry_file: Write) -> None:
    path = registry_file(
        """\
          - id: done
            title: {lv: Sēde, en: Meeting}
            start: 2022-01-12
          - id: half
            title: {lv: Sēde, en: Meeting}
            summary: Tikai latviski
            start: 2022-01-13
          - id: none
            title: Sēde
            location: Rīga
            start: 2022-01-14
        """,
        header=BILINGUAL,
    )
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines() if result.stderr else result.output.splitlines()
    text = "\n".join(lines)
    assert f"{path}:1:1: warning: 2 of 3 events lack a translation into 'en': half, none" in text
    assert (
        f"{path}:15:3: warning: event 'half' has no 'en' text for summary; write it as "
        "'summary: {lv: …, en: …}'; until then the en calendar shows the lv text"
    ) in text
    assert f"{path}:19:3: warning: event 'none' has no 'en' text for title, location" in text
    assert "event 'done'" not in text
    assert "; 3 warnings" in result.output


def test_an_edited_translation_alone_is_a_change_subscribers_see(registry_file: Write) -> None:
    first = registry_file(
        "  - id: a\n    title: {lv: Sēde, en: Meeting}\n    start: 2022-01-12\n", BILINGUAL
    )
    before = read_source(first)
    assert before.registry is not None
    published = publish(before.registry, Ledger(), NOW)
    edited = first.read_text("utf-8").replace("en: Meeting", "en: Board meeting")
    first.write_text(edited, "utf-8")
    after = read_source(first)
    assert after.registry is not None
    later = NOW + dt.timedelta(days=1)
    republished = publish(after.registry, published.reconciled.ledger, later)
    assert republished.reconciled.stamps["a"].sequence == 1
    english = icalendar.Calendar.from_ical(republished.files["en/calendar.ics"])
    [event] = english.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Board meeting" and event["SEQUENCE"] == 1


# -- the publication -----------------------------------------------------------------


def _events(data: bytes) -> dict[str, Any]:
    return {str(e["UID"]): e for e in icalendar.Calendar.from_ical(data).walk("VEVENT")}


@pytest.mark.parametrize("path", ["calendar.ics", "topics/training.ics", "topics/campaign.ics"])
def test_each_language_has_the_same_events_uids_and_times_with_its_own_texts(
    shipped: Publication, path: str
) -> None:
    latvian, english = _events(shipped.files[path]), _events(shipped.files[f"en/{path}"])
    assert latvian.keys() == english.keys() and latvian
    for uid, lv in latvian.items():
        en = english[uid]
        for name in ("DTSTART", "DTEND", "RRULE", "EXDATE", "SEQUENCE", "LAST-MODIFIED", "STATUS"):
            assert lv.get(name) == en.get(name) or (
                lv.get(name) is not None and lv[name].to_ical() == en[name].to_ical()
            ), (uid, name)
    # vobject reads the same UIDs and times.
    for data in (shipped.files[path], shipped.files[f"en/{path}"]):
        parsed = vobject.readOne(data.decode())
        theirs = {str(v.uid.value): v.dtstart.value for v in parsed.vevent_list}
        assert theirs.keys() == latvian.keys()
    seed = (
        english["frem-ii-macibas-2018-09@calendar.example.lv"]
        if path != "topics/campaign.ics"
        else None
    )
    if seed is not None:
        assert str(seed["SUMMARY"]).startswith("Ombudsman's Office staff train")
        assert str(seed["LOCATION"]) == "Riga"
        assert "LANGUAGE" not in seed["SUMMARY"].params
        assert "https://calendar.example.lv/en/events/frem-ii-macibas-2018-09" in str(
            seed["DESCRIPTION"]
        )


def test_an_untranslated_text_falls_back_to_the_default_marked_language_lv(
    shipped: Publication,
) -> None:
    english = shipped.files["en/events/es-diena-2018.ics"]
    for parsed in (icalendar.Calendar.from_ical(english),):
        [event] = parsed.walk("VEVENT")
        assert str(event["SUMMARY"]) == "Eiropas Savienības Cilvēku tirdzniecības apkarošanas diena"
        assert event["SUMMARY"].params["LANGUAGE"] == "lv"
        assert event["LOCATION"].params["LANGUAGE"] == "lv"
        assert event["DESCRIPTION"].params["LANGUAGE"] == "lv"
        assert "Event page: https://calendar.example.lv/en/events/es-diena-2018" in str(
            event["DESCRIPTION"]
        )
        assert '<div lang="lv">' in str(event["X-ALT-DESC"])
    card = vobject.readOne(english.decode()).vevent
    assert card.summary.params["LANGUAGE"] == ["lv"]
    latvian = icalendar.Calendar.from_ical(shipped.files["events/es-diena-2018.ics"])
    [event] = latvian.walk("VEVENT")
    assert "LANGUAGE" not in event["SUMMARY"].params  # the default language is not marked


def test_calendar_names_and_the_cancelled_prefix_are_in_the_calendar_s_language(
    shipped: Publication,
) -> None:
    english = icalendar.Calendar.from_ical(shipped.files["en/topics/training.ics"])
    assert str(english["NAME"]) == "Calendar of events: Training"
    assert str(english["X-WR-CALNAME"]) == "Calendar of events: Training"
    assert str(english["DESCRIPTION"]).startswith("Latvia's state information resource")
    assert str(english["URL"]) == "https://calendar.example.lv/en/"
    assert str(english["SOURCE"]) == "https://calendar.example.lv/en/topics/training.ics"
    cancelled = _events(shipped.files["en/calendar.ics"])["konference-2022-01@calendar.example.lv"]
    assert str(cancelled["SUMMARY"]) == (
        "Cancelled: Conference “Labour exploitation in Latvia: trends and solutions”"
    )
    latvian = _events(shipped.files["calendar.ics"])["konference-2022-01@calendar.example.lv"]
    assert str(latvian["SUMMARY"]).startswith("Atcelts: Konference")


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_feeds_declare_their_language_and_parse_in_two_parsers(
    shipped: Publication, fmt: str
) -> None:
    for prefix, language in (("", "lv"), ("en/", "en")):
        data = shipped.files[f"{prefix}feed.{fmt}"]
        parsed = fparse(data, fmt)  # JSON Feed: checked against its schema too
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        links = [e.link for e in parsed.entries]
        assert links and all(
            link.startswith(f"https://calendar.example.lv/{prefix}events/") for link in links
        )
        if fmt == "rss":
            assert atoma.parse_rss_bytes(data).language == language
            assert parsed.feed.language == language
        elif fmt == "atom":
            feed = atoma.parse_atom_bytes(data)
            assert feed.entries and parsed.feed.language == language
            assert f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{language}">' in (
                data.decode()
            )
        else:
            feed = atoma.parse_json_feed_bytes(data)
            assert feed.items
            assert json.loads(data)["language"] == language


def test_every_feed_links_the_other_language_s_version(shipped: Publication) -> None:
    english = feedparser.parse(shipped.files["en/topics/training.atom"])
    alternates = [
        (link.get("hreflang"), link.href, link.get("type"))
        for link in english.feed.links
        if link.rel == "alternate"
    ]
    assert ("lv", "https://calendar.example.lv/topics/training.atom", "application/atom+xml") in (
        alternates
    )
    assert (None, "https://calendar.example.lv/en/?topic=training", None) in [
        (h, u, t if t != "text/html" else None) for h, u, t in alternates
    ]
    rss = feedparser.parse(shipped.files["en/topics/training.rss"]).feed
    assert rss.link == "https://calendar.example.lv/en/?topic=training"  # the channel's page
    assert {
        "rel": "alternate",
        "type": "application/rss+xml",
        "hreflang": "lv",
        "href": "https://calendar.example.lv/topics/training.rss",
    } in rss.links
    latvian = json.loads(shipped.files["feed.json"])
    assert latvian["_languages"] == {
        "lv": "https://calendar.example.lv/feed.json",
        "en": "https://calendar.example.lv/en/feed.json",
    }


def test_feed_html_marks_the_untranslated_text(shipped: Publication) -> None:
    english = json.loads(shipped.files["en/feed.json"])
    by_id = {item["id"]: item for item in english["items"]}
    old = by_id["https://calendar.example.lv/en/events/es-diena-2021"]["content_html"]
    assert '<span lang="lv">Rīga</span>' in old
    assert '<div lang="lv"><p>Iekšlietu ministrija aicina' in old
    new = by_id["https://calendar.example.lv/en/events/es-diena-2023"]["content_html"]
    assert "lang=" not in new and "All of Latvia" in new
    assert new.startswith("<p><strong>October 18, 2023, All of Latvia</strong></p>")


def test_event_files_of_every_language_are_written_by_a_build(tmp_path: Path) -> None:
    import shutil

    shutil.copy(SHIPPED, tmp_path / "events.yaml")
    shutil.copy(SHIPPED.with_suffix(".lock"), tmp_path / "events.lock")
    out = tmp_path / "feeds"
    result = CliRunner().invoke(cli, ["build", str(tmp_path / "events.yaml"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    index = json.loads((out / "index.json").read_text())
    paths = {entry["path"] for entry in index["files"]}
    assert "en/events/frem-ii-macibas-2018-09.ics" in paths
    assert "en/topics/meeting.json" in paths
    card = vobject.readOne((out / "en/events/es-diena-2022.ics").read_text())
    assert card.vevent.summary.value == "EU Anti-Trafficking Day 2022"
    assert not hasattr(card, "x_wr_calname")  # an event file is not a calendar to subscribe to


# -- the service ---------------------------------------------------------------------


def test_the_service_serves_every_language_with_the_build_s_bytes(
    client: FlaskClient, shipped: Publication
) -> None:
    for path in ("en/calendar.ics", "en/topics/training.atom", "en/feed.json"):
        response = client.get("/" + path)
        assert response.status_code == 200, path
        assert _same_apart_from_stamps(response.data, shipped.files[path]), path
    event = client.get("/en/events/es-diena-2022.ics")
    assert event.status_code == 200
    assert b"SUMMARY:EU Anti-Trafficking Day 2022" in event.data
    union = client.get("/en/calendar.ics?topic=training&topic=meeting")
    names = {str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(union.data).walk("VEVENT")}
    assert "Inter-institutional working group on preventing human trafficking" in names
    assert b"NAME:Calendar of events: Meetings\\, Training" in union.data


@pytest.mark.parametrize(
    "path", ["/de/calendar.ics", "/lv/calendar.ics", "/de/topics/training.ics"]
)
def test_a_language_the_registry_does_not_have_is_404_naming_the_ones_it_has(
    client: FlaskClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "other languages: /en/" in response.text


def _same_apart_from_stamps(served: bytes, built: bytes) -> bool:
    # The client fixture's ledger is the shipped one: the same stamps, the same bytes.
    return served == built


def test_topic_titles_follow_the_languages_when_the_calendar_has_several() -> None:
    event = "  - id: a\n    title: X\n    start: 2022-01-12\n"
    found = problems_of(
        BILINGUAL.replace(
            "training: {title: {lv: Mācības, en: Training}}",
            "training: {title: {en: Training, de: Schulung}}",
        )
        + event
    )
    assert found == [
        "events.yaml:9:21: error: title of topic 'training' has no text in 'lv', the default "
        "language; add 'lv: …' — the other languages fall back to it",
        "events.yaml:9:36: error: title of topic 'training' has a text in 'de', which is not "
        "in calendar.languages (lv, en); add 'de' to calendar.languages, or correct the key",
    ]
    # Without calendar.languages, topic titles keep any languages, as they always could.
    one = BILINGUAL.replace("  languages: [lv, en]\n", "").replace(
        "title: {lv: Kalendārs, en: Calendar}", "title: Kalendārs"
    )
    assert (
        problems_of(
            one.replace("{lv: Mācības, en: Training}", "{en: Training, de: Schulung}") + event
        )
        == []
    )
