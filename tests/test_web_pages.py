"""Pages in Latvian and English: the month grid, event pages, subscribe, 404s (test client)."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from flask.testing import FlaskClient

LV = {"Accept-Language": "lv"}
EN = {"Accept-Language": "en-GB,en;q=0.8"}


class Page(HTMLParser):
    """Collect links, alternates and the text of elements with an id or class of interest."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []  # (href, text)
        self.alternates: list[dict[str, str | None]] = []
        self.lang: str | None = None
        self._href: str | None = None
        self._text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.lang = values.get("lang")
        if tag == "link" and values.get("rel") == "alternate":
            self.alternates.append(values)
        if tag == "a":
            self._href = values.get("href") or ""
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join("".join(self._text).split())))
            self._href = None


def cell(html: str, day: str) -> str:
    match = re.search(rf'<td class="[^"]*" data-date="{day}">(.*?)</td>', html, re.S)
    assert match, day
    return match.group(1)


def test_january_2022_in_latvian_has_the_heading_and_events_on_their_days(
    client: FlaskClient,
) -> None:
    response = client.get("/calendar/2022/01", headers=LV)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    html = response.text
    page = Page(html)
    assert page.lang == "lv"
    assert "<h1>Notikumu kalendārs - Janvāris, 2022</h1>" in html
    assert "Cilvēku tirdzniecības novēršanas starpinstitūciju darba grupas sēde" in cell(
        html, "2022-01-12"
    )
    for day in ("2022-01-18", "2022-01-19", "2022-01-20"):  # a three-day training on each day
        assert "Mācības pašvaldību sociālajiem darbiniekiem" in cell(html, day)
    assert "Mācības pašvaldību" not in cell(html, "2022-01-21")
    cancelled = cell(html, "2022-01-31")
    assert "<del>Konference" in cancelled and "(Atcelts)" in cancelled
    assert 'class="other"' in html and 'data-date="2021-12-27"' in html  # weeks start Monday
    assert "pirmdiena" in html  # day names from CLDR
    assert "Šī mēneša notikumi" in html


def test_english_pages_live_under_en_and_each_address_has_one_language(
    client: FlaskClient,
) -> None:
    english = client.get("/en/calendar/2022/01", headers=LV).text
    assert Page(english).lang == "en"
    assert "<h1>Calendar of events - January, 2022</h1>" in english
    assert "Monday" in english and "Events this month" in english
    assert "Training for municipal social workers: recognising victims" in cell(
        english, "2022-01-18"
    )
    # Accept-Language does not change any address but `/`.
    latvian = client.get("/calendar/2022/01", headers=EN)
    assert Page(latvian.text).lang == "lv" and "Janvāris, 2022" in latvian.text
    assert "Vary" not in latvian.headers


@pytest.mark.parametrize(
    ("asked", "canonical"),
    [
        ("/calendar/2022/01?lang=en", "/en/calendar/2022/01"),
        ("/calendar/2022/01?topic=training&lang=en", "/en/calendar/2022/01?topic=training"),
        ("/en/calendar/2022/01?lang=lv", "/calendar/2022/01"),
        ("/en/events/darba-grupa-2022?lang=en", "/en/events/darba-grupa-2022"),
        ("/subscribe?lang=xx", "/subscribe"),
        ("/lv/events/darba-grupa-2022", "/events/darba-grupa-2022"),
        ("/?lang=en", "/en/"),
        ("/calendar/2022/1", "/calendar/2022/01"),
        ("/calendar/2022/1?topic=training", "/calendar/2022/01?topic=training"),
        ("/calendar/2022/001", "/calendar/2022/01"),
        ("/en/calendar/2022/1", "/en/calendar/2022/01"),
    ],
)
def test_other_spellings_redirect_to_the_canonical_address(
    client: FlaskClient, asked: str, canonical: str
) -> None:
    response = client.get(asked, headers=EN)
    assert response.status_code == 301
    assert response.headers["Location"] == canonical


