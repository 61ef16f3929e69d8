"""The agenda (/events/), the archive (/archive/<yyyy>) and the widget page (/embed/)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import html5lib
import pytest
from flask.testing import FlaskClient

from icalpub.agenda import fold, matches
from icalpub.live import Live
from icalpub.service import create_service

from .conftest import HEADER


def on(site: Path, day: dt.date, **config: str) -> FlaskClient:
    """Return a client of the app over `site` on `day` (noon UTC), with `config` set."""
    moment = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    app = create_service(live=Live(site, background=False, now=lambda: moment), editor=False)
    app.config.update(config)
    return app.test_client()


def tree(html: str) -> object:
    """Parse strictly (the page must be valid HTML5) into an ElementTree without namespaces."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    return parser.parse(html)


def listed(html: str) -> list[tuple[str, str]]:
    """Return (event page href, date shown) of each item of the page's event list."""
    root = tree(html)
    items = []
    for li in root.iterfind(".//ol[@class='events agenda']/li"):  # type: ignore[attr-defined]
        link = li.find("a")
        when = li.find("span[@class='when']/time")
        items.append((link.get("href"), when.get("datetime")[:10]))
    return items


JANUARY_2022 = dt.date(2022, 1, 1)


def test_agenda_lists_each_upcoming_occurrence_in_date_order_from_today(site: Path) -> None:
    html = on(site, JANUARY_2022).get("/events/").text
    assert listed(html) == [
        ("/events/darba-grupa-2022", "2022-01-12"),
        ("/events/pasvaldibu-macibas-2022-01", "2022-01-18"),
        ("/events/projekta-sanaksme-2022-01", "2022-01-25"),
        ("/events/robezsardzes-macibas-2022-01", "2022-01-27"),
        ("/events/konference-2022-01", "2022-01-31"),
        ("/events/darba-grupa-2022", "2022-02-09"),  # 9 March is an exception
        ("/events/skolu-kampana-2022-04", "2022-04-04"),
        ("/events/darba-grupa-2022", "2022-04-13"),
        ("/events/darba-grupa-2022", "2022-05-11"),
        ("/events/darba-grupa-2022", "2022-06-08"),
        ("/events/es-diena-2022", "2022-10-18"),
    ]
    assert '<h2 id="results-heading">11 notikumi</h2>' in html
    assert "<del>Konference" in html and "(Atcelts)" in html


def test_search_folds_accents_and_case_and_reads_every_language(site: Path) -> None:
    client = on(site, JANUARY_2022)
    latvian = [href for href, _ in listed(client.get("/events/?q=MACIBAS").text)]
    assert latvian == ["/events/pasvaldibu-macibas-2022-01", "/events/robezsardzes-macibas-2022-01"]
    # The English page finds the Latvian word, and shows the English titles.
    english = client.get("/en/events/?q=macibas").text
    assert [h for h, _ in listed(english)] == [
        "/en/events/pasvaldibu-macibas-2022-01",
        "/en/events/robezsardzes-macibas-2022-01",
    ]
    # "riga" finds "Rīga" (Latvian place) and "Riga" (English); all words must match.
    riga = [h for h, _ in listed(client.get("/events/?q=riga+konference").text)]
    assert riga == ["/events/konference-2022-01"]
    assert listed(client.get("/events/?q=nothing-like-this").text) == []
    assert "Neviens gaidāms notikums neatbilst." in client.get("/events/?q=zzz").text


def test_fold_and_matches_cover_latvian_letters() -> None:
    assert fold("Mācības ĢIMNĀZIJĀ, Rēzekne, Čiekurkalns, Šķūnis, Žīdiņš") == (
        "macibas gimnazija, rezekne, ciekurkalns, skunis, zidins"
    )
    from icalpub.reader import load

    from .conftest import SHIPPED

    event = load(SHIPPED).event("robezsardzes-macibas-2022-01")
    assert event is not None
    assert matches(event, "rezekne macibas") and not matches(event, "rezekne valmiera")


