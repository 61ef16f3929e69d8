"""The subscribe page's per-client hand-off, led by the visitor's platform; the clients page."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import html5lib
import pytest
from flask.testing import FlaskClient

from icalpub.platforms import platform

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0"
)
MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Safari/605.1.15"
)
LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def parsed(html: str) -> object:
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    return parser.parse(html)


def sections(client: FlaskClient, agent: str, path: str = "/en/subscribe?topic=training") -> list:  # type: ignore[type-arg]
    response = client.get(path, headers={"User-Agent": agent})
    assert response.headers["Vary"] == "User-Agent"
    root = parsed(response.text)
    return root.findall(".//ol[@class='clients']/li")  # type: ignore[attr-defined, no-any-return]


@pytest.mark.parametrize(
    ("agent", "first", "webcal"),
    [
        (IPHONE, "client-apple", True),
        (MAC, "client-apple", True),
        (ANDROID, "client-google", False),
        (WINDOWS, "client-outlook", False),
        (LINUX, "client-google", True),
    ],
)
def test_the_visitors_platform_leads_and_every_client_stays(
    client: FlaskClient, agent: str, first: str, webcal: bool
) -> None:
    found = sections(client, agent)
    ids = [li.get("id") for li in found]
    assert ids[0] == first
    assert sorted(ids) == ["client-apple", "client-google", "client-other", "client-outlook"]
    apple = next(li for li in found if li.get("id") == "client-apple")
    buttons = [a.get("href") for a in apple.iter("a")]
    # webcal:// only where the platform opens it; the steps are there for everyone.
    assert buttons == (["webcal://calendar.example.lv/en/topics/training.ics"] if webcal else [])
    assert "File → New Calendar Subscription" in "".join(apple.itertext())


def test_outlook_offers_its_add_from_web_form_beside_the_subscription_link(
    client: FlaskClient,
) -> None:
    outlook = next(li for li in sections(client, WINDOWS) if li.get("id") == "client-outlook")
    links = {a.get("id"): a.get("href") for a in outlook.iter("a")}
    assert links["outlook-form"] == "https://outlook.live.com/calendar/0/addfromweb"
    assert links["office-form"] == "https://outlook.office.com/calendar/0/addfromweb"
    query = parse_qs(urlsplit(links["outlook"]).query)
    assert query["rru"] == ["addsubscription"]
    assert query["url"] == ["https://calendar.example.lv/en/topics/training.ics"]
    text = " ".join("".join(outlook.itertext()).split())
    assert "Subscribe from web" in text and "Outlook for Mac cannot subscribe" in text


def test_the_copy_fallback_and_google_steps_are_on_every_platform(client: FlaskClient) -> None:
    for agent in (IPHONE, ANDROID, WINDOWS, LINUX):
        html = client.get("/subscribe", headers={"User-Agent": agent}).text
        assert (
            'id="url-https" type="text" readonly value="https://calendar.example.lv/calendar.ics"'
            in html
        )
        assert 'data-copy="url-https"' in html
        assert "“+” → “No URL”" in html  # Google's add-by-URL steps, in Latvian
        assert "calendar.google.com, Iestatījumi → Pievienot kalendāru → No URL" in html


def test_each_platform_gets_its_own_cached_page(client: FlaskClient) -> None:
    first = [li.get("id") for li in sections(client, IPHONE)]
    second = [li.get("id") for li in sections(client, WINDOWS)]
    assert first[0] == "client-apple" and second[0] == "client-outlook"


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        (IPHONE, "ios"),
        ("Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15", "ios"),
        (MAC, "macos"),
        (ANDROID, "android"),
        ("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36", "chromeos"),
        (WINDOWS, "windows"),
        (LINUX, "other"),
        ("", "other"),
    ],
)
def test_platform_from_the_user_agent(agent: str, expected: str) -> None:
    assert platform(agent) == expected


def test_clients_page_says_how_often_each_refreshes_and_that_google_hides_cancellations(
    client: FlaskClient,
) -> None:
    html = client.get("/en/clients").text
    root = parsed(html)
    rows = {
        "".join(tr.find("th").itertext()): [
            " ".join("".join(td.itertext()).split()) for td in tr.findall("td")
        ]
        for tr in root.findall(".//tbody/tr")  # type: ignore[attr-defined]
    }
    assert rows["Google Calendar"][0] == "every 12–24 hours, whatever this calendar asks"
    assert "Hides cancelled events" in rows["Google Calendar"][1]
    assert rows["Outlook.com, Microsoft 365"][0] == "about every 3 hours"
    assert rows["Apple Calendar"][0].startswith("as set on the device")
    assert "every 12 hours" in html  # the shipped calendar's refresh, PT12H
    latvian = client.get("/clients").text
    assert "ik pēc 12–24 stundām" in latvian
    subscribe = client.get("/subscribe").text
    assert 'href="/clients"' in subscribe
