"""Hypothesis over whole registries: either valid with every output parsing, or located errors."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import atoma
import feedparser
import icalendar
import vobject
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from icalpub.ledger import Ledger
from icalpub.publish import publish

from .reading import parse
from .test_feeds import json_feed_errors

ANY_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF, blacklist_categories=("Cs",)),
    min_size=0,
    max_size=80,
)
NICE_TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\ufffe\uffff\ufeff"
    ),
    min_size=1,
    max_size=80,
).filter(lambda s: s.strip() != "")
TITLE = st.one_of(
    NICE_TEXT,
    ANY_TEXT,
    st.sampled_from(
        [
            "Rīgā ā č ē ģ ī ķ ļ ņ š ū ž",
            "שלום עולם",
            "a\u0301\u0302\u0303",
            "😀" * 30,
            "x" * 500,
            "END:VEVENT",
            "\\N;,",
            "<b>&amp;</b>",
        ]
    ),
)
TRANSITIONS = {
    "Europe/Riga": (dt.date(2022, 3, 27), dt.date(2022, 10, 30)),
    "America/New_York": (dt.date(2022, 3, 13), dt.date(2022, 11, 6)),
    "Australia/Sydney": (dt.date(2022, 4, 3), dt.date(2022, 10, 2)),
    "Asia/Tokyo": (dt.date(2022, 1, 1), dt.date(2022, 7, 1)),
}
RULES = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "FREQ=DAILY;COUNT=5",
            "FREQ=WEEKLY;COUNT=10",
            "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=6",
            "FREQ=MONTHLY;BYDAY=-1SU;COUNT=4",
            "FREQ=YEARLY",
            "FREQ=WEEKLY;INTERVAL=2",
            "FREQ=WEEKLY;UNTIL=20230101T000000Z",
            "FREQ=BOGUS",
            "COUNT=3",
        ]
    ),
    ANY_TEXT,
)
# Valid rules with days (after the start) that are their occurrences, to skip.
VALID_RULES = {
    "FREQ=DAILY;COUNT=5": [1, 2, 3, 4],
    "FREQ=WEEKLY;COUNT=10": [7, 14, 21],
    "FREQ=WEEKLY;INTERVAL=2": [14, 28],
    "FREQ=WEEKLY;UNTIL=20230101": [7, 14],
}


@st.composite
def events(draw: st.DrawFn, number: int, hostile: bool) -> dict[str, object]:
    """Return one event: any values when `hostile`, else values that must publish."""
    zone = draw(st.sampled_from(sorted(TRANSITIONS)))
    day = draw(st.sampled_from(TRANSITIONS[zone])) + dt.timedelta(days=draw(st.integers(-2, 2)))
    text = st.one_of(NICE_TEXT, TITLE) if hostile else NICE_TEXT
    event: dict[str, object] = {"id": f"e{number}", "title": draw(text)}
    all_day = draw(st.booleans())
    if all_day:
        event["start"] = day.isoformat()
        length = draw(st.integers(-1 if hostile else 0, 3))
        event["end"] = (day + dt.timedelta(days=length)).isoformat()
    else:
        hour, minute = draw(st.integers(0, 23)), draw(st.sampled_from([0, 15, 30, 45]))
        event["start"] = f"{day.isoformat()} {hour:02d}:{minute:02d}"
        event["timezone"] = zone
        if draw(st.booleans()):
            event["end"] = f"{day.isoformat()} {min(23, hour + 2):02d}:{minute:02d}"
    if hostile:
        rule = draw(RULES)
        skips = draw(st.lists(st.integers(0, 20), max_size=2)) if rule else []
    else:
        rule = draw(st.one_of(st.none(), st.sampled_from(sorted(VALID_RULES))))
        skips = draw(st.lists(st.sampled_from(VALID_RULES[rule]), max_size=2)) if rule else []
        if rule and not all_day:
            rule = rule.replace("UNTIL=20230101", "UNTIL=20230101T000000Z")
    if rule is not None:
        event["repeat"] = rule
    if skips:
        event["except"] = sorted({(day + dt.timedelta(days=n)).isoformat() for n in skips})
    event["description"] = draw(st.one_of(NICE_TEXT, ANY_TEXT) if hostile else NICE_TEXT)
    event["location"] = draw(text)
    topics = ["a", "b", "c"] if hostile else ["a", "b"]
    event["topics"] = draw(st.lists(st.sampled_from(topics), max_size=2))
    if draw(st.booleans()):
        statuses = ["confirmed", "tentative", "cancelled"] + (["maybe"] if hostile else [])
        event["status"] = draw(st.sampled_from(statuses))
    return event


@st.composite
def registries(draw: st.DrawFn, hostile: bool | None = None) -> str:
    count = draw(st.integers(1, 4))
    # About one registry in eight may hold anything; the rest must publish.
    if hostile is None:
        hostile = draw(st.booleans()) and draw(st.booleans()) and draw(st.booleans())
    title = st.one_of(NICE_TEXT, TITLE) if hostile else NICE_TEXT
    data = {
        "calendar": {
            "title": draw(title),
            "base_url": "https://p.example/",
            "timezone": draw(st.sampled_from(sorted(TRANSITIONS))),
            "language": draw(st.sampled_from(["lv", "en"])),
        },
        "topics": {"a": {"title": draw(title)}, "b": {"title": "B"}},
        "events": [draw(events(i, hostile)) for i in range(count)],
    }
    return yaml.safe_dump(data, allow_unicode=draw(st.booleans()), sort_keys=False)


def test_a_registry_is_either_published_cleanly_or_refused_with_located_errors() -> None:
    outcomes: Counter[str] = Counter()

    @settings(max_examples=100, deadline=None, database=None)
    @given(text=registries())
    def check(text: str) -> None:
        outcomes[check_one(text)] += 1

    check()
    total = sum(outcomes.values())
    print(f"generated registries: {outcomes['published']} published, {outcomes['refused']} refused")
    # Refusals are cheap to reach; the outputs are only checked on those that publish.
    assert outcomes["published"] * 2 >= total, outcomes


@settings(max_examples=50, deadline=None)
@given(text=registries(hostile=True))
def test_hostile_registries_are_refused_with_located_errors_or_publish_cleanly(text: str) -> None:
    check_one(text)


def check_one(text: str) -> str:
    """Check one generated registry; return 'published' or 'refused'."""
    registry, problems = parse(text.encode("utf-8", "surrogatepass"), "p.yaml")
    if registry is None:
        errors = [p for p in problems if p.severity == "error"]
        assert errors
        lines = text.count("\n") + 1
        for problem in errors:
            assert 1 <= problem.line <= lines and problem.column >= 1
            assert problem.message
        return "refused"
    publication = publish(registry, Ledger(), dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    uids = sorted(f"{e.id}@p.example" for e in registry.events)
    for path, data in publication.files.items():
        if path.endswith(".ics"):
            ours = icalendar.Calendar.from_ical(data)
            theirs = vobject.readOne(data.decode("utf-8"))
            a = sorted(str(e["UID"]) for e in ours.walk("VEVENT"))
            b = sorted(e.uid.value for e in getattr(theirs, "vevent_list", []))
            assert a == b
            if path == "calendar.ics":
                assert a == uids
                skipped = {e.id: e.exceptions for e in registry.events if e.exceptions}
                for vevent in ours.walk("VEVENT"):
                    exdates = vevent.get("EXDATE")
                    found = (
                        {d.dt for x in exdates for d in x.dts}
                        if isinstance(exdates, list)
                        else {d.dt for d in exdates.dts}
                        if exdates
                        else set()
                    )
                    event_id = str(vevent["UID"]).split("@")[0]
                    days = {d.date() if isinstance(d, dt.datetime) else d for d in found}
                    assert days == set(skipped.get(event_id, ())), event_id
        elif path.endswith((".rss", ".atom")):
            parsed = feedparser.parse(data)
            assert parsed.bozo == 0, (path, parsed.get("bozo_exception"))
            parse_strictly = (
                atoma.parse_rss_bytes if path.endswith(".rss") else atoma.parse_atom_bytes
            )
            parse_strictly(data)
        else:
            assert json_feed_errors(data) == [], path
            assert len(atoma.parse_json_feed_bytes(data).items) <= registry.calendar.feed_items
    return "published"
