"""The login throttle per account and network, shared by workers; sessions that end."""

from __future__ import annotations

import html
import http.client
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from icalpub.editor import accounts
from icalpub.editor.logins import ACCOUNT_FREE, ACCOUNT_MAX_WAIT, NETWORK_FREE
from icalpub.live import Live
from icalpub.service import create_service

from .conftest import SHIPPED, running_gunicorn
from .editing import add_editor, hidden, log_in

SPELLINGS = ["anna", " anna", "anna  ", "ANNA", "Anna", "anna@example.lv", " ANNA@EXAMPLE.LV "]


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def app_over(site: Path, clock: Clock) -> Flask:
    app = create_service(live=Live(site, background=False))
    app.config["TESTING"] = True
    app.extensions["icalpub-editor"].logins.clock = clock
    return app


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def editor_app(site: Path, clock: Clock) -> Flask:
    add_editor(site)
    add_editor(site, "berta", "berta@example.lv")
    return app_over(site, clock)


def from_address(app: Flask, address: str) -> Any:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_every_spelling_of_an_account_from_any_address_shares_one_count(
    editor_app: Flask,
) -> None:
    checked = []
    for n in range(34):
        client = from_address(editor_app, f"198.51.{n}.7")
        answer = log_in(client, SPELLINGS[n % len(SPELLINGS)], password=f"guess {n}")
        checked.append(answer.status_code)
    assert checked.count(401) == ACCOUNT_FREE and checked.count(429) == 34 - ACCOUNT_FREE


def test_at_most_about_ten_password_checks_per_account_per_minute(
    editor_app: Flask, clock: Clock
) -> None:
    checks: list[float] = []
    for n in range(300):  # 2.5 minutes, a guess every half second, every spelling and address
        client = from_address(editor_app, f"2001:db8:{n}::1" if n % 2 else f"203.0.{n % 250}.1")
        if log_in(client, SPELLINGS[n % len(SPELLINGS)], password=f"guess {n}").status_code == 401:
            checks.append(clock.now)
        clock.now += 0.5
    per_minute = [sum(1 for t in checks if start <= t < start + 60) for start in checks]
    assert max(per_minute) <= 12, per_minute
    assert len(checks) <= 3 * 12


def test_the_editor_waits_at_most_a_few_seconds_while_others_guess(
    editor_app: Flask, clock: Clock
) -> None:
    for n in range(50):
        log_in(from_address(editor_app, f"203.0.113.{n}"), "anna", password=f"guess {n}")
        clock.now += 0.2
    editor = from_address(editor_app, "192.0.2.10")
    refused = log_in(editor)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) <= ACCOUNT_MAX_WAIT
    clock.now += ACCOUNT_MAX_WAIT
    assert log_in(editor).status_code == 302


def test_one_ipv6_64_is_one_network_for_the_throttle(editor_app: Flask) -> None:
    answers = []
    for n in range(NETWORK_FREE + 5):  # every guess at another unknown name
        client = from_address(editor_app, f"2001:db8:aa:bb:{n:x}::{n + 1:x}")
        answers.append(log_in(client, f"stranger{n}", password="guess").status_code)
    assert answers[:NETWORK_FREE] == [401] * NETWORK_FREE
    assert set(answers[NETWORK_FREE:]) == {429}
    other = from_address(editor_app, "2001:db8:aa:cc::1")  # another /64 is not slowed
    assert log_in(other, "stranger-x", password="guess").status_code == 401


def test_a_colleagues_own_logins_do_not_reset_the_guesses_at_another_account(
    editor_app: Flask, clock: Clock
) -> None:
    guesses = []
    for n in range(40):  # 20 seconds
        own = from_address(editor_app, "192.0.2.44")
        assert log_in(own, "berta").status_code == 302  # her own login succeeds each time
        guess = from_address(editor_app, "192.0.2.44")
        guesses.append(log_in(guess, "anna", password=f"guess {n}").status_code)
        clock.now += 0.5
    assert guesses.count(401) <= 9  # about ten a minute, however many own logins between


def test_a_success_clears_only_that_accounts_count(editor_app: Flask, clock: Clock) -> None:
    def attempt(login: str, password: str | None = None) -> int:
        client = from_address(editor_app, "192.0.2.50")
        return int(log_in(client, login, *([password] if password else [])).status_code)

    for n in range(ACCOUNT_FREE):
        attempt("anna", f"guess {n}")
        attempt("berta", f"guess {n}")
    assert attempt("anna") == 429
    clock.now += ACCOUNT_MAX_WAIT
    assert attempt("anna") == 302
    assert attempt("anna", "guess again") == 401  # anna's count starts afresh
    assert attempt("berta", "guess again") == 401  # berta's wait is over, her count is not:
    assert attempt("berta") == 429


def test_the_count_is_shared_by_workers_and_survives_a_restart(site: Path, clock: Clock) -> None:
    add_editor(site)
    first, second = app_over(site, clock), app_over(site, clock)  # two workers of one service
    for n in range(ACCOUNT_FREE):
        assert log_in(from_address(first, "192.0.2.1"), "anna", f"guess {n}").status_code == 401
    assert log_in(from_address(second, "192.0.2.2"), "ANNA", "guess").status_code == 429
    restarted = app_over(site, clock)
    assert log_in(from_address(restarted, "192.0.2.3"), "anna", "guess").status_code == 429


