"""deploy/nginx.conf serves a static build at the SPEC's URLs with the right headers."""

from __future__ import annotations

import dataclasses
import gzip
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from icalpub.deployment.nginx import render
from icalpub.model import Duration
from icalpub.reader import load

from .conftest import ROOT, SHIPPED, free_port, http_get, require, wait_for_port

EXPECTED = ROOT / "tests" / "expected"
TYPES = {
    "ics": "text/calendar; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}


@pytest.fixture(scope="module")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    binary = require("nginx")
    home = tmp_path_factory.mktemp("nginx")
    root = home / "feeds"
    shutil.copytree(EXPECTED, root)
    port = free_port()
    conf = render(load(SHIPPED).calendar, root=str(root), listen=f"127.0.0.1:{port}")
    (home / "nginx.conf").write_text(conf)
    (home / "logs").mkdir()
    directives = f"daemon off; pid {home}/nginx.pid; error_log {home}/logs/error.log;"
    if os.geteuid() == 0:
        directives += " user root;"  # workers must read the test's private temp folder
    process = subprocess.Popen(
        [binary, "-p", str(home), "-c", str(home / "nginx.conf"), "-g", directives],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def published_paths() -> list[str]:
    return sorted(
        str(p.relative_to(EXPECTED))
        for p in EXPECTED.rglob("*")
        if p.is_file() and p.suffix in {".ics", ".rss", ".atom", ".json"} and p.name != "index.json"
    )


def test_every_path_has_its_bytes_type_and_caching_headers(nginx: int) -> None:
    paths = published_paths()
    assert len(paths) == 82  # Latvian at the top, English under /en/
    assert "en/topics/training.ics" in paths
    for path in paths:
        status, headers, body = http_get(nginx, "/" + path)
        assert status == 200, path
        assert body == (EXPECTED / path).read_bytes(), path
        assert headers["content-type"] == TYPES[path.rsplit(".", 1)[1]], path
        assert headers["cache-control"] == "public, max-age=43200"
        assert headers["access-control-allow-origin"] == "*"  # the widget reads feeds anywhere
        assert headers["etag"].startswith('"')
        assert "last-modified" in headers


def test_gzip_is_served_from_the_precompressed_twin(nginx: int) -> None:
    status, headers, body = http_get(nginx, "/calendar.ics", {"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert headers["vary"] == "Accept-Encoding"
    assert body == (EXPECTED / "calendar.ics.gz").read_bytes()
    assert gzip.decompress(body) == (EXPECTED / "calendar.ics").read_bytes()


@pytest.mark.parametrize("accept", ["gzip;q=0", "gzip;q=0, identity", "br"])
def test_nginx_reads_accept_encoding_q_values(nginx: int, accept: str) -> None:
    status, headers, body = http_get(nginx, "/calendar.ics", {"Accept-Encoding": accept})
    assert status == 200
    assert "content-encoding" not in headers
    assert body == (EXPECTED / "calendar.ics").read_bytes()


def test_conditional_requests_answer_304(nginx: int) -> None:
    _, headers, _ = http_get(nginx, "/feed.atom")
    status, _, body = http_get(nginx, "/feed.atom", {"If-None-Match": headers["etag"]})
    assert (status, body) == (304, b"")
    status, _, _ = http_get(nginx, "/feed.atom", {"If-Modified-Since": headers["last-modified"]})
    assert status == 304


def test_single_topic_query_is_the_topic_file_and_unions_are_refused(nginx: int) -> None:
    status, headers, body = http_get(nginx, "/calendar.ics?topic=training")
    assert status == 200
    assert body == (EXPECTED / "topics" / "training.ics").read_bytes()
    assert headers["content-type"] == TYPES["ics"]
    status, _, body = http_get(nginx, "/feed.rss?topic=training&topic=project")
    assert status == 404
    assert b"live icalpub service" in body
    status, _, body = http_get(nginx, "/en/calendar.ics?topic=training")
    assert status == 200
    assert body == (EXPECTED / "en" / "topics" / "training.ics").read_bytes()
    assert b"NAME:Calendar of events: Training" in body


def test_unknown_paths_and_gz_twins_are_404(nginx: int) -> None:
    for path in (
        "/topics/nope.ics",
        "/de/calendar.ics",
        "/lv/calendar.ics",
        "/en/en/calendar.ics",
        "/calendar.ics.gz",
        "/events/../calendar.ics.gz",
        "/.feeds.lock",
    ):
        status, _, _ = http_get(nginx, path)
        assert status == 404, path


def test_head_works(nginx: int) -> None:
    status, headers, body = http_get(nginx, "/calendar.ics", method="HEAD")
    assert (status, body) == (200, b"")
    assert int(headers["content-length"]) == (EXPECTED / "calendar.ics").stat().st_size


def test_nginx_conf_passes_nginx_t(tmp_path: Path) -> None:
    binary = require("nginx")
    result = subprocess.run(
        [
            binary,
            "-t",
            "-p",
            str(tmp_path),
            "-c",
            str(ROOT / "deploy" / "nginx.conf"),
            "-g",
            f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_shipped_nginx_conf_is_what_nginx_config_writes_for_the_shipped_registry() -> None:
    calendar = load(SHIPPED).calendar
    written = render(calendar, root="/srv/icalpub/feeds", listen="8080")
    assert (ROOT / "deploy" / "nginx.conf").read_text("utf-8") == written


def test_nginx_max_age_follows_calendar_refresh() -> None:
    calendar = load(SHIPPED).calendar
    hourly = dataclasses.replace(calendar, refresh=Duration("PT2H", seconds=7200))
    unset = dataclasses.replace(calendar, refresh=None)
    assert 'add_header Cache-Control "public, max-age=43200" always;' in render(
        calendar, root="/r", listen="1"
    )
    assert 'add_header Cache-Control "public, max-age=7200" always;' in render(
        hourly, root="/r", listen="1"
    )
    assert 'add_header Cache-Control "public, max-age=3600" always;' in render(
        unset, root="/r", listen="1"
    )


def test_shipped_stack_conf_is_what_nginx_config_writes_with_a_proxy() -> None:
    calendar = load(SHIPPED).calendar
    written = render(
        calendar, root="/srv/icalpub/public/feeds", listen="8080", proxy="127.0.0.1:8000"
    )
    assert (ROOT / "deploy" / "nginx-stack.conf").read_text("utf-8") == written
