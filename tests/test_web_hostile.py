"""Hostile requests and hostile registry text: a correct 2xx/4xx, never a 500, never live markup."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import icalendar
import pytest
import yaml
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icalpub.live import Live
from icalpub.service import create_service

from .test_feeds import _Inspector, assert_inert

TRAVERSALS = [
    "/topics/..%2f..%2fetc%2fpasswd.ics",
    "/topics/../../etc/passwd.ics",
    "/topics/%2e%2e%2f%2e%2e%2fevents.yaml",
    "/events/..%2fevents.yaml.ics",
    "/events/../../events.lock",
    "/events/%2e%2e%2fcalendar.ics",
    "/static/../events.yaml",
    "/static/..%2f..%2fevents.yaml",
    "/static/%2e%2e/%2e%2e/wsgi.py",
    "/calendar/../events.yaml",
    "/events/%00.ics",
    "/topics/%00.ics",
    "/topics/training.ics%00.html",
    "//etc/passwd",
    "/events/a%0d%0aSet-Cookie:%20x=1.ics",
    "/topics/training%0d%0aX-Injected:%201.ics",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_traversal_never_reaches_a_file(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert 400 <= response.status_code < 500, (path, response.status_code)
    assert b"calendar:" not in response.data and b"import" not in response.data
    assert "X-Injected" not in response.headers and "Set-Cookie" not in response.headers


@pytest.mark.parametrize(
    "method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND", "BREW"]
)
@pytest.mark.parametrize(
    "path",
    [
        "/calendar.ics",
        "/topics/training.rss",
        "/",
        "/subscribe",
        "/events/es-diena-2018",
        "/healthz",
    ],
)
def test_other_methods_are_refused(client: FlaskClient, method: str, path: str) -> None:
    status = client.open(path, method=method).status_code
    assert status == (200 if method == "OPTIONS" else 405), (method, path, status)


def test_overlong_path_and_query_are_4xx_or_ignored(client: FlaskClient) -> None:
    assert client.get("/topics/" + "a" * 100_000 + ".ics").status_code == 404
    assert client.get("/events/" + "a" * 100_000).status_code == 404
    long_query = "/calendar.ics?" + "x=" + "y" * 200_000
    assert client.get(long_query).status_code == 200
    assert client.get("/subscribe?" + "&".join(["topic=training"] * 1000)).status_code == 200
    assert (
        client.get("/feed.json?" + "&".join([f"topic=t{i}" for i in range(1000)])).status_code
        == 400
    )


@pytest.mark.parametrize(
    "header,value",
    [
        ("Range", "bytes=0-10"),
        ("Range", "bytes=999999999-"),
        ("Range", "garbage"),
        ("If-None-Match", '"' + "a" * 10_000 + '"'),
        ("If-Modified-Since", "Tue, 31 Feb 2022 25:61:61 GMT"),
        ("If-Modified-Since", "0"),
        ("Accept-Encoding", "gzip;q=0, identity"),
        ("Accept-Language", "xx-" + "y" * 5000),
        ("Accept-Language", "lv;q=abc, en;q=0.5"),
        ("Host", "evil.example"),
        ("X-Forwarded-Host", "evil.example"),
    ],
)
def test_odd_headers_get_correct_answers(client: FlaskClient, header: str, value: str) -> None:
    for path in ("/calendar.ics", "/calendar/2022/01", "/subscribe"):
        response = client.get(path, headers={header: value})
        assert response.status_code in (200, 304), (path, header, response.status_code)
        assert b"evil.example" not in response.data


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.text(
        alphabet=st.characters(
            min_codepoint=32, max_codepoint=0x10FFFF, blacklist_categories=("Cs",)
        ),
        max_size=60,
    ),
    prefix=st.sampled_from(
        [
            "/",
            "/topics/",
            "/events/",
            "/calendar/",
            "/static/",
            "/calendar.ics?topic=",
            "/subscribe?topic=",
            "/events/?q=",
            "/events/?from=",
            "/archive/",
            "/embed/?limit=",
            "/poster/",
            "/?lang=",
            "/en/",
            "/en/events/",
            "/en/topics/",
            "/lv/",
            "/xx/",
        ]
    ),
)
def test_random_urls_never_500(client: FlaskClient, prefix: str, path: str) -> None:
    from urllib.parse import quote

    # A leading "//" would make the test client read a host name out of the path
    # (an IDNA error in the client, before any request); "//etc/passwd" is in TRAVERSALS.
    response = client.get(prefix + quote(path, safe="/?=&").lstrip("/"))
    assert response.status_code < 500


ODD_IDS = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=0x10FFFF, blacklist_categories=("Cs",)),
    min_size=1,
    max_size=90,
) | st.from_regex(r"[a-z0-9][a-z0-9-]{0,95}", fullmatch=True)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    language=st.sampled_from(["", "/en", "/lv"]),
    year=st.integers(min_value=0, max_value=10000),
    month=st.integers(min_value=0, max_value=13),
    width=st.sampled_from([None, 1, 4, 6]),
)
def test_every_month_page_of_years_1_to_9999_answers_without_500(
    client: FlaskClient, language: str, year: int, month: int, width: int | None
) -> None:
    written = f"{year:0{width}d}" if width else str(year)
    response = client.get(f"{language}/calendar/{written}/{month:02d}", follow_redirects=True)
    assert response.status_code in (200, 404)
    if 1 <= year <= 9998 and 1 <= month <= 12:
        assert response.status_code == 200
        assert f"{year}" in response.get_data(as_text=True)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    template=st.sampled_from(
        [
            "/events/{}",
            "/events/{}.ics",
            "/en/events/{}",
            "/topics/{}.ics",
            "/topics/{}.atom",
            "/topics/{}.rss",
            "/topics/{}.json",
            "/en/topics/{}.atom",
            "/calendar.ics?topic={}",
            "/feed.atom?topic={}",
            "/?topic={}",
            "/subscribe?topic={}",
            "/calendar/2024/05?topic={}",
        ]
    ),
    value=ODD_IDS,
)
def test_odd_ids_and_topics_in_every_public_address_never_500(
    client: FlaskClient, template: str, value: str
) -> None:
    from urllib.parse import quote

    response = client.get(template.format(quote(value, safe="")))
    assert response.status_code in (200, 301, 302, 308, 400, 404), response.status_code


def test_the_first_month_there_is_has_no_link_before_it(client: FlaskClient) -> None:
    page = client.get("/calendar/0001/01")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'rel="prev"' not in text and 'href="/calendar/0001/02"' in text


PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'><svg onload=alert(3)>"


def hostile_registry(folder: Path) -> Path:
    contact = {"name": PAYLOAD, "phone": '1"><script>x</script>'}
    registry = {
        "calendar": {
            "title": "Kalendārs " + PAYLOAD,
            "description": PAYLOAD,
            "base_url": "https://calendar.example.lv/",
            "timezone": "Europe/Riga",
            "languages": ["lv", "en"],
            "contact": contact,
        },
        "topics": {"evil": {"title": {"lv": PAYLOAD, "en": PAYLOAD}, "description": PAYLOAD}},
        "events": [
            {
                "id": "evil",
                "title": {"lv": PAYLOAD, "en": PAYLOAD},
                "start": "2022-01-05 10:00",
                "end": "2022-01-05 11:00",
                "location": PAYLOAD,
                "topics": ["evil"],
                "summary": {"lv": PAYLOAD, "en": PAYLOAD},  # the location falls back in English
                "description": PAYLOAD + " [x](javascript:alert(4)) <a href='javascript:x'>y</a>",
                "url": 'https://example.org/?q="><script>alert(6)</script>',
                "contact": {"name": PAYLOAD, "phone": PAYLOAD, "email": 'a"<b>@x.lv'},
            }
        ],
    }
    path = folder / "events.yaml"
    path.write_text(yaml.safe_dump(registry, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def assert_inert_page(html: str) -> None:
    """Like assert_inert, but the page's own script and relative links are fine."""
    inspector = _Inspector()
    inspector.feed(html)
    for data in re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S):
        assert "<" not in data and ">" not in data  # JSON-LD: markup only as \u003c escapes
    for tag, attrs in inspector.found:
        values = dict(attrs)
        if tag == "script" and values.get("type") == "application/ld+json":
            continue  # data, never run: its text is checked below
        if tag == "script":
            assert (values.get("src") or "").startswith("/static/"), values
            continue
        if tag == "svg" and values.get("class") == "qr" and values.get("role") == "img":
            continue  # the page's own QR code (segno's SVG of one path)
        assert tag not in {"iframe", "svg", "img", "style", "object", "embed"}, tag
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            if name in {"href", "src", "action"}:
                scheme = urlsplit(value or "").scheme.lower()
                assert scheme in {"", "http", "https", "mailto", "tel", "webcal"}, value


