"""Hypothesis over whole registries: either valid with every output parsing, or located errors."""

from __future__ import annotations

import datetime as dt

import atoma
import feedparser
import icalendar
import vobject
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from icalpub.ledger import Ledger
from icalpub.publish import publish
from icalpub.registry import parse

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


@st.composite
def events(draw: st.DrawFn, number: int) -> dict[str, object]:
    zone = draw(st.sampled_from(sorted(TRANSITIONS)))
    day = draw(st.sampled_from(TRANSITIONS[zone])) + dt.timedelta(days=draw(st.integers(-2, 2)))
    event: dict[str, object] = {"id": f"e{number}", "title": draw(st.one_of(NICE_TEXT, TITLE))}
    if draw(st.booleans()):
        event["start"] = day.isoformat()
        event["end"] = (day + dt.timedelta(days=draw(st.integers(-1, 3)))).isoformat()
    else:
        hour, minute = draw(st.integers(0, 23)), draw(st.sampled_from([0, 15, 30, 45]))
        event["start"] = f"{day.isoformat()} {hour:02d}:{minute:02d}"
        event["timezone"] = zone
        if draw(st.booleans()):
            event["end"] = f"{day.isoformat()} {min(23, hour + 2):02d}:{minute:02d}"
    rule = draw(RULES)
    if rule is not None:
        event["repeat"] = rule
    event["description"] = draw(st.one_of(NICE_TEXT, NICE_TEXT, NICE_TEXT, ANY_TEXT))
    event["location"] = draw(st.one_of(NICE_TEXT, TITLE))
    event["topics"] = draw(st.lists(st.sampled_from(["a", "b", "a", "b", "c"]), max_size=2))
    if draw(st.booleans()):
        event["status"] = draw(st.sampled_from(["confirmed", "tentative", "cancelled", "maybe"]))
    return event


@st.composite
def registries(draw: st.DrawFn) -> str:
    count = draw(st.integers(1, 4))
    data = {
        "calendar": {
            "title": draw(TITLE),
            "base_url": "https://p.example/",
            "timezone": draw(st.sampled_from(sorted(TRANSITIONS))),
            "language": draw(st.sampled_from(["lv", "en"])),
        },
        "topics": {"a": {"title": draw(TITLE)}, "b": {"title": "B"}},
        "events": [draw(events(i)) for i in range(count)],
    }
    return yaml.safe_dump(data, allow_unicode=draw(st.booleans()), sort_keys=False)


@settings(max_examples=100, deadline=None)
@given(text=registries())
def test_a_registry_is_either_published_cleanly_or_refused_with_located_errors(text: str) -> None:
    registry, problems = parse(text.encode("utf-8", "surrogatepass"), "p.yaml")
    if registry is None:
        errors = [p for p in problems if p.severity == "error"]
        assert errors
        lines = text.count("\n") + 1
        for problem in errors:
            assert 1 <= problem.line <= lines and problem.column >= 1
            assert problem.message
        return
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
        elif path.endswith((".rss", ".atom")):
            parsed = feedparser.parse(data)
            assert parsed.bozo == 0, (path, parsed.get("bozo_exception"))
            parse_strictly = (
                atoma.parse_rss_bytes if path.endswith(".rss") else atoma.parse_atom_bytes
            )
            parse_strictly(data)
        else:
            assert len(atoma.parse_json_feed_bytes(data).items) <= registry.calendar.feed_items