def test_root_negotiates_accept_language_with_a_redirect(client: FlaskClient) -> None:
    english = client.get("/", headers=EN)
    assert english.status_code == 302 and english.headers["Location"] == "/en/"
    assert english.headers["Vary"] == "Accept-Language"
    latvian = client.get("/", headers=LV)
    assert latvian.status_code == 200 and Page(latvian.text).lang == "lv"
    assert latvian.headers["Vary"] == "Accept-Language"
    assert (
        client.get("/", headers={"Accept-Language": "de, en;q=0.5"}).headers["Location"] == "/en/"
    )
    assert client.get("/").status_code == 200  # no header: the default language
    assert client.get("/", headers={"Accept-Language": "de"}).status_code == 200


def test_pages_link_their_other_language_and_the_switch_keeps_the_page(
    client: FlaskClient,
) -> None:
    page = Page(client.get("/events/darba-grupa-2022?", headers=LV).text)
    hreflang = {a["hreflang"]: a["href"] for a in page.alternates if a.get("hreflang")}
    assert hreflang == {
        "lv": "https://calendar.example.lv/events/darba-grupa-2022",
        "en": "https://calendar.example.lv/en/events/darba-grupa-2022",
        "x-default": "https://calendar.example.lv/events/darba-grupa-2022",
    }
    hrefs = {text: href for href, text in page.links}
    assert hrefs["English"] == "/en/events/darba-grupa-2022"
    english = Page(client.get("/en/calendar/2022/01?topic=training").text)
    hrefs = {text: href for href, text in english.links}
    assert hrefs["latviešu"] == "/calendar/2022/01?topic=training"
    assert hrefs["Training"] == "/en/calendar/2022/01?topic=training"
    feeds = {a["href"] for a in english.alternates if a.get("type")}
    assert feeds == {
        "https://calendar.example.lv/en/topics/training.atom",
        "https://calendar.example.lv/en/topics/training.rss",
    }
    # From /en/ the switch goes to this month's Latvian page: `/` would send it back.
    today = dt.datetime.now(dt.UTC).date()
    index = {text: href for href, text in Page(client.get("/en/").text).links}
    assert index["latviešu"] == f"/calendar/{today.year:04d}/{today.month:02d}"


def test_untranslated_text_shows_in_the_default_language_marked(client: FlaskClient) -> None:
    html = client.get("/en/events/es-diena-2018").text
    assert Page(html).lang == "en"
    assert '<h1><span lang="lv">Eiropas Savienības Cilvēku tirdzniecības' in html
    assert '<dd><span lang="lv">Visa Latvija</span></dd>' in html
    assert '<div class="description" lang="lv">' in html
    assert "<dt>When</dt><dd>October 18, 2018</dd>" in html
    translated = client.get("/en/events/es-diena-2022").text
    assert "<h1>EU Anti-Trafficking Day 2022</h1>" in translated
    main = translated.split("<main", 1)[1].split("</main>", 1)[0]
    # Only the contact's name (never translated) is marked Latvian.
    assert re.findall(r'<[^>]* lang="lv"[^>]*>[^<]*', main) == [
        '<span lang="lv">Iekšlietu ministrija'
    ]
    month = client.get("/en/calendar/2018/10").text
    assert '<span lang="lv">Eiropas Savienības Cilvēku' in month


def test_english_event_page_offers_the_english_event_file(client: FlaskClient) -> None:
    html = client.get("/en/events/es-diena-2022").text
    hrefs = [href for href, _ in Page(html).links]
    assert "/en/events/es-diena-2022.ics" in hrefs
    google = next(h for h in hrefs if h.startswith("https://calendar.google.com/"))
    query = parse_qs(urlsplit(google).query)
    assert query["text"] == ["EU Anti-Trafficking Day 2022"]
    assert query["location"] == ["Riga, Dome Square"]
    assert query["details"][0].endswith("https://calendar.example.lv/en/events/es-diena-2022")