def test_editor_markup_in_every_field_stays_text_in_every_page_and_feed(tmp_path: Path) -> None:
    client = create_service(live=Live(hostile_registry(tmp_path), background=False)).test_client()
    for url in (
        "/calendar/2022/01",
        "/calendar/2022/01?topic=evil",
        "/events/evil",
        "/subscribe",
        "/subscribe?topic=evil",
        "/events/nope",
        "/en/calendar/2022/01",
        "/en/events/evil",
        "/en/subscribe?topic=evil",
        "/archive/2022",
        "/en/archive/2022?q=x",
        "/poster/evil",
        "/clients",
    ):
        response = client.get(url)
        assert response.status_code in (200, 404)
        assert_inert_page(response.text)
        assert "&lt;script&gt;" in response.text  # the text is shown, escaped
    feeds = ("/feed.rss", "/feed.atom", "/topics/evil.rss", "/topics/evil.atom")
    for url in (*feeds, *(f"/en{f}" for f in feeds)):
        import feedparser

        parsed = feedparser.parse(client.get(url).data)
        assert parsed.bozo == 0
        for entry in parsed.entries:
            html = entry.content[0].value if "content" in entry else entry.description
            assert_inert(html)
    for prefix in ("", "/en"):
        feed = json.loads(client.get(f"{prefix}/feed.json").data)
        assert_inert(feed["items"][0]["content_html"])
        calendar = icalendar.Calendar.from_ical(client.get(f"{prefix}/calendar.ics").data)
        [event] = calendar.walk("VEVENT")
        assert_inert(str(event["X-ALT-DESC"]))
        assert str(event["SUMMARY"]) == PAYLOAD  # plain text: kept as written
