"""Calendars parse with icalendar and vobject alike, and carry what clients need."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
import vobject
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icalpub.ical import calendar_ics, event_ics
from icalpub.ledger import Ledger, reconcile
from icalpub.model import Registry
from icalpub.reader import load

from .conftest import SHIPPED

Write = Callable[..., Path]
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def compile_all(registry: Registry, topics: tuple[str, ...] = ()) -> bytes:
    stamps = reconcile(registry, Ledger(), NOW).stamps
    return calendar_ics(registry, stamps, topics)


@pytest.fixture(scope="module")
def shipped() -> Registry:
    return load(SHIPPED)


def all_calendars(registry: Registry) -> dict[str, bytes]:
    stamps = reconcile(registry, Ledger(), NOW).stamps
    result = {"calendar.ics": calendar_ics(registry, stamps)}
    for topic in registry.topics:
        result[f"topics/{topic.id}.ics"] = calendar_ics(registry, stamps, [topic.id])
    result["two topics"] = calendar_ics(registry, stamps, ["project", "training"])
    for event in registry.events:
        result[f"events/{event.id}.ics"] = event_ics(registry, stamps, event)
    return result


def check_raw_bytes(data: bytes) -> None:
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert b"\r" not in data.replace(b"\r\n", b"")
    for line in data.split(b"\r\n"):
        assert len(line) <= 75, line
        line.decode("utf-8")  # every physical line is valid UTF-8 on its own
    text = data.decode()
    used = set(re.findall(r";TZID=([^:;]+)[:;]", text))
    declared = set(re.findall(r"\r\nTZID:([^\r]+)\r\n", text))
    assert used == declared
    assert "TZID=UTC" not in text and "TZID=Etc/" not in text


def test_every_shipped_calendar_passes_raw_byte_checks(shipped: Registry) -> None:
    for data in all_calendars(shipped).values():
        check_raw_bytes(data)


def test_icalendar_and_vobject_see_the_same_events_and_uids(shipped: Registry) -> None:
    for name, data in all_calendars(shipped).items():
        ours = icalendar.Calendar.from_ical(data)
        uids_a = sorted(str(e["UID"]) for e in ours.walk("VEVENT"))
        theirs = vobject.readOne(data.decode())
        uids_b = sorted(str(e.uid.value) for e in theirs.vevent_list)
        assert uids_a == uids_b, name
        starts_a = sorted(str(e.decoded("DTSTART")) for e in ours.walk("VEVENT"))
        starts_b = sorted(str(e.dtstart.value) for e in theirs.vevent_list)
        assert [s[:16] for s in starts_a] == [s[:16] for s in starts_b], name


def test_whole_calendar_has_every_event_with_stable_uid(shipped: Registry) -> None:
    cal = icalendar.Calendar.from_ical(compile_all(shipped))
    uids = [str(e["UID"]) for e in cal.walk("VEVENT")]
    assert sorted(uids) == sorted(f"{e.id}@calendar.example.lv" for e in shipped.events)
    for prop in (
        "VERSION",
        "PRODID",
        "CALSCALE",
        "METHOD",
        "NAME",
        "X-WR-CALNAME",
        "DESCRIPTION",
        "X-WR-CALDESC",
        "X-WR-TIMEZONE",
        "REFRESH-INTERVAL",
        "X-PUBLISHED-TTL",
        "URL",
        "SOURCE",
    ):
        assert prop in cal, prop
    assert cal["METHOD"] == "PUBLISH"
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT12H\r\n" in compile_all(shipped)
    assert b"X-PUBLISHED-TTL:PT12H\r\n" in compile_all(shipped)


def test_all_day_training_ends_the_day_after_its_inclusive_last_day(shipped: Registry) -> None:
    cal = icalendar.Calendar.from_ical(compile_all(shipped))
    [event] = [e for e in cal.walk("VEVENT") if e["UID"].startswith("frem-ii-macibas-2018-09@")]
    assert event.decoded("DTSTART") == dt.date(2018, 9, 25)
    assert event.decoded("DTEND") == dt.date(2018, 9, 27)
    assert event["TRANSP"] == "TRANSPARENT"
    assert event["CONTACT"] == "Iekšlietu ministrija, 67829674"
    assert [str(c) for c in event["CATEGORIES"].cats] == ["Mācības", "Projekti"]
    assert event["URL"] == "https://calendar.example.lv/events/frem-ii-macibas-2018-09"
    description = str(event["DESCRIPTION"])
    assert description.startswith("Šā gada 25. un 26. septembrī Rīgā notiek mācības")
    assert "* Eiropas parlamenta un padomes direktīva" in description
    assert description.endswith(
        "Notikuma lapa: https://calendar.example.lv/events/frem-ii-macibas-2018-09"
    )
    assert "<" not in description
    assert str(event["X-ALT-DESC"]).startswith("<html><body><p>Šā gada")


def test_cancelled_event_stays_with_status_and_prefix(shipped: Registry) -> None:
    cal = icalendar.Calendar.from_ical(compile_all(shipped))
    [event] = [e for e in cal.walk("VEVENT") if e["UID"].startswith("konference-2022-01@")]
    assert event["STATUS"] == "CANCELLED"
    assert str(event["SUMMARY"]).startswith("Atcelts: Konference")
    assert event["SEQUENCE"] == 1


def test_event_in_another_zone_keeps_its_zone_and_instant(shipped: Registry) -> None:
    cal = icalendar.Calendar.from_ical(compile_all(shipped))
    [event] = [e for e in cal.walk("VEVENT") if e["UID"].startswith("tiessaistes-seminars")]
    start = event.decoded("DTSTART")
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    assert start.astimezone(dt.UTC) == dt.datetime(2021, 5, 20, 13, tzinfo=dt.UTC)


def test_utc_and_etc_zones_are_written_with_z(registry_file: Write) -> None:
    registry = load(
        registry_file("""\
        - id: a
          title: A
          start: 2022-01-12 10:00
          end: 2022-01-12 11:00
          timezone: UTC
        - id: b
          title: B
          start: 2022-01-12 10:00
          timezone: Etc/GMT-3
        """)
    )
    data = compile_all(registry)
    assert b"DTSTART:20220112T100000Z\r\n" in data
    assert b"DTSTART:20220112T070000Z\r\n" in data
    assert b"VTIMEZONE" not in data


def test_fixed_instant_event_is_published_in_utc_and_read_in_the_calendar_zone(
    registry_file: Write,
) -> None:
    from icalpub.display import when

    registry = load(
        registry_file("""\
        - id: a
          title: A
          start: 2022-01-21T12:00:00Z
          end: 2022-01-21T13:30:00+01:00
          repeat: FREQ=WEEKLY;COUNT=3
          except: [2022-01-28]
          published: 2022-01-10T08:00:00Z
        """)
    )
    data = compile_all(registry)
    assert b"DTSTART:20220121T120000Z\r\n" in data
    assert b"DTEND:20220121T123000Z\r\n" in data
    assert b"EXDATE:20220128T120000Z\r\n" in data
    assert b"VTIMEZONE" not in data and b"TZID" not in data
    for parsed in (icalendar.Calendar.from_ical(data), vobject.readOne(data.decode())):
        found = (
            parsed.walk("VEVENT")[0]["DTSTART"].dt
            if isinstance(parsed, icalendar.Calendar)
            else parsed.vevent.dtstart.value
        )
        assert found == dt.datetime(2022, 1, 21, 12, tzinfo=dt.UTC)
    # Readers of a Riga calendar see Riga's clock, without a zone note.
    shown = when(registry.events[0], "en", "Europe/Riga")
    assert shown == "January 21, 2022, 2:00\u202fPM–2:30\u202fPM"


def test_timed_event_without_end_has_no_dtend(registry_file: Write) -> None:
    registry = load(
        registry_file("""\
        - id: a
          title: A
          start: 2022-01-12 10:00
        """)
    )
    event = icalendar.Calendar.from_ical(compile_all(registry)).walk("VEVENT")[0]
    assert "DTEND" not in event
    assert "DURATION" not in event


def test_weekly_series_across_march_dst_keeps_10_00_local(registry_file: Write) -> None:
    registry = load(
        registry_file("""\
        - id: weekly
          title: Weekly
          start: 2022-03-16 10:00
          end: 2022-03-16 11:00
          repeat: FREQ=WEEKLY;COUNT=5
          except: [2022-03-30]
        """)
    )
    data = compile_all(registry)
    cal = icalendar.Calendar.from_ical(data)
    riga = ZoneInfo("Europe/Riga")
    found = recurring_ical_events.of(cal).between(dt.date(2022, 3, 1), dt.date(2022, 5, 1))
    starts = sorted(e.decoded("DTSTART").astimezone(riga) for e in found)
    assert [s.replace(tzinfo=None) for s in starts] == [
        dt.datetime(2022, 3, 16, 10),
        dt.datetime(2022, 3, 23, 10),
        dt.datetime(2022, 4, 6, 10),
        dt.datetime(2022, 4, 13, 10),
    ]
    assert [s.utcoffset() for s in starts] == [dt.timedelta(hours=h) for h in (2, 2, 3, 3)]
    assert b"EXDATE;TZID=Europe/Riga:20220330T100000\r\n" in data


def test_shipped_monthly_working_group_skips_march(shipped: Registry) -> None:
    cal = icalendar.Calendar.from_ical(compile_all(shipped, ("meeting",)))
    found = recurring_ical_events.of(cal).between(dt.date(2022, 1, 1), dt.date(2022, 8, 1))
    days = sorted(
        e.decoded("DTSTART").date() for e in found if e["UID"].startswith("darba-grupa-2022@")
    )
    assert days == [
        dt.date(2022, 1, 12),
        dt.date(2022, 2, 9),
        dt.date(2022, 4, 13),
        dt.date(2022, 5, 11),
        dt.date(2022, 6, 8),
    ]


@pytest.mark.parametrize(
    "zone",
    [
        "Europe/Riga",
        "America/New_York",
        "Australia/Sydney",
        "Asia/Tokyo",
        "Europe/Moscow",
        "America/Sao_Paulo",
    ],
)
def test_vtimezone_offsets_match_zoneinfo_on_every_event_date(
    registry_file: Write, zone: str
) -> None:
    days = [dt.date(2009, 1, 1) + dt.timedelta(days=17 * i) for i in range(340)]
    events = "".join(
        f"- id: e{i}\n  title: E\n  start: {d.isoformat()} 12:00\n  timezone: {zone}\n"
        for i, d in enumerate(days)
    )
    registry = load(registry_file(events))
    data = compile_all(registry)
    cal = icalendar.Calendar.from_ical(data)
    [vtz] = cal.walk("VTIMEZONE")
    assert len(vtz.subcomponents) <= 8  # rules, not a list of dates
    assert "RDATE" not in data.decode()
    ours = vtz.to_tz()
    reference = ZoneInfo(zone)
    for day in days:
        for hour in (0, 6, 12, 18):
            moment = dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)
            assert (
                moment.astimezone(ours).utcoffset() == moment.astimezone(reference).utcoffset()
            ), (zone, moment)


def test_per_event_file_has_no_calendar_name(shipped: Registry) -> None:
    stamps = reconcile(shipped, Ledger(), NOW).stamps
    data = event_ics(shipped, stamps, shipped.events[0])
    assert b"\r\nNAME:" not in data
    assert b"X-WR-CALNAME" not in data
    assert data.count(b"BEGIN:VEVENT") == 1


def test_topic_union_has_one_canonical_form(shipped: Registry) -> None:
    a = compile_all(shipped, ("training", "project", "training"))
    b = compile_all(shipped, ("project", "training"))
    assert a == b
    uids = {str(e["UID"]) for e in icalendar.Calendar.from_ical(a).walk("VEVENT")}
    expected = {
        f"{e.id}@calendar.example.lv"
        for e in shipped.events
        if {"training", "project"} & set(e.topics)
    }
    assert uids == expected


def test_keep_past_drops_events_that_ended_long_ago(registry_file: Write) -> None:
    header = (
        "calendar:\n  title: X\n  base_url: https://x.example/\n  timezone: Europe/Riga\n"
        "  keep_past: P12M\nevents:\n"
    )
    registry = load(
        registry_file(
            """\
        - id: old
          title: Old
          start: 2020-01-01
        - id: recent
          title: Recent
          start: 2021-06-01
        - id: repeating
          title: Forever
          start: 2015-01-01
          repeat: FREQ=YEARLY
        """,
            header=header,
        )
    )
    stamps = reconcile(registry, Ledger(), NOW).stamps
    data = calendar_ics(registry, stamps, today=dt.date(2022, 3, 1))
    uids = {str(e["UID"]) for e in icalendar.Calendar.from_ical(data).walk("VEVENT")}
    assert uids == {"recent@x.example", "repeating@x.example"}


TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
    min_size=1,
    max_size=200,
).filter(lambda s: s.strip() != "")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(title=TEXT, description=TEXT)
def test_any_text_stays_in_its_property_and_folds_safely(title: str, description: str) -> None:
    from icalpub.model import Calendar, Event

    calendar = Calendar(title="T", base_url="https://x.example/", timezone="Europe/Riga")
    title = title.strip() + "\r\nEND:VEVENT\r\nBEGIN:VEVENT".replace("\r\n", " ")
    event = Event(
        id="a",
        title=title.strip(),
        start=dt.date(2022, 1, 1),
        end=None,
        timezone="Europe/Riga",
        description=description + "\nEND:VCALENDAR\n;,\\",
    )
    registry = Registry(calendar, (), (event,))
    data = compile_all(registry)
    check_raw_bytes(data)
    parsed = icalendar.Calendar.from_ical(data)
    assert len(parsed.walk("VEVENT")) == 1
    # vobject is the reference for the exact text: icalendar 7 reads an escaped
    # backslash followed by N as a newline (see test_backslash_n_survives).
    theirs = vobject.readOne(data.decode())
    assert len(theirs.vevent_list) == 1
    assert theirs.vevent.summary.value == event.title
    assert "END:VCALENDAR" in theirs.vevent.description.value


def test_backslash_n_survives_as_text() -> None:
    from icalpub.model import Calendar, Event

    calendar = Calendar(title="T", base_url="https://x.example/", timezone="Europe/Riga")
    event = Event(
        id="a", title="C:\\Notes, a; b", start=dt.date(2022, 1, 1), end=None, timezone="Europe/Riga"
    )
    data = compile_all(Registry(calendar, (), (event,)))
    assert b"SUMMARY:C:\\\\Notes\\, a\\; b\r\n" in data
    assert vobject.readOne(data.decode()).vevent.summary.value == "C:\\Notes, a; b"


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400),
    prefix=st.integers(0, 80),
)
def test_fold_never_splits_a_character_and_unfolds_to_the_line(text: str, prefix: int) -> None:
    from icalpub.contentlines import fold

    line = "X" * prefix + text.replace("\r", "").replace("\n", "") + "😀ā" * 3
    folded = fold(line)
    physical = folded.split(b"\r\n")
    assert all(len(p) <= 75 for p in physical)
    for piece in physical:
        piece.decode("utf-8")  # raises if a character was cut
    assert all(p.startswith(b" ") for p in physical[1:])
    assert folded.replace(b"\r\n ", b"").decode("utf-8") == line


def _scan_from_scratch(name: str, first_year: int, last_year: int) -> list[tuple[object, ...]]:
    """The zone scan `vtimezone.transitions` makes, written out with nothing shared."""
    from icalpub.vtimezone import _SCAN_STEP, _state

    moment = dt.datetime(first_year, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(last_year + 1, 1, 1, tzinfo=dt.UTC)
    found: list[tuple[object, ...]] = []
    state = _state(name, moment)
    while moment < end:
        following = moment + _SCAN_STEP
        if _state(name, following) == state:
            moment = following
            continue
        low, high = moment, following
        while high - low > dt.timedelta(seconds=1):
            middle = (low + (high - low) / 2).replace(microsecond=0)
            low, high = (middle, high) if _state(name, middle) == state else (low, middle)
        after = _state(name, high)
        found.append((high, state[0], *after))
        state, moment = after, high
    return found


@settings(max_examples=60, deadline=None)
@given(
    spans=st.lists(
        st.tuples(
            st.sampled_from(
                (
                    "Europe/Riga",
                    "Africa/Casablanca",  # DST paused for Ramadan: four changes a year
                    "Australia/Lord_Howe",  # half-hour DST
                    "Pacific/Apia",  # skipped 30 December 2011
                    "Europe/Moscow",
                    "America/Sao_Paulo",
                    "Antarctica/Troll",
                )
            ),
            st.integers(1985, 2035),
            st.integers(0, 6),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_vtimezone_transitions_are_the_same_whatever_spans_were_asked_before(
    spans: list[tuple[str, int, int]],
) -> None:
    from icalpub import vtimezone

    for name, first, length in spans:
        vtimezone.transitions.cache_clear()  # only the shared scan pieces stay
        got = [
            (t.utc, t.before, t.after, t.dst, t.name)
            for t in vtimezone.transitions(name, first, first + length)
        ]
        assert got == _scan_from_scratch(name, first, first + length), (name, first, length)