def test_month_navigation_and_topic_filter_links(client: FlaskClient) -> None:
    page = Page(client.get("/calendar/2022/01?topic=training", headers=LV).text)
    hrefs = {text: href for href, text in page.links}
    assert hrefs["← Iepriekšējais mēnesis"] == "/calendar/2021/12?topic=training"
    assert hrefs["Nākamais mēnesis →"] == "/calendar/2022/02?topic=training"
    assert hrefs["Mācības"] == "/calendar/2022/01?topic=training"
    assert hrefs["Visas tēmas"] == "/calendar/2022/01"
    assert {a["href"] for a in page.alternates if a.get("type")} == {
        "https://calendar.example.lv/topics/training.atom",
        "https://calendar.example.lv/topics/training.rss",
    }


def test_topic_filter_shows_only_that_topic(client: FlaskClient) -> None:
    html = client.get("/calendar/2022/01?topic=meeting", headers=LV).text
    assert "darba grupas sēde" in html
    assert "Mācības pašvaldību" not in html


def test_recurring_event_shows_on_each_occurrence_but_not_the_exception(
    client: FlaskClient,
) -> None:
    for month, day in (("02", "2022-02-09"), ("04", "2022-04-13")):
        assert "darba grupas sēde" in cell(client.get(f"/calendar/2022/{month}").text, day)
    assert "darba grupas sēde" not in client.get("/calendar/2022/03").text


def test_empty_month_says_so(client: FlaskClient) -> None:
    assert "Šajā mēnesī notikumu nav." in client.get("/calendar/2030/07", headers=LV).text
    assert "No events this month." in client.get("/en/calendar/2030/07", headers=LV).text


def test_root_is_this_month(client: FlaskClient) -> None:
    import datetime as dt

    today = dt.datetime.now(dt.UTC).date()
    html = client.get("/en/", headers=LV).text
    assert f"{today.year}</h1>" in html


def test_event_page_in_latvian(client: FlaskClient) -> None:
    html = client.get("/events/frem-ii-macibas-2018-09", headers=LV).text
    assert "<dd>2018. gada 25.–26. septembris</dd>" in html
    assert "<dd>Rīga</dd>" in html
    assert '<a href="tel:67829674">67829674</a>' in html
    assert "Šā gada 25. un 26. septembrī" in html
    page = Page(html)
    hrefs = [href for href, _ in page.links]
    assert "/events/frem-ii-macibas-2018-09.ics" in hrefs
    google = next(h for h in hrefs if h.startswith("https://calendar.google.com/"))
    query = parse_qs(urlsplit(google).query)
    assert query["action"] == ["TEMPLATE"]
    assert query["dates"] == ["20180925/20180927"]
    assert query["location"] == ["Rīga"]
    assert query["text"][0].startswith("Tiesībsarga biroja darbinieki")
    outlook = next(h for h in hrefs if h.startswith("https://outlook.live.com/"))
    office = next(h for h in hrefs if h.startswith("https://outlook.office.com/"))
    for link in (outlook, office):
        query = parse_qs(urlsplit(link).query)
        assert query["startdt"] == ["2018-09-25"] and query["enddt"] == ["2018-09-27"]
        assert query["allday"] == ["true"] and query["rru"] == ["addevent"]


def test_timed_event_links_carry_utc_times_and_zone(client: FlaskClient) -> None:
    html = client.get("/en/events/tiessaistes-seminars-2021-05").text
    assert "May 20, 2021, 9:00\u202fAM–11:00\u202fAM (America/New_York)" in html or (
        "May 20, 2021, 9:00 AM–11:00 AM (America/New_York)" in html
    )
    google = next(h for h, _ in Page(html).links if "calendar.google.com" in h)
    query = parse_qs(urlsplit(google).query)
    assert query["dates"] == ["20210520T130000Z/20210520T150000Z"]
    assert query["ctz"] == ["America/New_York"]


def app_on(site: Path, day: dt.date) -> FlaskClient:
    """Return a client of the app over `site` whose calendar says it is `day`."""
    from icalpub.live import Live
    from icalpub.service import create_service

    moment = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    app = create_service(live=Live(site, background=False, now=lambda: moment))
    return app.test_client()


def next_dates(html: str) -> list[str]:
    found = html.split('<ul class="next">', 1)
    if len(found) == 1:
        return []
    items = found[1].split("</ul>", 1)[0]
    return [item.split("</li>")[0] for item in items.split("<li>")[1:]]


