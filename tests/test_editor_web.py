"""The editor's pages over HTTP: off unless configured, login, CSRF, sessions, conflicts."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from icalpub.editor import accounts
from icalpub.editor import logins as LOGINS
from icalpub.languages import view
from icalpub.live import Live
from icalpub.service import create_service

from .editing import PASSWORD, add_editor, changed_lines, form_of, hidden, log_in
from .reading import parse

EDITOR_URLS = [
    ("GET", "/edit/"),
    ("GET", "/edit/login"),
    ("POST", "/edit/login"),
    ("GET", "/edit/new"),
    ("GET", "/edit/events/es-diena-2018"),
    ("POST", "/edit/events/es-diena-2018"),
    ("POST", "/edit/events/es-diena-2018/status"),
    ("GET", "/edit/events/es-diena-2018/delete"),
    ("GET", "/edit/events/es-diena-2018/history"),
    ("GET", "/edit/api/events"),
    ("PUT", "/edit/api/events/es-diena-2018"),
    ("POST", "/edit/api/events"),
]


@pytest.fixture
def editor_app(site: Path) -> Flask:
    add_editor(site)
    app = create_service(live=Live(site, background=False))
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(editor_app: Flask) -> Any:
    return editor_app.test_client()


@pytest.fixture
def logged_in(client: Any) -> Any:
    assert log_in(client).status_code == 302
    return client


@pytest.mark.parametrize(("method", "url"), EDITOR_URLS)
def test_every_editor_url_is_404_without_an_editors_file(site: Path, method: str, url: str) -> None:
    app = create_service(live=Live(site, background=False))
    response = app.test_client().open(url, method=method)
    assert response.status_code == 404
    assert "Set-Cookie" not in response.headers
    assert not (site.parent / ".editors.toml.secret").exists()


def test_pages_need_a_login_and_come_back_after_it(client: Any) -> None:
    response = client.get("/edit/events/es-diena-2018")
    assert response.status_code == 302
    assert response.headers["Location"] == "/edit/login?next=/edit/events/es-diena-2018"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    answer = client.post(
        "/edit/login",
        data={
            "login": "anna@example.lv",
            "password": PASSWORD,
            "csrf_token": hidden(page, "csrf_token"),
            "next": hidden(page, "next"),
        },
    )
    assert answer.headers["Location"] == "/edit/events/es-diena-2018"
    page = client.get("/edit/events/es-diena-2018").get_data(as_text=True)
    assert 'value="Eiropas Savienības Cilvēku tirdzniecības apkarošanas diena"' in page


def test_editor_pages_are_not_stored_and_keep_the_strict_policy(logged_in: Any) -> None:
    for url in ("/edit/", "/edit/new", "/edit/events/es-diena-2018", "/edit/login"):
        response = logged_in.get(url)
        assert response.headers["Cache-Control"] == "no-store"
        assert "script-src" not in response.headers["Content-Security-Policy"]
        assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
        assert "<script>" not in response.get_data(as_text=True)


def test_the_session_cookie_is_httponly_samesite_and_secure_only_over_https(client: Any) -> None:
    response = log_in(client)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/edit/" in cookie
    assert "Secure" not in cookie
    https = client.application.test_client()
    page = https.get("/edit/login", base_url="https://cal.example.lv").get_data(as_text=True)
    secure = https.post(
        "/edit/login",
        base_url="https://cal.example.lv",
        data={"login": "anna", "password": PASSWORD, "csrf_token": hidden(page, "csrf_token")},
        headers={"Referer": "https://cal.example.lv/edit/login"},
    )
    assert "Secure" in secure.headers["Set-Cookie"]


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(client: Any) -> None:
    wrong = log_in(client, password="not the password")
    unknown = log_in(client, name="nobody")
    assert wrong.status_code == unknown.status_code == 401
    assert "Nepareizs vārds vai parole." in wrong.get_data(as_text=True)

    # The same page but for the name typed (and the CSRF token, which carries its second).
    def page(answer: Any) -> str:
        text = answer.get_data(as_text=True)
        return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', text)

    assert page(wrong).replace("anna", "nobody") == page(unknown)


def test_logins_are_slowed_per_network_without_locking_the_editor_out(client: Any) -> None:
    now = [1_000_000.0]
    client.application.extensions["icalpub-editor"].logins.clock = lambda: now[0]
    attacker = client.application.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    answers = [log_in(attacker, password=f"guess {n}").status_code for n in range(5)]
    assert answers[:3] == [401] * 3 and 429 in answers[3:]
    refused = log_in(attacker)  # even the right password waits
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    now[0] += LOGINS.ACCOUNT_MAX_WAIT  # the editor, from elsewhere, waits a few seconds at most
    assert log_in(client).status_code == 302


def test_throttle_waits_grow_per_account_but_stay_short(tmp_path: Path) -> None:
    now = [0.0]
    logins = LOGINS.Logins(tmp_path, clock=lambda: now[0])
    for n in range(30):
        logins.failed(f"198.51.100.{n}", "anna")
    assert 0 < logins.wait("192.0.2.1", "anna") <= 8.0
    now[0] += 8.0
    assert logins.wait("192.0.2.1", "anna") == 0


def test_csrf_token_missing_or_wrong_is_refused_and_nothing_is_written(
    logged_in: Any, site: Path
) -> None:
    before = site.read_bytes()
    page = logged_in.get("/edit/events/es-diena-2018").get_data(as_text=True)
    form = form_of(page)
    form["title"] = "Forged"
    for token in (None, "wrong", hidden(page, "csrf_token")[:-2] + "xx"):
        data = {k: v for k, v in form.items() if k != "csrf_token"}
        if token is not None:
            data["csrf_token"] = token
        response = logged_in.post("/edit/events/es-diena-2018", data=data)
        assert response.status_code == 400
        assert "nav nākusi no šīs vietnes" in response.get_data(as_text=True)
    assert site.read_bytes() == before
    assert logged_in.post("/edit/logout").status_code == 400  # logging out needs it too


def test_a_forged_or_expired_session_cookie_is_a_stranger(editor_app: Flask, site: Path) -> None:
    forged = editor_app.test_client()
    forged.set_cookie("icalpub_session", "eyJlZGl0b3IiOiJhbm5hIn0.forged.sig", path="/edit/")
    assert forged.get("/edit/").status_code == 302
    old = editor_app.test_client()
    old.get("/edit/login")
    with old.session_transaction("/edit/") as session:
        editor = accounts.load(site.parent / "editors.toml").editors["anna"]
        session["editor"] = "anna"
        session["key"] = accounts.session_key(editor)
        session["since"] = int(dt.datetime(2020, 1, 1, tzinfo=dt.UTC).timestamp())
    assert old.get("/edit/").status_code == 302


def test_a_new_password_ends_the_old_sessions(logged_in: Any, site: Path) -> None:
    assert logged_in.get("/edit/").status_code == 200
    path = site.parent / "editors.toml"
    accounts.save(path, accounts.set_password(accounts.load(path), "anna", "another long one"))
    assert logged_in.get("/edit/").status_code == 302


def test_login_starts_a_new_session_whatever_the_old_one_held(client: Any) -> None:
    client.get("/edit/login")
    with client.session_transaction("/edit/") as session:
        session["planted"] = "by an attacker"
    log_in(client)
    with client.session_transaction("/edit/") as session:
        assert "planted" not in session
        assert session["editor"] == "anna"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/edit/",
        "/\\evil.example",
        "/edit/\r\nX: y",
        "javascript:alert(1)",
        "/calendar.ics",
    ],
)
def test_next_never_leaves_the_editor(client: Any, target: str) -> None:
    page = client.get("/edit/login").get_data(as_text=True)
    response = client.post(
        "/edit/login",
        data={
            "login": "anna",
            "password": PASSWORD,
            "csrf_token": hidden(page, "csrf_token"),
            "next": target,
        },
    )
    assert response.headers["Location"] == "/edit/"


def test_a_proxy_user_header_counts_only_from_a_trusted_proxy_that_is_told_to_send_it(
    site: Path,
) -> None:
    add_editor(site)
    path = site.parent / "editors.toml"
    found = accounts.load(path)
    headers = {"X-Forwarded-Email": "anna@example.lv"}
    # Trusted for X-Forwarded-For/-Proto only: a user header passed through is ignored.
    accounts.save(path, accounts.Accounts(found.editors, accounts.Proxy(trusted=("10.0.0.1",))))
    app = create_service(live=Live(site, background=False))
    proxied = app.test_client()
    proxied.environ_base["REMOTE_ADDR"] = "10.0.0.1"
    assert proxied.get("/edit/", headers=headers).status_code == 302
    proxy = accounts.Proxy(trusted=("10.0.0.0/8",), header="X-Forwarded-Email")
    accounts.save(path, accounts.Accounts(found.editors, proxy))
    direct = app.test_client()
    direct.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    assert direct.get("/edit/", headers=headers).status_code == 302
    answer = proxied.get("/edit/", headers=headers)
    assert answer.status_code == 200 and "anna" in answer.get_data(as_text=True)
    unknown = proxied.get("/edit/", headers={"X-Forwarded-Email": "mallory@example.lv"})
    assert unknown.status_code == 302


def test_an_edit_through_the_form_changes_the_file_and_the_list(logged_in: Any, site: Path) -> None:
    page = logged_in.get("/edit/events/es-diena-2018").get_data(as_text=True)
    form = form_of(page)
    form["end_date"] = "2018-10-19"
    response = logged_in.post("/edit/events/es-diena-2018", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    text = site.read_text("utf-8")
    assert "    start: 2018-10-18\n    end: 2018-10-19\n    location: Visa Latvija\n" in text
    listed = logged_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "Saved: es-diena-2018" in listed or "Saglabāts: es-diena-2018" in listed


def test_an_unchanged_form_saves_nothing_different(logged_in: Any, site: Path) -> None:
    before = site.read_bytes()
    for event_id in ("frem-ii-macibas-2018-09", "es-diena-2018"):
        page = logged_in.get(f"/edit/events/{event_id}").get_data(as_text=True)
        assert logged_in.post(f"/edit/events/{event_id}", data=form_of(page)).status_code == 302
    assert site.read_bytes() == before


def test_the_form_has_a_field_per_language_and_changes_only_the_translation_edited(
    logged_in: Any, site: Path
) -> None:
    before = site.read_text("utf-8")
    page = logged_in.get("/edit/events/es-diena-2022").get_data(as_text=True)
    assert '<label for="f-title">Nosaukums (latviešu)</label>' in page
    assert '<label for="f-title_en">Nosaukums (English)</label>' in page
    assert 'name="title_en" type="text" value="EU Anti-Trafficking Day 2022" lang="en"' in page
    assert 'id="f-description_en" name="description_en"' in page
    form = form_of(page)
    form["location_en"] = "Riga, Dome Square (Doma laukums)"
    assert logged_in.post("/edit/events/es-diena-2022", data=form).status_code == 302
    removed, added = changed_lines(before, site.read_text("utf-8"))
    assert removed == ["      en: Riga, Dome Square\n"]
    assert added == ["      en: Riga, Dome Square (Doma laukums)\n"]


def test_an_english_text_added_in_the_form_makes_a_text_per_language(
    logged_in: Any, site: Path
) -> None:
    before = site.read_text("utf-8")
    page = logged_in.get("/edit/events/es-diena-2021").get_data(as_text=True)
    form = form_of(page)
    assert form["title_en"] == ""
    form["title_en"] = "EU Anti-Trafficking Day 2021"
    form["description_en"] = "The ministry asks everyone\r\nto check job offers abroad.\r\n"
    assert logged_in.post("/edit/events/es-diena-2021", data=form).status_code == 302
    removed, added = changed_lines(before, site.read_text("utf-8"))
    assert removed == [
        "    title: Eiropas Cilvēku tirdzniecības apkarošanas diena 2021\n",
        "    description: |\n",
        "      Iekšlietu ministrija aicina ikvienu pārbaudīt darba piedāvājumus ārzemēs, pirms\n",
        "      pieņemt lēmumu par izbraukšanu.\n",
    ]
    assert added == [
        "    title: {lv: Eiropas Cilvēku tirdzniecības apkarošanas diena 2021, "
        "en: EU Anti-Trafficking Day 2021}\n",
        "    description:\n",
        "      lv: |\n",
        "        Iekšlietu ministrija aicina ikvienu pārbaudīt darba piedāvājumus ārzemēs, pirms\n",
        "        pieņemt lēmumu par izbraukšanu.\n",
        "      en: |\n",
        "        The ministry asks everyone\n",
        "        to check job offers abroad.\n",
    ]
    registry = parse(site.read_bytes())[0]
    assert registry is not None
    event = view(registry, "en").event("es-diena-2021")
    assert event is not None and event.title == "EU Anti-Trafficking Day 2021"
    assert event.description == "The ministry asks everyone\nto check job offers abroad."
    assert event.fallback == {"summary", "location"}


def test_an_english_text_without_the_latvian_one_is_refused_beside_the_field(
    logged_in: Any, site: Path
) -> None:
    before = site.read_bytes()
    form = form_of(logged_in.get("/edit/events/es-diena-2022").get_data(as_text=True))
    form["title"] = ""
    response = logged_in.post("/edit/events/es-diena-2022", data=form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert '<span class="field-error" id="e-title">' in page
    assert "Ierakstiet to arī noklusējuma valodā (lv)" in page  # the reader's, in Latvian
    assert site.read_bytes() == before


def test_an_invalid_form_shows_the_validators_message_beside_the_field(
    logged_in: Any, site: Path
) -> None:
    before = site.read_bytes()
    page = logged_in.get("/edit/events/es-diena-2018").get_data(as_text=True)
    form = form_of(page)
    form["end_date"] = "2018-10-01"
    response = logged_in.post("/edit/events/es-diena-2018", data=form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    message = (  # the validator's message, said in the interface's language
        "Beigas ir pirms sākuma; visas dienas notikumiem beigas ir pēdējā diena (ieskaitot)"
    )
    assert f'<a href="#f-end_date">{message}</a>' in page  # the summary links to the field
    assert f'<span class="field-error" id="e-end_date">{message}</span>' in page
    assert site.read_bytes() == before


def test_two_editors_on_one_event_the_second_sees_the_first_change(
    editor_app: Flask, site: Path
) -> None:
    first, second = editor_app.test_client(), editor_app.test_client()
    log_in(first)
    log_in(second)
    page_one = first.get("/edit/events/es-diena-2018").get_data(as_text=True)
    page_two = second.get("/edit/events/es-diena-2018").get_data(as_text=True)
    one, two = form_of(page_one), form_of(page_two)
    one["location"] = "Rīga"
    two["title"] = "Otrā redakcija"
    assert first.post("/edit/events/es-diena-2018", data=one).status_code == 302
    refused = second.post("/edit/events/es-diena-2018", data=two)
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "Someone else saved this event" in page or "Kāds cits" in page
    assert "<td>Rīga</td><td>Visa Latvija</td>" in page  # now, and what this editor had
    merged = form_of(page)  # the current version with the second editor's change applied
    assert merged["location"] == "Rīga" and merged["title"] == "Otrā redakcija"
    assert second.post("/edit/events/es-diena-2018", data=merged).status_code == 302
    text = site.read_text("utf-8")
    assert "title: Otrā redakcija" in text and "location: Rīga" in text


def test_markup_in_every_field_is_shown_escaped(logged_in: Any, site: Path) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    page = logged_in.get("/edit/events/es-diena-2018").get_data(as_text=True)
    form = form_of(page)
    for name in ("title", "location", "summary", "description", "contact_name"):
        form[name] = f"{name} {evil}"
    response = logged_in.post("/edit/events/es-diena-2018", data=form)
    assert response.status_code == 302
    for url in (
        "/edit/?when=all",
        "/edit/events/es-diena-2018",
        "/edit/events/es-diena-2018/delete",
        "/edit/events/es-diena-2018/history",
        "/edit/new?from=es-diena-2018",
    ):
        body = logged_in.get(url).get_data(as_text=True)
        assert "<script>alert" not in body and "<img src=x" not in body, url
    assert "&lt;script&gt;" in logged_in.get("/edit/?when=all").get_data(as_text=True)


@pytest.mark.parametrize(
    "url",
    [
        "/edit/events/..%2F..%2Fetc%2Fpasswd",
        "/edit/events/../../etc/passwd",
        "/edit/events/%00",
        "/edit/events/es-diena-2018%2F..%2Fx/history",
    ],
)
def test_traversal_in_ids_finds_nothing(logged_in: Any, url: str) -> None:
    assert logged_in.get(url).status_code == 404


def test_an_oversized_post_is_refused(logged_in: Any, site: Path) -> None:
    before = site.read_bytes()
    response = logged_in.post(
        "/edit/events/es-diena-2018", data={"description": "x" * (2 * 1024 * 1024)}
    )
    assert response.status_code == 413
    assert site.read_bytes() == before


def test_cancel_and_uncancel_mark_the_event_in_the_list(logged_in: Any, site: Path) -> None:
    page = logged_in.get("/edit/events/es-diena-2018").get_data(as_text=True)
    token, version = hidden(page, "csrf_token"), hidden(page, "version")
    response = logged_in.post(
        "/edit/events/es-diena-2018/status",
        data={"csrf_token": token, "version": version, "status": "cancelled"},
    )
    assert response.status_code == 302
    assert "    status: cancelled\n" in site.read_text("utf-8")
    listed = logged_in.get("/edit/?when=all").get_data(as_text=True)
    row = re.search(r"<tr class=cancelled>.*?</tr>", listed, re.S)
    assert row and "es-diena-2018" in row.group(0)
    page = logged_in.get("/edit/events/es-diena-2018").get_data(as_text=True)
    logged_in.post(
        "/edit/events/es-diena-2018/status",
        data={"csrf_token": token, "version": hidden(page, "version"), "status": "confirmed"},
    )
    assert "status:" not in site.read_text("utf-8").split("id: es-diena-2018")[1].split("- id:")[0]


def test_delete_needs_the_id_typed(logged_in: Any, site: Path) -> None:
    page = logged_in.get("/edit/events/es-diena-2018/delete").get_data(as_text=True)
    data = {"csrf_token": hidden(page, "csrf_token"), "version": hidden(page, "version")}
    assert (
        logged_in.post(
            "/edit/events/es-diena-2018/delete", data={**data, "confirm": "es-diena"}
        ).status_code
        == 422
    )
    assert "id: es-diena-2018" in site.read_text("utf-8")
    response = logged_in.post(
        "/edit/events/es-diena-2018/delete", data={**data, "confirm": "es-diena-2018"}
    )
    assert response.status_code == 302
    assert "es-diena-2018" not in site.read_text("utf-8")


def test_an_old_password_hash_is_redone_at_login(site: Path) -> None:
    from argon2 import PasswordHasher

    add_editor(site)
    path = site.parent / "editors.toml"
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    accounts.save(path, accounts.set_hash(accounts.load(path), "anna", weak))
    app = create_service(live=Live(site, background=False))
    assert log_in(app.test_client()).status_code == 302
    redone = accounts.load(path).editors["anna"].password
    assert redone != weak and redone.startswith("$argon2id$")
    assert "m=65536" in redone and accounts.load(path).verify("anna", PASSWORD)[0] is not None


def test_cookies_are_secure_when_the_trusted_proxy_says_https(site: Path) -> None:
    add_editor(site)
    path = site.parent / "editors.toml"
    found = accounts.load(path)
    accounts.save(path, accounts.Accounts(found.editors, accounts.Proxy(trusted=("10.0.0.1",))))
    app = create_service(live=Live(site, background=False))
    for address, secure in (("10.0.0.1", True), ("203.0.113.9", False)):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        headers = {"X-Forwarded-Proto": "https"}
        page = client.get("/edit/login", headers=headers).get_data(as_text=True)
        response = client.post(
            "/edit/login",
            headers=headers,
            data={"login": "anna", "password": PASSWORD, "csrf_token": hidden(page, "csrf_token")},
        )
        assert response.status_code == 302
        assert ("Secure" in response.headers["Set-Cookie"]) is secure


def test_settings_and_topics_are_edited_in_place_and_refused_when_stale(
    logged_in: Any, site: Path
) -> None:
    page = logged_in.get("/edit/settings").get_data(as_text=True)
    token = hidden(page, "csrf_token")
    version = re.search(r'name="version" value="([^"]*)"', page)
    assert version
    settings = {
        "csrf_token": token,
        "what": "calendar",
        "version": version.group(1),
        "title": "Notikumu kalendārs",
        "title_en": "Calendar of events",
        "description": "Valsts informatīvais resurss par cilvēktirdzniecības mazināšanas tēmu "
        "un aktualitātēm Latvijā",
        "description_en": "Latvia's state information resource on preventing human trafficking, "
        "and what is happening in the field",
        "contact_name": "Iekšlietu ministrija",
        "contact_phone": "+371 67829674",
        "refresh": "PT6H",
        "feed_items": "50",
    }
    before = site.read_text("utf-8")
    assert logged_in.post("/edit/settings", data=settings).status_code == 302
    after = site.read_text("utf-8")
    assert before.replace("  refresh: PT12H\n", "  refresh: PT6H\n") == after
    stale = logged_in.post("/edit/settings", data={**settings, "feed_items": "20"})
    assert stale.status_code == 409 and site.read_text("utf-8") == after
    topic = {
        "csrf_token": token,
        "what": "topic",
        "topic": "seminar",
        "title_lv": "Semināri",
        "title_en": "Seminars",
    }
    assert logged_in.post("/edit/settings", data=topic).status_code == 302
    assert "  seminar: {title: {lv: Semināri, en: Seminars}}\n" in site.read_text("utf-8")
    form = logged_in.get("/edit/new").get_data(as_text=True)
    assert 'value="seminar"' in form and "Semināri" in form
    again = logged_in.post("/edit/settings", data=topic)
    assert again.status_code == 409