# -- sessions ---------------------------------------------------------------------


def copy_of(app: Flask, client: Any) -> Any:
    """Return another browser holding a copy of `client`'s session cookie."""
    cookie = client.get_cookie("icalpub_session", path="/edit/")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("icalpub_session", cookie.value, path="/edit/")
    return thief


def test_a_cookie_copied_before_logout_opens_nothing_after_it(
    editor_app: Flask, site: Path
) -> None:
    editor = editor_app.test_client()
    assert log_in(editor).status_code == 302
    thief = copy_of(editor_app, editor)
    page = thief.get("/edit/events/es-diena-2018").get_data(as_text=True)
    assert thief.get("/edit/").status_code == 200  # the copy works while the session lives
    csrf = hidden(editor.get("/edit/").get_data(as_text=True), "csrf_token")
    assert editor.post("/edit/logout", data={"csrf_token": csrf}).status_code == 302
    before = site.read_bytes()
    assert thief.get("/edit/").status_code == 302
    cancel = thief.post(
        "/edit/events/es-diena-2018/status",
        data={"csrf_token": hidden(page, "csrf_token"), "status": "cancelled",
              "version": hidden(page, "version")},
    )  # fmt: skip
    assert cancel.status_code == 302 and "/edit/login" in cancel.headers["Location"]
    assert site.read_bytes() == before


def test_log_out_everywhere_ends_the_sessions_of_every_browser(editor_app: Flask) -> None:
    laptop, phone, colleague = (editor_app.test_client() for _ in range(3))
    assert log_in(laptop).status_code == 302 and log_in(phone).status_code == 302
    assert log_in(colleague, "berta").status_code == 302
    page = laptop.get("/edit/").get_data(as_text=True)
    assert 'action="/edit/logout-everywhere"' in page and "Iziet visās ierīcēs" in page
    answer = laptop.post("/edit/logout-everywhere", data={"csrf_token": hidden(page, "csrf_token")})
    assert answer.status_code == 302
    assert laptop.get("/edit/").status_code == 302 and phone.get("/edit/").status_code == 302
    assert colleague.get("/edit/").status_code == 200  # only anna's sessions end


def test_removing_an_editor_or_changing_the_password_ends_their_sessions(
    editor_app: Flask, site: Path
) -> None:
    anna, berta = editor_app.test_client(), editor_app.test_client()
    assert log_in(anna).status_code == 302 and log_in(berta, "berta").status_code == 302
    path = site.parent / "editors.toml"
    accounts.save(path, accounts.remove(accounts.load(path), "berta"))
    accounts.save(path, accounts.set_password(accounts.load(path), "anna", "another long one"))
    assert anna.get("/edit/").status_code == 302 and berta.get("/edit/").status_code == 302


def test_a_lost_state_folder_ends_every_session(editor_app: Flask) -> None:
    editor = editor_app.test_client()
    assert log_in(editor).status_code == 302
    editor_app.extensions["icalpub-editor"].logins.path.unlink()
    assert editor.get("/edit/").status_code == 302


# -- real gunicorn workers --------------------------------------------------------


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[int]:
    registry = tmp_path / "events.yaml"
    shutil.copy(SHIPPED, registry)
    shutil.copy(SHIPPED.with_suffix(".lock"), tmp_path / "events.lock")
    add_editor(registry)
    state = {"ICALPUB_WORKERS": "2", "ICALPUB_STATE_DIR": str(tmp_path / "state")}
    with running_gunicorn(registry, tmp_path, state) as port:
        yield port


def http_login(port: int, login: str, password: str) -> int:
    """Log in over HTTP as a browser does (page, cookie, CSRF token); return the status."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/edit/login")
    page = connection.getresponse()
    cookie = page.getheader("Set-Cookie", "").split(";")[0]
    token = html.unescape(re.search(r'name="csrf_token" value="([^"]*)"', page.read().decode())[1])
    connection.close()
    from urllib.parse import urlencode

    body = urlencode({"login": login, "password": password, "csrf_token": token})
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(
        "POST",
        "/edit/login",
        body=body,
        headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )
    answer = connection.getresponse()
    answer.read()
    connection.close()
    return answer.status


def test_two_gunicorn_workers_count_one_accounts_failures_together(gunicorn: int) -> None:
    statuses = [
        http_login(gunicorn, SPELLINGS[n % len(SPELLINGS)], f"guess {n}") for n in range(14)
    ]
    assert 429 in statuses
    # 1, 2, 4 and 8 s waits: a seventh check would need 15 s; every spelling counts as one
    assert statuses.count(401) <= ACCOUNT_FREE + 3, statuses


def test_an_unusable_state_folder_refuses_logins_politely(
    editor_app: Flask, tmp_path: Path
) -> None:
    (tmp_path / "not-a-folder").write_text("a file where the state folder should be")
    editor_app.extensions["icalpub-editor"].logins.path = tmp_path / "not-a-folder" / "x.sqlite"
    answer = log_in(editor_app.test_client())
    assert answer.status_code == 503
    assert "Redaktorā pašlaik nevar pieteikties" in answer.get_data(as_text=True)
