"""The production stack: real nginx (deploy/nginx-stack.conf) in front of real gunicorn.

nginx answers calendars and feeds from the tree the service publishes; pages,
unions, /healthz and the editor come from the service, with forwarding headers
set by nginx only. The systemd unit is checked by `systemd-analyze verify`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from icalpub.deployment.nginx import render
from icalpub.editor import accounts
from icalpub.reader import load

from .conftest import ROOT, SHIPPED, free_port, http_get, require, wait_for_port
from .editing import add_editor

NGINX_ETAG = re.compile(r'^"[0-9a-f]+-[0-9a-f]+"$')  # nginx's own: mtime-size
SERVICE_ETAG = re.compile(r'^"[0-9a-f]{16,}(-gz)?"$')  # icalpub's: a hash of the bytes


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path, Path]]:
    binary = require("nginx")
    home = tmp_path_factory.mktemp("stack")
    registry = home / "registry" / "events.yaml"
    registry.parent.mkdir()
    shutil.copy(SHIPPED, registry)
    shutil.copy(SHIPPED.with_suffix(".lock"), registry.parent / "events.lock")
    add_editor(registry)
    path = registry.parent / "editors.toml"
    found = accounts.load(path)
    proxy = accounts.Proxy(trusted=("127.0.0.1",), header="X-Forwarded-Email")
    accounts.save(path, accounts.Accounts(found.editors, proxy))
    tree = home / "public" / "feeds"
    tree.parent.mkdir()
    service_port, port = free_port(), free_port()
    env = {**os.environ, "ICALPUB_STATE_DIR": str(home / "state")}
    service_log = (home / "service.log").open("wb")
    service = subprocess.Popen(
        [
            sys.executable, "-m", "icalpub", "serve", str(registry),
            "--port", str(service_port), "--publish", str(tree),
        ],
        env=env,
        stdout=service_log,
        stderr=service_log,
    )  # fmt: skip
    conf = render(
        load(registry).calendar,
        root=str(tree),
        listen=f"127.0.0.1:{port}",
        proxy=f"127.0.0.1:{service_port}",
    )
    (home / "nginx.conf").write_text(conf)
    (home / "logs").mkdir()
    directives = f"daemon off; pid {home}/nginx.pid; error_log {home}/logs/error.log;"
    if os.geteuid() == 0:
        directives += " user root;"
    nginx = subprocess.Popen(
        [binary, "-p", str(home), "-c", str(home / "nginx.conf"), "-g", directives],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(service_port, timeout=60)
        wait_for_port(port)
        # A worker answers once it has loaded, and so published, the registry.
        assert json.loads(http_get(service_port, "/healthz")[2])["tree"]["version"]
        yield port, registry, tree
    finally:
        nginx.terminate()
        service.send_signal(signal.SIGTERM)
        nginx.wait(timeout=10)
        service.wait(timeout=30)
        service_log.close()


def test_polls_are_answered_by_nginx_from_the_published_tree(stack: tuple[int, Path, Path]) -> None:
    port, _, tree = stack
    for path in (
        "/calendar.ics",
        "/feed.atom",
        "/topics/training.ics",
        "/calendar.ics?topic=training",
        "/en/calendar.ics",
        "/en/feed.json",
        "/en/events/es-diena-2022.ics",
        "/en/feed.rss?topic=training",
    ):
        status, headers, body = http_get(port, path)
        assert status == 200, path
        assert NGINX_ETAG.match(headers["etag"]), (path, headers["etag"])
        assert headers["cache-control"] == "public, max-age=43200"
        target = path.lstrip("/")
        if "?topic=" in path:
            stem, _, topic = target.partition("?topic=")
            folder = stem.rsplit("/", 1)[0] + "/" if "/" in stem else ""
            target = f"{folder}topics/{topic}.{stem.rsplit('.', 1)[1]}"
        assert body == (tree / target).read_bytes(), path
    status, headers, body = http_get(port, "/events/es-diena-2018.ics", {"Accept-Encoding": "gzip"})
    assert (status, headers["content-encoding"]) == (200, "gzip")
    assert body == (tree / "events" / "es-diena-2018.ics.gz").read_bytes()
    status, headers, _ = http_get(port, "/calendar.ics", {"Accept-Encoding": "gzip;q=0"})
    assert status == 200 and "content-encoding" not in headers


def test_pages_unions_and_health_come_from_the_service(stack: tuple[int, Path, Path]) -> None:
    port, _, tree = stack
    status, headers, body = http_get(port, "/calendar.ics?topic=training&topic=project")
    assert status == 200 and SERVICE_ETAG.match(headers["etag"])
    assert b"BEGIN:VCALENDAR" in body
    status, headers, body = http_get(port, "/calendar/2022/01")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert "Notikumu kalendārs" in body.decode()
    status, headers, body = http_get(port, "/en/calendar/2022/01")
    assert status == 200 and "<h1>Calendar of events - January, 2022</h1>" in body.decode()
    status, headers, _ = http_get(port, "/", {"Accept-Language": "en"})
    assert (status, headers["location"]) == (302, "/en/")
    status, _, body = http_get(port, "/en/calendar.ics?topic=training&topic=project")
    assert status == 200 and b"NAME:Calendar of events: Projects\\, Training" in body
    health = json.loads(http_get(port, "/healthz")[2])
    assert health["tree"] == {"path": str(tree), "version": health["version"]}
    assert http_get(port, "/edit/login")[0] == 200


def test_a_client_cannot_pass_its_own_forwarding_headers(stack: tuple[int, Path, Path]) -> None:
    port, _, _ = stack
    forged = {"X-Forwarded-Email": "anna@example.lv", "X-Forwarded-For": "10.9.9.9"}
    status, headers, _ = http_get(port, "/edit/", forged)
    assert status == 302 and "/edit/login" in headers["location"]


def test_an_edit_reaches_the_files_nginx_serves(stack: tuple[int, Path, Path]) -> None:
    port, registry, _ = stack
    text = registry.read_text("utf-8").replace("location: Visa Latvija", "location: Talsi", 1)
    registry.write_text(text, "utf-8")
    for _ in range(200):  # no request reaches the service: its watcher sees the change
        body = http_get(port, "/events/es-diena-2018.ics")[2]
        if b"LOCATION:Talsi" in body:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("nginx never served the edited event")
    assert b"LOCATION:Talsi" in http_get(port, "/calendar.ics")[2]


def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    tool = require("systemd-analyze")
    icalpub = Path(sys.executable).with_name("icalpub")
    unit = (ROOT / "deploy" / "icalpub.service").read_text("utf-8")
    assert "/opt/icalpub/bin/icalpub serve" in unit
    for line in ("NoNewPrivileges=yes", "ProtectSystem=strict", "StateDirectory=icalpub"):
        assert line in unit.splitlines()
    checked = tmp_path / "icalpub.service"
    checked.write_text(unit.replace("/opt/icalpub/bin/icalpub", str(icalpub)))
    result = subprocess.run([tool, "verify", str(checked)], capture_output=True, text=True)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
    broken = tmp_path / "broken.service"
    broken.write_text(checked.read_text().replace("NoNewPrivileges=yes", "NoNewPrivileges=perhaps"))
    result = subprocess.run([tool, "verify", str(broken)], capture_output=True, text=True)
    assert "Failed to parse" in result.stderr  # the check can fail


def test_feeds_carry_one_cors_header_whoever_answers(stack: tuple[int, Path, Path]) -> None:
    import http.client

    port, _, _ = stack

    def origins(path: str) -> list[str]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", path, headers={"Origin": "https://www.iem.gov.lv"})
        response = connection.getresponse()
        response.read()
        connection.close()
        assert response.status == 200, path
        return [v for k, v in response.getheaders() if k.lower() == "access-control-allow-origin"]

    # nginx's files, the service's unions behind it (its own header hidden), its event files
    for path in (
        "/feed.json",
        "/en/topics/training.json",
        "/feed.json?topic=training&topic=project",
        "/en/calendar.ics?topic=training&topic=project",
        "/events/es-diena-2018.ics",
    ):
        assert origins(path) == ["*"], path
    assert origins("/events/") == []  # pages are not for other sites' scripts
