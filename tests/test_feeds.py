"""Feeds parse with feedparser (bozo 0) and atoma, keep ids across edits, and carry no script."""

from __future__ import annotations

import datetime as dt
import json
import locale
import subprocess
import sys
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import atoma
import feedparser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icalpub.feeds import atom, items, json_feed, rss
from icalpub.ledger import Ledger, reconcile
from icalpub.model import Calendar, Event, Registry
from icalpub.reader import load

from .conftest import SHIPPED, missing

Write = Callable[..., Path]
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
RENDERERS = {"rss": rss, "atom": atom, "json": json_feed}


JSON_FEED_SCHEMA = json.loads(
    (Path(__file__).parent / "data" / "jsonfeed-1.1.schema.json").read_text("utf-8")
)


def json_feed_errors(data: bytes) -> list[str]:
    """Return where a JSON Feed breaks the JSON Feed 1.1 structure (empty when it is valid)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(JSON_FEED_SCHEMA)
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(json.loads(data))
    ]


def fparse(data: bytes, fmt: str) -> feedparser.FeedParserDict:
    """Parse with feedparser; JSON Feed (which feedparser 6.0 does not read) through atoma.

    A JSON Feed's `bozo` is whether it breaks the JSON Feed 1.1 schema.
    """
    if fmt != "json":
        return feedparser.parse(data)
    errors = json_feed_errors(data)
    feed = atoma.parse_json_feed_bytes(data)
    entries = [
        feedparser.FeedParserDict(
            id=i.id_,
            link=i.url,
            title=i.title,
            content=[feedparser.FeedParserDict(value=i.content_html)],
        )
        for i in feed.items
    ]
    return feedparser.FeedParserDict(
        bozo=int(bool(errors)), bozo_exception="; ".join(errors), entries=entries
    )


def render(registry: Registry, fmt: str, topics: tuple[str, ...] = ()) -> bytes:
    stamps = reconcile(registry, Ledger(), NOW).stamps
    return RENDERERS[fmt](registry, stamps, topics)


@pytest.fixture(scope="module")
def shipped() -> Registry:
    return load(SHIPPED)


def parse_independently(fmt: str, data: bytes) -> list[tuple[str, str]]:
    """Return (id, link) of each item as atoma, a strict parser, reads them."""
    if fmt == "rss":
        feed = atoma.parse_rss_bytes(data)
        return [(i.guid or "", i.link or "") for i in feed.items]
    if fmt == "atom":
        feed = atoma.parse_atom_bytes(data)
        return [(e.id_, e.links[0].href) for e in feed.entries]
    feed = atoma.parse_json_feed_bytes(data)
    return [(i.id_, i.url) for i in feed.items]


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
@pytest.mark.parametrize("topics", [(), ("training",), ("meeting", "project")])
def test_feeds_parse_with_two_parsers_and_match_the_registry(
    shipped: Registry, fmt: str, topics: tuple[str, ...]
) -> None:
    data = render(shipped, fmt, topics)
    parsed = fparse(data, fmt)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    stamps = reconcile(shipped, Ledger(), NOW).stamps
    chosen = items(shipped, stamps, topics)
    expected = [f"https://calendar.example.lv/events/{e.id}" for e in chosen]
    assert [e.id for e in parsed.entries] == expected
    assert [e.link for e in parsed.entries] == expected
    assert parse_independently(fmt, data) == list(zip(expected, expected, strict=True))


def test_items_are_newest_published_first_and_capped(registry_file: Write) -> None:
    header = (
        "calendar:\n  title: X\n  base_url: https://x.example/\n  timezone: UTC\n"
        "  feed_items: 2\nevents:\n"
    )
    registry = load(
        registry_file(
            """\
        - id: future-start-old-news
          title: A
          start: 2030-01-01
          published: 2022-01-01 10:00
        - id: newest
          title: B
          start: 2021-01-01
          published: 2022-03-01 10:00
        - id: middle
          title: C
          start: 2022-06-01
          published: 2022-02-01 10:00
        """,
            header=header,
        )
    )
    parsed = feedparser.parse(render(registry, "atom"))
    assert [e.id.rsplit("/", 1)[1] for e in parsed.entries] == ["newest", "middle"]


def test_an_edited_event_keeps_its_id_and_a_deleted_one_disappears(registry_file: Write) -> None:
    events = """\
        - id: a
          title: Before
          start: 2022-01-01
        - id: b
          title: B
          start: 2022-01-02
        """
    first = load(registry_file(events))
    edited = load(registry_file(events.replace("Before", "After").split("- id: b")[0]))
    for fmt in ("rss", "atom", "json"):
        one = fparse(render(first, fmt), fmt)
        two = fparse(render(edited, fmt), fmt)
        assert [e.id for e in two.entries] == [one.entries[1].id]
        assert two.entries[0].title == "After"


def test_item_content_starts_with_date_and_place(shipped: Registry) -> None:
    data = json.loads(render(shipped, "json", ("training",)))
    item = next(i for i in data["items"] if i["id"].endswith("frem-ii-macibas-2018-09"))
    assert item["content_html"].startswith(
        "<p><strong>2018. gada 25.–26. septembris, Rīga</strong></p>"
    )
    assert data["title"] == "Notikumu kalendārs: Mācības"
    assert data["feed_url"] == "https://calendar.example.lv/topics/training.json"


def test_atom_has_self_and_alternate_links(shipped: Registry) -> None:
    parsed = feedparser.parse(render(shipped, "atom", ("campaign",)))
    rels = {link.rel: link.href for link in parsed.feed.links}
    assert rels == {
        "self": "https://calendar.example.lv/topics/campaign.atom",
        "alternate": "https://calendar.example.lv/?topic=campaign",
    }


def test_feed_updated_is_the_newest_item_change_not_the_clock(shipped: Registry) -> None:
    parsed = feedparser.parse(render(shipped, "rss"))
    assert parsed.feed.updated == "Mon, 09 Oct 2023 06:00:00 +0000"


def test_rss_dates_are_english_whatever_the_locale(shipped: Registry) -> None:
    try:
        old = locale.setlocale(locale.LC_ALL)
        locale.setlocale(locale.LC_ALL, "lv_LV.UTF-8")
    except locale.Error:
        missing("the lv_LV.UTF-8 locale (.ci/run generates it with localedef)")
    try:
        assert dt.date(2022, 1, 3).strftime("%a %b") != "Mon Jan"  # the locale is in effect
        data = render(shipped, "rss")
    finally:
        locale.setlocale(locale.LC_ALL, old)
    assert b"<pubDate>Mon, 09 Oct 2023 09:00:00 +0300</pubDate>" in data
    assert data == render(shipped, "rss")


def test_feeds_are_byte_identical_across_processes_zones_and_locales() -> None:
    script = (
        "import datetime as dt,sys;from icalpub.reader import load;"
        "from icalpub.ledger import reconcile,Ledger;from icalpub import feeds, ical;"
        f"r=load({str(SHIPPED)!r});s=reconcile(r,Ledger(),dt.datetime(2026,1,1,tzinfo=dt.UTC)).stamps;"
        "sys.stdout.buffer.write(feeds.rss(r,s)+feeds.atom(r,s)+feeds.json_feed(r,s)"
        "+ical.calendar_ics(r,s))"
    )
    outputs = set()
    for env in (
        {"TZ": "UTC", "LC_ALL": "C", "PYTHONHASHSEED": "1"},
        {"TZ": "America/New_York", "LC_ALL": "lv_LV.UTF-8", "PYTHONHASHSEED": "2"},
    ):
        result = subprocess.run(
            [sys.executable, "-c", script],
            env={**env, "PATH": "/usr/bin"},
            capture_output=True,
            check=True,
        )
        outputs.add(result.stdout)
    assert len(outputs) == 1


HOSTILE = st.lists(
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[x](javascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "<a href='javascript:x'>y</a>",
            '<svg onload="alert(1)">',
            "<iframe src=//evil>",
            "&lt;script&gt;",
            "**b**",
            "<style>*{}</style>",
            "[ok](https://ok.example/)",
            "\n\n",
            "text ",
            "`<script>`",
            "<p onclick=x>",
            "[x](vbscript:msgbox)",
            "![i](javascript:alert(1))",
            "<",
        ]
    ),
    min_size=1,
    max_size=12,
).map("".join)


@settings(max_examples=40, deadline=None)
@given(description=HOSTILE, title=HOSTILE.map(lambda s: s.replace("\n", " ").strip() or "t"))
def test_no_script_or_handler_survives_into_any_feed(description: str, title: str) -> None:
    calendar = Calendar(title="T", base_url="https://x.example/", timezone="UTC")
    event = Event(
        id="a",
        title=title,
        start=dt.date(2022, 1, 1),
        end=None,
        timezone="UTC",
        location=title,
        description=description,
        summary=title,
    )
    registry = Registry(calendar, (), (event,))
    for fmt in ("rss", "atom", "json"):
        data = render(registry, fmt)
        parsed = fparse(data, fmt)
        assert parsed.bozo == 0
        entry = parsed.entries[0]
        html = entry.content[0].value if fmt != "rss" else entry.description
        if fmt == "json":
            html = json.loads(data)["items"][0]["content_html"]
        assert_inert(html)


class _Inspector(HTMLParser):
    """Collect every tag and attribute as a browser would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def assert_inert(html: str) -> None:
    """Fail if `html` has a script-capable element, an event handler or a script URL."""
    inspector = _Inspector()
    inspector.feed(html)
    for tag, attrs in inspector.found:
        assert tag not in {"script", "iframe", "svg", "img", "style", "object", "embed"}, tag
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            if name in {"href", "src"}:
                assert (value or "").split(":")[0].strip().lower() in {
                    "http",
                    "https",
                    "mailto",
                    "tel",
                }


def test_every_published_json_feed_holds_to_json_feed_1_1() -> None:
    from .conftest import ROOT

    feeds = sorted((ROOT / "tests" / "expected").rglob("*.json"))
    feeds = [p for p in feeds if p.name != "index.json"]
    assert len(feeds) >= 4
    for path in feeds:
        assert json_feed_errors(path.read_bytes()) == [], path


def test_the_json_feed_schema_refuses_what_the_spec_refuses(shipped: Registry) -> None:
    good = json.loads(render(shipped, "json"))
    assert json_feed_errors(json.dumps(good).encode()) == []
    broken = [
        {**good, "version": "https://jsonfeed.org/version/1"},
        {k: v for k, v in good.items() if k != "title"},
        {**good, "author": {"name": "x"}},  # 1.0's key; 1.1 extensions start with '_'
        {**good, "items": [{**good["items"][0], "date_published": "2022-01-03 09:00"}]},
        {**good, "items": [{"id": "x", "url": good["items"][0]["url"]}]},  # no content
    ]
    for feed in broken:
        assert json_feed_errors(json.dumps(feed).encode()), feed
