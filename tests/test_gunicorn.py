"""Real gunicorn, two workers: static-build bytes, stable ETags, and reload under edits."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import ROOT, SHIPPED, free_port, http_get, running_gunicorn, wait_for_port

EXPECTED = ROOT / "tests" / "expected"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    registry = tmp_path / "events.yaml"
    shutil.copy(SHIPPED, registry)
    shutil.copy(SHIPPED.with_suffix(".lock"), tmp_path / "events.lock")
    with running_gunicorn(registry, tmp_path) as port:
        yield port, registry


def every_worker(port: int, check) -> bool:  # type: ignore[no-untyped-def]
    """Ask /healthz until both workers have answered; return whether all of them pass `check`."""
    latest: dict[int, dict[str, object]] = {}
    for _ in range(40):
        answer = json.loads(http_get(port, "/healthz")[2])
        latest[answer["worker"]] = answer
        if len(latest) == 2:
            break
    return len(latest) == 2 and all(check(a) for a in latest.values())


def wait_until(check) -> None:  # type: ignore[no-untyped-def]
    """Wait until `check` passes; the limit only keeps a broken reload from hanging the suite.

    How fast a reload is, is measured in bench/run.py ("reload and memory"), not here.
    """
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("the workers never reached the expected state")


def test_gunicorn_serves_the_build_and_follows_edits(server: tuple[int, Path]) -> None:
    port, registry = server
    paths = sorted(
        str(p.relative_to(EXPECTED))
        for p in EXPECTED.rglob("*")
        if p.suffix in {".ics", ".rss", ".atom", ".json"} and p.name != "index.json"
    )
    for path in paths:
        status, _, body = http_get(port, "/" + path)
        assert status == 200 and body == (EXPECTED / path).read_bytes(), path
    etags = {http_get(port, "/calendar.ics")[1]["etag"] for _ in range(50)}  # both workers answer
    assert len(etags) == 1
    [etag] = etags
    assert http_get(port, "/calendar.ics", {"If-None-Match": etag})[0] == 304
    status, headers, body = http_get(port, "/calendar.ics", {"Accept-Encoding": "gzip"})
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == (EXPECTED / "calendar.ics").read_bytes()

    good = registry.read_text("utf-8")
    broken = good.replace("base_url: https://calendar.example.lv/", "base_url: [broken", 1)
    assert broken != good
    registry.write_text(broken, "utf-8")

    wait_until(lambda: every_worker(port, lambda a: a["status"] == "degraded"))
    for _ in range(10):
        assert http_get(port, "/calendar.ics")[2] == (EXPECTED / "calendar.ics").read_bytes()

    registry.write_text(
        good + "\n  - id: extra-event\n    title: Papildu\n    start: 2024-02-02\n", "utf-8"
    )

    wait_until(lambda: every_worker(port, lambda a: (a["status"], a["events"]) == ("ok", 18)))
    for _ in range(10):
        _, headers, body = http_get(port, "/calendar.ics")
        assert headers["etag"] != etag and b"UID:extra-event@" in body
    gunicorn_log = registry.parent / "gunicorn.log"
    # each worker says when it took the edit (a line written just after it serves it)
    wait_until(lambda: gunicorn_log.read_text("utf-8").count("[INFO] reloaded ") >= 2)
    log = gunicorn_log.read_text("utf-8")
    assert log.count("[INFO] loaded ") == 2  # each worker says what it serves
    assert "[ERROR] reload failed, still serving version" in log


def test_a_replaced_worker_goes_on_with_the_last_good_version(
    server: tuple[int, Path],
) -> None:
    port, registry = server
    good = (EXPECTED / "calendar.ics").read_bytes()
    wait_until(lambda: every_worker(port, lambda a: a["status"] == "ok"))
    registry.write_text("calendar: [broken\n", "utf-8")
    wait_until(lambda: every_worker(port, lambda a: a["status"] == "degraded"))
    victim = json.loads(http_get(port, "/healthz")[2])["worker"]
    os.kill(victim, signal.SIGKILL)  # the master starts a new worker, on a broken registry
    wait_until(
        lambda: every_worker(port, lambda a: a["worker"] != victim and a["status"] == "degraded")
    )
    for _ in range(10):
        assert http_get(port, "/calendar.ics")[2] == good
    log = (registry.parent / "gunicorn.log").read_text("utf-8")
    assert "serving the last good version" in log


def test_a_restarted_serve_refuses_a_broken_registry(tmp_path: Path) -> None:
    """Regression: the snapshot was keyed by the launching shell, so a restart served it."""
    registry = tmp_path / "events.yaml"
    shutil.copy(SHIPPED, registry)
    shutil.copy(SHIPPED.with_suffix(".lock"), tmp_path / "events.lock")
    env = {**os.environ, "ICALPUB_STATE_DIR": str(tmp_path / "state")}
    port = free_port()
    command = [sys.executable, "-m", "icalpub", "serve", str(registry), "--port", str(port)]
    first = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, timeout=60)
        assert http_get(port, "/calendar.ics")[2] == (EXPECTED / "calendar.ics").read_bytes()
    finally:
        first.terminate()
        first.wait(timeout=30)
    assert list((tmp_path / "state").iterdir())  # it kept a snapshot while it ran
    registry.write_text("calendar: [broken\n", "utf-8")
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 1
    assert "not serving:" in second.stderr


def test_serve_runs_gunicorn_workers_and_dev_runs_werkzeug(tmp_path: Path) -> None:
    registry = tmp_path / "events.yaml"
    shutil.copy(SHIPPED, registry)
    shutil.copy(SHIPPED.with_suffix(".lock"), tmp_path / "events.lock")
    env = {**os.environ, "ICALPUB_STATE_DIR": str(tmp_path / "state")}
    for flags, server in (([], "gunicorn"), (["--dev"], "werkzeug")):
        port = free_port()
        command = [sys.executable, "-m", "icalpub", "serve", str(registry), "--port", str(port)]
        log = tmp_path / f"{server}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(command + flags, env=env, stdout=output, stderr=output)
            try:
                wait_for_port(port, timeout=60)
                workers = {json.loads(http_get(port, "/healthz")[2])["worker"] for _ in range(40)}
                body = http_get(port, "/calendar.ics")[2]
            finally:
                process.terminate()
                process.wait(timeout=30)
        text = log.read_text("utf-8")
        assert body == (EXPECTED / "calendar.ics").read_bytes()
        if server == "gunicorn":
            assert "development server" not in text.lower()
            assert text.count("Booting worker") == 2  # ICALPUB_WORKERS' default
            assert process.pid not in workers  # a worker answered, not the master
        else:
            assert "development server" in text.lower()
