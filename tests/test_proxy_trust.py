"""One list of trusted proxies, believed by the editor, the counts and gunicorn alike."""

from __future__ import annotations

import datetime as dt
import http.client
import logging
import os
import shutil
from pathlib import Path

import pytest

from icalpub.deployment.gunicorn import settings
from icalpub.deployment.nginx import render
from icalpub.editor import accounts
from icalpub.live import Live
from icalpub.reader import load
from icalpub.service import create_service
from icalpub.settings import Settings
from icalpub.stats.store import Counts
from icalpub.web import forwarded

from .conftest import ROOT, SHIPPED, running_gunicorn
from .editing import add_editor

APPLE = "iOS/17.1.1 (21B91) dataaccessd/1.0"


def trust(site: Path, *listed: str) -> None:
    path = site.parent / "editors.toml"
    found = accounts.load(path)
    accounts.save(path, accounts.Accounts(found.editors, accounts.Proxy(trusted=listed)))


def test_gunicorn_trusts_the_editors_list_and_the_environment_and_nobody_by_default(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ICALPUB_TRUSTED_PROXIES", raising=False)
    add_editor(site)
    allowed = settings(Settings.from_environment(registry=site))["forwarded_allow_ips"]
    assert allowed == ""  # not gunicorn's 127.0.0.1
    trust(site, "10.0.0.5")
    monkeypatch.setenv("ICALPUB_TRUSTED_PROXIES", "127.0.0.1, ::1")
    allowed = settings(Settings.from_environment(registry=site))["forwarded_allow_ips"]
    assert allowed == "10.0.0.5,127.0.0.1,::1"


def test_the_counts_believe_the_proxy_the_editors_file_trusts(
    site: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ICALPUB_TRUSTED_PROXIES", raising=False)
    add_editor(site)
    trust(site, "192.0.2.99")
    app = create_service(live=Live(site, background=False))
    app.extensions["icalpub"].counter.today = lambda: dt.date(2026, 11, 30)
    client = app.test_client()
    for client_address in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        client.get(
            "/calendar.ics",
            headers={"User-Agent": APPLE, "X-Forwarded-For": client_address},
            environ_base={"REMOTE_ADDR": "192.0.2.99"},
        )
    app.extensions["icalpub"].counter.close()
    rows = Counts(Path(os.environ["ICALPUB_STATE_DIR"])).rows("2000-01-01")
    assert [(r[1], r[3]) for r in rows] == [("/calendar.ics", 3)]  # three people, one proxy


def test_forwarded_for_from_an_untrusted_address_is_ignored_and_logged_once(
    site: Path, caplog: pytest.LogCaptureFixture
) -> None:
    forwarded._warned.clear()
    add_editor(site)
    app = create_service(live=Live(site, background=False))
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="icalpub"):
        for n in range(3):
            client.get(
                "/edit/login",
                headers={"X-Forwarded-For": f"198.51.100.{n}"},
                environ_base={"REMOTE_ADDR": "192.0.2.201"},
            )
            client.get(
                "/calendar.ics",
                headers={"X-Forwarded-For": f"198.51.100.{n}", "User-Agent": APPLE},
                environ_base={"REMOTE_ADDR": "192.0.2.201"},
            )
    warnings = [r for r in caplog.records if "not a trusted proxy" in r.getMessage()]
    assert len(warnings) == 1 and "192.0.2.201" in warnings[0].getMessage()


def test_nginx_config_with_a_proxy_says_how_to_trust_it() -> None:
    written = render(load(SHIPPED).calendar, root="/r", listen="8080", proxy="127.0.0.1:8000")
    assert "ICALPUB_TRUSTED_PROXIES=127.0.0.1,::1" in written
    unit = (ROOT / "deploy" / "icalpub.service").read_text("utf-8")
    assert "Environment=ICALPUB_TRUSTED_PROXIES=127.0.0.1,::1" in unit


def login_cookie(port: int, proto: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/edit/login", headers={"X-Forwarded-Proto": proto})
    answer = connection.getresponse()
    answer.read()
    connection.close()
    return answer.getheader("Set-Cookie", "")


@pytest.mark.parametrize("trusted", [False, True])
def test_gunicorn_believes_x_forwarded_proto_only_from_a_trusted_proxy(
    tmp_path: Path, trusted: bool
) -> None:
    registry = tmp_path / "events.yaml"
    shutil.copy(SHIPPED, registry)
    shutil.copy(SHIPPED.with_suffix(".lock"), tmp_path / "events.lock")
    add_editor(registry)
    if trusted:
        trust(registry, "127.0.0.1")
    state = {"ICALPUB_STATE_DIR": str(tmp_path / "state")}
    with running_gunicorn(registry, tmp_path, state, unset={"ICALPUB_TRUSTED_PROXIES"}) as port:
        cookie = login_cookie(port, "https")
    assert cookie.startswith("icalpub_session=")
    assert ("; Secure" in cookie) is trusted