def test_recurring_event_page_lists_next_dates_without_the_skipped_one(site: Path) -> None:
    client = app_on(site, dt.date(2022, 1, 1))
    html = client.get("/en/events/darba-grupa-2022").text
    assert "Next dates" in html
    # Monthly on the 2nd Wednesday, six times, 9 March skipped: the five left.
    assert next_dates(html) == [
        "January 12, 2022, 10:00",
        "February 9, 2022, 10:00",
        "April 13, 2022, 10:00",
        "May 11, 2022, 10:00",
        "June 8, 2022, 10:00",
    ]
    later = app_on(site, dt.date(2022, 4, 20)).get("/en/events/darba-grupa-2022").text
    assert next_dates(later) == ["May 11, 2022, 10:00", "June 8, 2022, 10:00"]


def test_a_finished_series_lists_no_next_dates(site: Path) -> None:
    html = app_on(site, dt.date(2022, 7, 1)).get("/en/events/darba-grupa-2022").text
    assert "Next dates" not in html and next_dates(html) == []


def test_root_shows_the_calendar_month_of_today(site: Path) -> None:
    response = app_on(site, dt.date(2022, 1, 20)).get("/", headers=LV)
    assert "Janvāris, 2022" in response.text


def test_cancelled_event_page_is_marked(client: FlaskClient) -> None:
    html = client.get("/events/konference-2022-01", headers=LV).text
    assert '<span class="flag">Atcelts:</span> <del>Konference' in html


def test_unknown_event_page_is_404_naming_topics(client: FlaskClient) -> None:
    response = client.get("/events/nope", headers=LV)
    assert response.status_code == 404
    assert "Notikuma ar šādu adresi nav." in response.text
    assert "(training)" in response.text and "(conference)" in response.text


@pytest.mark.parametrize(
    "url",
    [
        "/en/nope",
        "/en/calendar/2022/13",
        "/en/calendar/2022/01?topic=zzz",
        "/en/subscribe?topic=zzz",
        "/en/events/nope",
    ],
)
def test_unknown_pages_are_html_404s(client: FlaskClient, url: str) -> None:
    response = client.get(url, headers=LV)
    assert response.status_code == 404
    assert "Page not found" in response.text


def test_subscribe_page_without_javascript_rebuilds_urls(client: FlaskClient) -> None:
    html = client.get("/subscribe?topic=training&topic=meeting", headers=LV).text
    assert (
        'value="https://calendar.example.lv/calendar.ics?topic=meeting&amp;topic=training"' in html
    )
    assert (
        'value="webcal://calendar.example.lv/calendar.ics?topic=meeting&amp;topic=training"' in html
    )
    page = Page(html)
    links = [href for href, _ in page.links]
    google = next(h for h in links if h.startswith("https://calendar.google.com/"))
    assert unquote(parse_qs(urlsplit(google).query)["cid"][0]) == (
        "webcal://calendar.example.lv/calendar.ics?topic=meeting&topic=training"
    )
    outlook = next(h for h in links if h.startswith("https://outlook.live.com/owa?"))
    query = parse_qs(urlsplit(outlook).query)
    assert query["url"] == ["https://calendar.example.lv/calendar.ics?topic=meeting&topic=training"]
    assert query["rru"] == ["addsubscription"]
    assert query["name"] == ["Notikumu kalendārs: Sanāksmes, Mācības"]
    assert any(h.startswith("https://outlook.office.com/owa?") for h in links)
    assert "webcal://calendar.example.lv/calendar.ics?topic=meeting&topic=training" in links
    assert "https://calendar.example.lv/feed.atom?topic=meeting&topic=training" in links
    assert "reizi 12–24 stundās" in html
    assert 'name="topic" value="training" checked' in html


def test_subscribe_single_topic_uses_the_topic_file(client: FlaskClient) -> None:
    html = client.get("/subscribe?topic=training", headers=EN).text
    assert 'value="https://calendar.example.lv/topics/training.ics"' in html
    english = client.get("/en/subscribe?topic=training").text
    assert 'value="https://calendar.example.lv/en/topics/training.ics"' in english
    assert 'href="https://calendar.example.lv/en/topics/training.rss"' in english
    assert 'action="/en/subscribe"' in english


