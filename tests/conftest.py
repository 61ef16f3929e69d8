"""Shared fixtures: scratch registries written inside each test."""

from __future__ import annotations

import contextlib
import textwrap
from collections.abc import Callable, Collection, Iterator, Mapping
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "events.yaml"

HEADER = """\
calendar:
  title: Test calendar
  base_url: https://cal.example.org/
  timezone: Europe/Riga
  language: lv
topics:
  training: {title: {lv: Mācības, en: Training}}
  project: {title: Projekti}
events:
"""


@pytest.fixture
def registry_file(tmp_path: Path) -> Callable[[str], Path]:
    """Return a function writing `events.yaml` (HEADER + the given event lines) to tmp_path."""

    def write(events: str, header: str = HEADER) -> Path:
        path = tmp_path / "events.yaml"
        path.write_text(header + textwrap.dedent(events), encoding="utf-8")
        return path

    return write


def require(tool: str) -> str:
    """Return the path of a system tool; skip without it locally, fail without it in CI."""
    import shutil

    found = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if found:
        return found
    missing(f"{tool} (.ci/run installs it with apt)")


def missing(what: str) -> NoReturn:
    """Skip a test that needs `what` locally; fail it in CI, where it must run."""
    import os

    if os.environ.get("CI"):
        pytest.fail(f"missing in CI: {what}")
    pytest.skip(f"missing: {what}")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    """Wait until something accepts connections on 127.0.0.1:`port`."""
    import socket
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float = 1.5) -> None:
        self.now += seconds


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """Return a copy of the shipped registry and ledger in tmp_path."""
    import shutil

    shutil.copy(SHIPPED, tmp_path / "events.yaml")
    shutil.copy(SHIPPED.with_suffix(".lock"), tmp_path / "events.lock")
    return tmp_path / "events.yaml"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(site: Path, clock: FakeClock, state_dir: Path):  # type: ignore[no-untyped-def]
    """The service over `site`, reloading synchronously when the clock moves."""
    from icalpub.live import Live
    from icalpub.service import create_service
    from icalpub.snapshot import Snapshot

    live = Live(site, background=False, clock=clock, snapshot=Snapshot(site, state_dir))
    app = create_service(live=live)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture(autouse=True)
def state_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep the service's state (snapshots, counts) inside the test's temporary folders."""
    folder = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("ICALPUB_STATE_DIR", str(folder))
    return folder


def http_get(
    port: int, path: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    """Ask 127.0.0.1:`port` for `path`: status, lower-cased headers, body."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, path, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


@contextlib.contextmanager
def running_gunicorn(
    registry: Path,
    folder: Path,
    settings: Mapping[str, str] | None = None,
    unset: Collection[str] = (),
) -> Iterator[int]:
    """Run `gunicorn -c gunicorn.conf.py wsgi:app` on `registry` (its log and access log
    in `folder`, `settings` as ICALPUB_* variables, `unset` left out); yield its port."""
    import os
    import signal
    import subprocess
    import sys

    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in unset},
        "ICALPUB_REGISTRY": str(registry),
        "ICALPUB_BIND": f"127.0.0.1:{port}",
        "ICALPUB_ACCESS_LOG": str(folder / "access.log"),
        **(settings or {}),
    }
    command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"]
    with (folder / "gunicorn.log").open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        try:
            wait_for_port(port, timeout=30)
            yield port
        finally:
            os.kill(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