def test_topics_are_a_union_and_dates_bound_the_list(site: Path) -> None:
    client = on(site, JANUARY_2022)
    union = listed(client.get("/events/?topic=training&topic=campaign").text)
    assert [h for h, _ in union] == [
        "/events/pasvaldibu-macibas-2022-01",
        "/events/robezsardzes-macibas-2022-01",
        "/events/skolu-kampana-2022-04",
        "/events/es-diena-2022",
    ]
    spring = listed(client.get("/events/?from=2022-02-01&to=2022-05-31").text)
    assert spring == [
        ("/events/darba-grupa-2022", "2022-02-09"),
        ("/events/skolu-kampana-2022-04", "2022-04-04"),
        ("/events/darba-grupa-2022", "2022-04-13"),
        ("/events/darba-grupa-2022", "2022-05-11"),
    ]
    # A campaign that began before `from` and is still going on is listed.
    going_on = listed(client.get("/events/?from=2022-04-20&to=2022-04-30").text)
    assert going_on == [("/events/skolu-kampana-2022-04", "2022-04-04")]
    # `from` before today is today: the agenda lists what is to come.
    assert listed(client.get("/events/?from=2021-01-01&to=2022-01-15").text) == [
        ("/events/darba-grupa-2022", "2022-01-12")
    ]


def test_a_date_that_is_not_one_is_named_and_left_out(site: Path) -> None:
    response = on(site, JANUARY_2022).get("/en/events/?from=31.01.2022&to=2022-01-20")
    assert response.status_code == 200
    assert "A date is written as YYYY-MM-DD" in response.text
    assert 'id="from" name="from" type="date" value="" aria-invalid="true"' in response.text
    assert [d for _, d in listed(response.text)] == ["2022-01-12", "2022-01-18"]


def test_unknown_topic_is_404_naming_the_topics(site: Path) -> None:
    response = on(site, JANUARY_2022).get("/en/events/?topic=nope")
    assert response.status_code == 404
    assert "Training" in response.text


def many(registry_file: Callable[..., Path], count: int) -> Path:
    lines = "".join(
        f"  - {{id: e{n:03d}, title: Notikums {n}, start: 2030-01-01, topics: [training]}}\n"
        f"  - {{id: p{n:03d}, title: Projekts {n}, start: 2030-01-{1 + n % 28:02d}, "
        "topics: [project]}\n"
        for n in range(count)
    )
    return registry_file(lines, header=HEADER)


def test_pages_of_twenty_keep_the_filters_and_end(
    registry_file: Callable[..., Path],
) -> None:
    client = on(many(registry_file, 25), dt.date(2029, 12, 1))
    first = client.get("/events/?topic=training").text
    assert len(listed(first)) == 20 and "1. lapa no 2" in first
    root = tree(first)
    following = root.find(".//nav[@class='pages']/a[@rel='next']")  # type: ignore[attr-defined]
    parts = urlsplit(following.get("href"))
    assert parts.path == "/events/"
    assert parse_qsl(parts.query) == [("topic", "training"), ("page", "2")]
    second = client.get(following.get("href")).text
    assert len(listed(second)) == 5
    assert {h for h, _ in listed(first) + listed(second)} == {
        f"/events/e{n:03d}" for n in range(25)
    }
    assert client.get("/events/?topic=training&page=3").status_code == 404
    assert client.get("/events/?page=x").status_code == 404
    assert len(listed(client.get("/events/?page=3").text)) == 10  # 50 events


def test_every_filtered_view_offers_exactly_its_subscription(site: Path) -> None:
    client = on(site, JANUARY_2022)
    root = tree(client.get("/en/events/?topic=training&topic=meeting&q=x").text)
    section = root.find(".//section[@class='exactly']")  # type: ignore[attr-defined]
    hrefs = [a.get("href") for a in section.iter("a")]
    assert hrefs[:5] == [
        "/en/subscribe?topic=meeting&topic=training",
        "https://calendar.example.lv/en/calendar.ics?topic=meeting&topic=training",
        "https://calendar.example.lv/en/feed.rss?topic=meeting&topic=training",
        "https://calendar.example.lv/en/feed.atom?topic=meeting&topic=training",
        "https://calendar.example.lv/en/feed.json?topic=meeting&topic=training",
    ]
    assert "the search words and dates only narrow this list" in "".join(section.itertext())
    one = tree(client.get("/events/?topic=training").text)
    links = [a.get("href") for a in one.iterfind(".//section[@class='exactly']//a")]  # type: ignore[attr-defined]
    assert "https://calendar.example.lv/topics/training.ics" in links
    assert "https://calendar.example.lv/topics/training.json" in links


