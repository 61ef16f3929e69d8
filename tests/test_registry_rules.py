"""Every rule of SPEC §1: one scratch registry per flaw, exact place and message."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from icalpub.errors import RegistryError
from icalpub.reader import load

from .conftest import SHIPPED
from .reading import read

Write = Callable[..., Path]
# HEADER is 9 lines long, so the first event line is line 10.


def problems(path: Path) -> list[str]:
    """Return the problems found in `path` as 'line:col: severity: message' strings."""
    _, found = read(path)
    return [str(p).split(":", 1)[1] for p in found]


def test_shipped_registry_validates_without_problems() -> None:
    registry, found = read(SHIPPED)
    assert found == []
    assert registry is not None
    assert len(registry.events) >= 16
    january = [e for e in registry.events if e.first_day.strftime("%Y-%m") == "2022-01"]
    assert len(january) >= 5


def test_unknown_key_is_an_error_with_the_closest_key(registry_file: Write) -> None:
    path = registry_file("""\
        - id: a
          title: A
          strat: 2022-01-12
          start: 2022-01-12
        """)
    assert problems(path) == ["12:3: error: unknown key 'strat' in an event; did you mean 'start'?"]


def test_unknown_topic_suggests_the_closest_declared_one(registry_file: Write) -> None:
    path = registry_file("""\
        - id: a
          title: A
          start: 2022-01-12
          topics: [trainng]
        """)
    assert problems(path) == [
        "13:12: error: event 'a' has the unknown topic 'trainng'; did you mean 'training'?"
    ]


def test_duplicate_ids_are_an_error_naming_the_first(registry_file: Write) -> None:
    path = registry_file("""\
        - id: a
          title: A
          start: 2022-01-12
        - id: a
          title: B
          start: 2022-01-13
        """)
    assert problems(path) == [
        "13:7: error: event id 'a' is used twice; the first is on line 10; ids must be unique"
    ]


@pytest.mark.parametrize("bad", ["Bad_Id", "-a", "a" * 81, "ā"])
def test_id_must_match_the_pattern(registry_file: Write, bad: str) -> None:
    path = registry_file(f"""\
        - id: "{bad}"
          title: A
          start: 2022-01-12
        """)
    assert problems(path) == [
        f"10:7: error: event id '{bad}' is not a valid id; use 1-80 lower-case letters a-z, "
        "digits and '-', starting with a letter or digit"
    ]


def test_missing_required_keys_are_each_reported(registry_file: Write) -> None:
    path = registry_file("""\
        - location: Rīga
        """)
    assert problems(path) == [
        "10:3: error: an event has no 'id'; add 'id:'",
        "10:3: error: an event has no 'start'; add 'start:'",
        "10:3: error: an event has no 'title'; add 'title:'",
    ]


def test_end_before_start_is_an_error(registry_file: Write) -> None:
    path = registry_file("""\
        - id: a
          title: A
          start: 2022-01-12
          end: 2022-01-11
        """)
    assert problems(path) == [
        "13:8: error: event 'a' ends before it starts; for all-day events 'end' is the "
        "last day, inclusive"
    ]


def test_date_start_needs_date_end(registry_file: Write) -> None:
    path = registry_file("""\
        - id: a
          title: A
          start: 2022-01-12
          end: 2022-01-12 12:00
        """)
    assert problems(path) == [
        "13:8: error: event 'a' starts with a date only, so its end must be a date only too; "
        "all-day events use dates for both; timed events use times for both"
    ]


def test_timed_start_needs_timed_end(registry_file: Write) -> None:
    path = registry_file("""\
        - id: a
          title: A
          start: 2022-01-12 10:00
          end: 2022-01-12
        """)
    assert problems(path) == [
        "13:8: error: event 'a' starts with a date and time, so its end must be a date and "
        "time too; all-day events use dates for both; timed events use times for both"
    ]


def test_time_in_the_spring_gap_is_an_error(registry_file: Write) -> None:
    path = registry_file("""\
        - id: a
          title: A
          start: 2022-03-27 03:30
        """)
    assert problems(path) == [
        "12:10: error: event 'a' start: 2022-03-27 03:30 does not exist in Europe/Riga "
        "(the clocks skip it when daylight saving time starts)"
    ]


def test_ambiguous_autumn_time_asks_for_an_offset(registry_file: Write) -> None:
    path = registry_file("""\
        - id: a
          title: A
          start: 2022-10-30 03:30
        """)
    assert problems(path) == [
        "12:10: error: event 'a' start: 2022-10-30 03:30 happens twice in Europe/Riga "
        "(the clocks go back); write it with an offset, e.g. 2022-10-30T03:30+03:00 "
        "or 2022-10-30T03:30+02:00"
    ]


def test_ambiguous_time_with_an_offset_is_accepted(registry_file: Write) -> None:
    path = registry_file("""\
        - id: a
          title: A
          start: 2022-10-30T03:30+02:00
        """)
    registry = load(path)
    start = registry.events[0].start
    assert isinstance(start, dt.datetime)
    assert start.utcoffset() == dt.timedelta(hours=2)
    assert start.astimezone(dt.UTC) == dt.datetime(2022, 10, 30, 1, 30, tzinfo=dt.UTC)


def test_offset_with_a_timezone_key_must_be_one_that_zone_uses(registry_file: Write) -> None:
    path = registry_file("""\
        - id: a
          title: A
          start: 2022-07-01T10:00Z
          timezone: Europe/Riga
        """)
    assert problems(path) == [
        "12:10: error: event 'a' start: offset Z is not used in Europe/Riga at "
        "2022-07-01 10:00; use the offset the zone has then, or leave the offset out"
    ]


def test_utc_start_without_a_timezone_key_is_a_fixed_instant(registry_file: Write) -> None:
    path = registry_file("""\
        - id: a
          title: A
          start: 2022-01-21T12:00:00Z
          end: 2022-01-21T13:30:00+00:00
        """)
    event = load(path).events[0]
    assert event.fixed and event.timezone == "UTC"
    assert event.start == dt.datetime(2022, 1, 21, 12, tzinfo=dt.UTC)
    assert event.end == dt.datetime(2022, 1, 21, 13, 30, tzinfo=dt.UTC)


def test_any_offset_without_a_timezone_key_is_the_same_instant(registry_file: Write) -> None:
    path = registry_file("""\
        - id: a
          title: A
          start: 2022-07-01T10:00+05:30
        """)
    event = load(path).events[0]
    assert event.fixed
    assert event.start == dt.datetime(2022, 7, 1, 4, 30, tzinfo=dt.UTC)


def test_an_offset_on_start_alone_is_an_error(registry_file: Write) -> None:
    path = registry_file("""\
        - id: a
          title: A
          start: 2022-01-21T12:00:00Z
          end: 2022-01-21 14:00
        """)
    assert problems(path) == [
        "13:8: error: event 'a': start and end must both have an offset or both be local "
        "times; an offset makes a fixed instant, e.g. 2022-01-21T12:00:00Z; add it to both "
        "or leave it out of both"
    ]


def test_an_offset_beyond_a_day_is_a_located_error(registry_file: Write) -> None:
    path = registry_file("""\
        - id: a
          title: A
          start: 2022-01-21T12:00+25:00
        """)
    assert problems(path) == ["12:10: error: event 'a' start: '+25:00' is not a UTC offset"]


def test_published_and_updated_accept_any_offset(registry_file: Write) -> None:
    path = registry_file("""\
        - id: a
          title: A
          start: 2022-01-12 10:00
          published: 2026-11-14T09:35:00Z
          updated: 2026-11-14T20:00:00+05:30
        """)
    event = load(path).events[0]
    assert event.published == dt.datetime(2026, 11, 14, 9, 35, tzinfo=dt.UTC)
    assert event.updated == dt.datetime(2026, 11, 14, 14, 30, tzinfo=dt.UTC)
    assert not event.fixed


def test_timezone_must_be_an_iana_name(registry_file: Write) -> None:
    path = registry_file("""\
        - id: a
          title: A
          start: 2022-01-12 10:00
          timezone: europe/riga
        """)
    assert problems(path) == [
        "13:13: error: event 'a' timezone 'europe/riga' is not an IANA time zone name; "
        "did you mean 'Europe/Riga'?"
    ]


def test_local_times_resolve_in_the_event_zone(registry_file: Write) -> None:
    path = registry_file("""\
        - id: a
          title: A
          start: 2021-05-20 09:00
          end: 2021-05-20 11:00
          timezone: America/New_York
        """)
    event = load(path).events[0]
    assert event.start == dt.datetime(2021, 5, 20, 9, tzinfo=ZoneInfo("America/New_York"))
    assert event.start.astimezone(dt.UTC).hour == 13  # type: ignore[union-attr]


def test_yaml_native_timestamps_and_plain_strings_are_both_accepted(
    registry_file: Write,
) -> None:
    path = registry_file("""\
        - id: a
          title: A
          start: 2022-01-12 10:00
          published: 2022-01-03T09:00:00+02:00
          updated: 2022-01-04 10:00:00
        """)
    event = load(path).events[0]
    riga = ZoneInfo("Europe/Riga")
    assert event.start == dt.datetime(2022, 1, 12, 10, tzinfo=riga)
    assert event.published == dt.datetime(2022, 1, 3, 9, tzinfo=riga)
    assert event.updated == dt.datetime(2022, 1, 4, 10, tzinfo=riga)


def test_repeat_must_parse_as_an_rrule(registry_file: Write) -> None:
    path = registry_file("""\
        - id: a
          title: A
          start: 2022-01-12 10:00
          repeat: FREQ=MONTHY;COUNT=3
        """)
    [found] = problems(path)
    assert found.startswith("13:11: error: event 'a' repeat is not a valid RRULE: ")
    assert found.endswith("; e.g. FREQ=MONTHLY;BYDAY=2WE;COUNT=6")


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=WEEKLY;BYMONTH=4,6;BYMONTHDAY=31",
        "FREQ=HOURLY;BYMONTHDAY=-30;BYMONTH=2",
        "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30",
    ],
)
def test_a_repeat_that_matches_no_date_is_an_error(registry_file: Write, rule: str) -> None:
    # dateutil would look for its next date step by step up to the year 9999, for every
    # question a page or a calendar asks: seconds each, a worker stalled.
    path = registry_file(f"""\
        - id: a
          title: A
          start: 2022-01-12 10:00
          repeat: {rule}
        """)
    assert problems(path) == [
        "13:11: error: event 'a' repeat is not a valid RRULE: no date matches all its BY parts "
        "(like BYMONTH=2;BYMONTHDAY=30: 30 February); e.g. FREQ=MONTHLY;BYDAY=2WE;COUNT=6"
    ]


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=DAILY;BYMONTH=2",  # from 30 January: every day of February, not the 30th
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29",  # leap years
        "FREQ=WEEKLY;BYWEEKNO=53;BYDAY=MO",  # years with 53 weeks
        "FREQ=DAILY;BYYEARDAY=366",
        "FREQ=MONTHLY;BYDAY=5MO;BYMONTH=2",  # a leap year's February starting on a Monday
    ],
)
def test_a_rare_repeat_is_not_an_error(registry_file: Write, rule: str) -> None:
    path = registry_file(f"""\
        - id: a
          title: A
          start: 2025-01-30
          repeat: {rule}
        """)
    assert problems(path) == []


def test_except_dates_must_be_occurrences(registry_file: Write) -> None:
    path = registry_file("""\
        - id: a
          title: A
          start: 2022-01-12 10:00
          repeat: FREQ=MONTHLY;BYDAY=2WE;COUNT=6
          except: [2022-03-09, 2022-03-10]
        """)
    assert problems(path) == [
        "14:11: error: event 'a' except 2022-03-10 is not an occurrence of the repeat rule; "
        "list only dates the event repeats on"
    ]


def test_except_without_repeat_is_an_error(registry_file: Write) -> None:
    path = registry_file("""\
        - id: a
          title: A
          start: 2022-01-12
          except: [2022-01-12]
        """)
    assert problems(path) == [
        "13:11: error: event 'a' has 'except' but no 'repeat'; 'except' skips occurrences "
        "of a repeating event"
    ]


def test_unknown_status_is_an_error(registry_file: Write) -> None:
    path = registry_file("""\
        - id: a
          title: A
          start: 2022-01-12
          status: canceled
        """)
    assert problems(path) == [
        "13:11: error: event 'a' status 'canceled' is not one of confirmed, tentative, "
        "cancelled; did you mean 'cancelled'?"
    ]


def test_multiline_title_is_refused(registry_file: Write) -> None:
    path = registry_file("""\
        - id: a
          title: "A\\r\\nEND:VEVENT"
          start: 2022-01-12
        """)
    assert problems(path) == [
        "11:10: error: event 'a' title must be one line; join the lines into one"
    ]


def test_control_characters_are_refused(registry_file: Write) -> None:
    path = registry_file("""\
        - id: a
          title: A
          start: 2022-01-12
          description: "bell \\a here"
        """)
    assert problems(path) == [
        "13:16: error: event 'a' description contains the control character U+0007; "
        "delete it; calendars and feeds cannot carry it"
    ]


def test_all_errors_of_a_file_are_reported_in_one_run(registry_file: Write) -> None:
    path = registry_file("""\
        - id: a
          title: A
          start: 2022-13-01
        - id: b
          titel: B
          start: 2022-01-12
          topics: [nope]
        """)
    found = problems(path)
    assert [f.split(": error")[0] for f in found] == ["12:10", "13:3", "14:3", "16:12"]


def test_missing_calendar_settings_are_reported(registry_file: Write) -> None:
    path = registry_file(
        """\
        - id: a
          title: A
          start: 2022-01-12
        """,
        header="calendar:\n  title: X\nevents:\n",
    )
    assert problems(path) == [
        "2:3: error: calendar has no 'base_url'; add 'base_url:'",
        "2:3: error: calendar has no 'timezone'; add 'timezone:'",
    ]


def test_load_raises_registry_error_carrying_every_problem(registry_file: Write) -> None:
    path = registry_file("""\
        - id: a
          title: A
          start: 2022-01-12
          strat: x
          topics: [x]
        """)
    with pytest.raises(RegistryError) as caught:
        load(path)
    assert len(caught.value.problems) == 2
    assert str(caught.value).endswith("(and 1 more)")


def test_durations_and_feed_items_are_read(registry_file: Write) -> None:
    header = (
        "calendar:\n  title: X\n  base_url: https://x.example/\n  timezone: UTC\n"
        "  refresh: PT12H\n  keep_past: P24M\n  feed_items: 5\nevents:\n"
    )
    registry = load(registry_file("", header=header))
    assert registry.calendar.refresh is not None
    assert registry.calendar.refresh.total_seconds() == 12 * 3600
    assert registry.calendar.keep_past is not None
    assert registry.calendar.keep_past.months == 24
    assert registry.calendar.feed_items == 5


def test_updated_before_published_is_a_warning_not_an_error(registry_file: Write) -> None:
    path = registry_file("""\
        - id: a
          title: A
          start: 2022-01-12
          published: 2022-01-10 10:00
          updated: 2022-01-09 10:00
        """)
    registry, found = read(path)
    assert registry is not None
    assert [str(p).split(":", 1)[1] for p in found] == [
        "14:12: warning: event 'a' updated is before published"
    ]