def test_editor_text_is_escaped_everywhere(site: Path, client: FlaskClient) -> None:
    text = site.read_text("utf-8")
    site.write_text(
        text
        + (
            '\n  - id: xss\n    title: "<script>alert(1)</script>"\n    start: 2022-01-05\n'
            '    location: "<img src=x onerror=alert(2)>"\n'
            '    description: "<b onmouseover=alert(3)>hi</b> [x](javascript:alert(4))"\n'
            '    contact: {name: "<i>n</i>", phone: "\\"><script>"}\n'
        ),
        "utf-8",
    )
    from icalpub.live import Live
    from icalpub.service import create_service

    fresh = create_service(live=Live(site, background=False)).test_client()
    for url in ("/calendar/2022/01", "/events/xss", "/subscribe"):
        html = fresh.get(url).text
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "onmouseover=alert" not in html.replace("&lt;b onmouseover=alert", "")
        assert 'href="javascript:' not in html
    event = fresh.get("/events/xss").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in event


def test_pages_set_language_and_caching_headers(client: FlaskClient) -> None:
    response = client.get("/en/calendar/2022/01", headers=LV)
    assert response.headers["Content-Language"] == "en"
    assert "Vary" not in response.headers  # one representation per address
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_a_month_grid_is_computed_once_per_publication_month_and_topics(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from icalpub.web import pages

    calls: list[tuple[dt.date, dt.date]] = []
    real = pages.by_day

    def counting(events: object, first: dt.date, last: dt.date, zone: str) -> object:
        calls.append((first, last))
        return real(events, first, last, zone)  # type: ignore[arg-type]

    monkeypatch.setattr(pages, "by_day", counting)
    for _ in range(3):
        for path in ("/calendar/2018/09", "/en/calendar/2018/09"):  # a grid per language
            assert "frem" in client.get(path).text
    assert len(calls) == 2
    client.get("/calendar/2018/09?topic=training", headers=LV)
    assert len(calls) == 3


def test_every_page_word_has_a_latvian_translation() -> None:
    from icalpub.i18n import translations

    package = Path(__file__).resolve().parent.parent / "src" / "icalpub"
    used = set()
    templates = [*package.glob("web/templates/*.html"), *package.glob("editor/templates/*/*.html")]
    for template in templates:
        used |= set(re.findall(r"_\('((?:[^'\\]|\\.)*)'", template.read_text("utf-8")))
    # Messages the editor's pages hand to `_(error)` / `_(message)` in its templates.
    from icalpub.editor.guard import BUSY, UNSAVED

    for module in package.glob("editor/*.py"):
        if module.name in ("api.py", "history.py", "commands.py"):  # JSON, logs, the CLI
            continue
        code = module.read_text("utf-8")
        used |= set(re.findall(r'(?:error|message)\s*=\s*"([^"]+)"', code))
        used |= set(re.findall(r'\bmessage\(\s*"([^"]+)"', code))
    used |= {BUSY, UNSAVED}
    assert "Wrong name or password." in used and "That version is not kept." in used
    catalog = translations("lv")
    missing = sorted(m for m in used if catalog.gettext(m) == m)
    assert missing == []


@pytest.mark.parametrize(
    "url",
    [
        "/calendar/2022/01",
        "/en/calendar/2022/01?topic=training",
        "/calendar/2030/07",
        "/events/frem-ii-macibas-2018-09",
        "/en/events/darba-grupa-2022",
        "/en/events/es-diena-2018",
        "/en/subscribe?topic=training",
        "/en/",
        "/events/konference-2022-01",
        "/subscribe",
        "/subscribe?topic=meeting&topic=project",
        "/events/nope",
    ],
)
def test_every_page_is_valid_html5(client: FlaskClient, url: str) -> None:
    import html5lib

    parser = html5lib.HTMLParser(strict=True)
    parser.parse(client.get(url).text)  # raises ParseError at the first error
    assert parser.errors == []