def test_archive_lists_a_years_past_events_and_links_the_years(site: Path) -> None:
    client = on(site, dt.date(2022, 2, 1))
    html = client.get("/en/archive/2022").text
    assert [h for h, _ in listed(html)] == [
        "/en/events/darba-grupa-2022",
        "/en/events/pasvaldibu-macibas-2022-01",
        "/en/events/projekta-sanaksme-2022-01",
        "/en/events/robezsardzes-macibas-2022-01",
        "/en/events/konference-2022-01",
    ]  # February's meeting is still to come
    years = tree(html).iterfind(".//nav[@class='years']//a")  # type: ignore[attr-defined]
    assert [(a.text, a.get("href")) for a in years] == [
        (str(y), f"/en/archive/{y}") for y in range(2018, 2023)
    ]
    assert client.get("/archive/").headers["Location"] == "/archive/2022"
    assert "Nav pagājušu notikumu 2030. gadā." in client.get("/archive/2030").text
    assert client.get("/archive/02022").headers["Location"] == "/archive/2022"
    assert client.get("/archive/0001").status_code == 404  # outside 1000–9998, as events


def test_the_lists_reach_every_year_an_event_may_have(tmp_path: Path) -> None:
    site = tmp_path / "events.yaml"
    site.write_text(
        HEADER
        + "  - {id: sena, title: Sena sapulce, start: 1500-05-01}\n"
        + "  - {id: talu, title: Tāla sapulce, start: 9998-05-01}\n",
        "utf-8",
    )
    client = on(site, JANUARY_2022)
    assert listed(client.get("/archive/1500").text) == [("/events/sena", "1500-05-01")]
    found = client.get("/events/?from=9998-01-01&to=9998-12-31").text
    assert listed(found) == [("/events/talu", "9998-05-01")]
    assert listed(client.get("/events/?from=9998-01-01").text) == [("/events/talu", "9998-05-01")]


@pytest.mark.parametrize(
    "url",
    [
        "/events/?from=9999-12-31",
        "/events/?to=0001-01-01",
        "/events/?from=0001-01-01&to=9999-12-31",
        "/events/?from=2022-13-01",
        "/events/?page=999999",
        "/events/?page=-1",
        "/events/?from=9998-12-31",  # a year's horizon after it is past date.max
        "/events/?q=" + "%C4%81" * 500,
        "/events/?q=%00%FF",
        "/embed/?limit=99999999",
        "/embed/?limit=-3",
        "/archive/9999",
        "/archive/999999",
        "/poster/%2e%2e",
    ],
)
def test_odd_values_never_answer_500(site: Path, url: str) -> None:
    response = on(site, JANUARY_2022).get(url)
    assert response.status_code in (200, 301, 302, 404)


@pytest.mark.parametrize(
    "url",
    [
        "/events/",
        "/en/events/?q=r%C4%ABga&topic=meeting&from=2022-01-01&to=bad",
        "/events/?q=zzz",
        "/archive/2019",
        "/en/archive/2021",
        "/embed/",
        "/en/embed/?topic=training&limit=2",
    ],
)
def test_agenda_pages_are_valid_html5_with_language_alternates(site: Path, url: str) -> None:
    response = on(site, JANUARY_2022).get(url)
    assert response.status_code == 200
    root = tree(response.text)
    if not url.startswith(("/embed", "/en/embed")):
        alternates = {
            a.get("hreflang"): a.get("href")
            for a in root.iterfind(".//link[@rel='alternate']")  # type: ignore[attr-defined]
            if a.get("hreflang")
        }
        path = url.removeprefix("/en")
        assert alternates["lv"] == "https://calendar.example.lv" + path
        assert alternates["en"] == "https://calendar.example.lv/en" + path


def test_embed_is_compact_and_framed_only_by_the_allowed_sites(site: Path) -> None:
    response = on(site, JANUARY_2022).get("/en/embed/?topic=meeting&limit=2")
    root = tree(response.text)
    assert root.find(".//header") is None  # type: ignore[attr-defined]
    links = root.findall(".//ol/li/a")  # type: ignore[attr-defined]
    assert [(a.get("href"), a.get("target")) for a in links] == [
        ("/en/events/darba-grupa-2022", "_top"),
        ("/en/events/projekta-sanaksme-2022-01", "_top"),
    ]
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://calendar.example.lv;" in policy
    allowed = on(
        site,
        JANUARY_2022,
        ICALPUB_EMBED_ANCESTORS="https://www.iem.gov.lv https://*.example.org bad;injected",
    ).get("/embed/")
    policy = allowed.headers["Content-Security-Policy"]
    assert "frame-ancestors https://www.iem.gov.lv https://*.example.org;" in policy
    assert "injected" not in policy
    # The other pages may be framed by nobody.
    assert (
        "frame-ancestors 'none'"
        in on(site, JANUARY_2022).get("/events/").headers["Content-Security-Policy"]
    )
