"""Publish on change: the service writes the same tree as `icalpub build`, once per version."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from icalpub.build import build_folder
from icalpub.live import Live
from icalpub.publisher import Publisher
from icalpub.served import Served

from .conftest import FakeClock, free_port, http_get, wait_for_port

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)


def tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def built_elsewhere(site: Path, folder: Path, now: dt.datetime = NOW) -> dict[str, bytes]:
    """Build a copy of the registry and ledger as they are now with `icalpub build`'s function
    (the copy keeps the file's save time: changes the ledger has not seen count from it)."""
    folder.mkdir()
    shutil.copy2(site, folder / "events.yaml")
    shutil.copy2(site.with_suffix(".lock"), folder / "events.lock")
    build_folder(folder / "events.yaml", folder / "feeds", now)
    return tree(folder / "feeds")


def test_each_new_version_is_written_as_a_build_writes_it(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"
    publisher = Publisher(site, out)
    clock = FakeClock()
    live = Live(site, background=False, clock=clock, on_loaded=publisher, now=lambda: NOW)
    assert publisher.version() == live.current().version
    assert tree(out) == built_elsewhere(site, tmp_path / "a")
    text = site.read_text("utf-8").replace("location: Visa Latvija", "location: Rīga", 1)
    site.write_text(text, "utf-8")
    os.utime(site, (NOW.timestamp() + 60, NOW.timestamp() + 60))
    clock.advance()
    served = live.current()
    assert publisher.version() == served.version
    assert b"LOCATION:R\xc4\xabga" in (out / "events" / "es-diena-2018.ics").read_bytes()
    clock.advance()
    assert tree(out) == built_elsewhere(site, tmp_path / "b")  # the ledger moved with it


def test_a_broken_registry_writes_nothing(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"
    publisher = Publisher(site, out)
    clock = FakeClock()
    live = Live(site, background=False, clock=clock, on_loaded=publisher, now=lambda: NOW)
    before, version = tree(out), publisher.version()
    site.write_text(site.read_text("utf-8").replace("start: 2018-10-18", "start: nope"), "utf-8")
    clock.advance()
    assert live.current().version == version and live.status == "degraded"
    assert (tree(out), publisher.version()) == (before, version)


def test_a_second_worker_with_the_same_version_writes_nothing(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"
    first = Publisher(site, out)
    Live(site, background=False, on_loaded=first, now=lambda: NOW)
    inode = (out / "calendar.ics").stat().st_ino
    second = Publisher(site, out)
    Live(site, background=False, on_loaded=second, now=lambda: NOW)
    assert (out / "calendar.ics").stat().st_ino == inode


def test_two_gunicorn_workers_publish_each_version_once(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"
    port = free_port()
    log_path = tmp_path / "serve.log"
    env = {**os.environ, "ICALPUB_STATE_DIR": str(tmp_path / "state")}
    command = [
        sys.executable, "-m", "icalpub", "serve", str(site),
        "--port", str(port), "--workers", "2", "--publish", str(out),
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        try:
            wait_for_port(port, timeout=60)
            first = json.loads(http_get(port, "/healthz")[2])
            assert first["tree"] == {"path": str(out), "version": first["version"]}
            text = site.read_text("utf-8").replace("location: Visa Latvija", "location: Cēsis", 1)
            site.write_text(text, "utf-8")
            for _ in range(300):  # every worker reloads on its next request
                answers = [json.loads(http_get(port, "/healthz")[2]) for _ in range(4)]
                if all(a["tree"]["version"] != first["version"] for a in answers) and (
                    b"C\xc4\x93sis" in (out / "events" / "es-diena-2018.ics").read_bytes()
                ):
                    break
                time.sleep(0.05)
            else:
                raise AssertionError("the new version never reached the tree")
            time.sleep(1)  # let the other worker load the same version too
            for _ in range(8):
                http_get(port, "/healthz")
            time.sleep(1)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    written = log_path.read_text("utf-8").count("published version")
    assert written == 2, log_path.read_text("utf-8")  # the first version, then the edit
    assert tree(out) == built_elsewhere(site, tmp_path / "built", dt.datetime.now(dt.UTC))


def test_publishing_leaves_the_ledger_as_git_has_it(site: Path, tmp_path: Path) -> None:
    """A service with --publish never writes events.lock (SPEC §5), so the registry's work
    tree stays clean and `git pull` can run; the tree has the stamps all the same."""
    out = tmp_path / "public"
    ledger_before = site.with_suffix(".lock").read_bytes()
    clock = FakeClock()
    live = Live(
        site, background=False, clock=clock, on_loaded=Publisher(site, out), now=lambda: NOW
    )
    text = site.read_text("utf-8").replace("location: Visa Latvija", "location: Rīga", 1)
    site.write_text(text, "utf-8")
    os.utime(site, (NOW.timestamp() - 60, NOW.timestamp() - 60))
    clock.advance()
    live.current()
    assert b"LOCATION:R\xc4\xabga" in (out / "events" / "es-diena-2018.ics").read_bytes()
    assert site.with_suffix(".lock").read_bytes() == ledger_before
    assert b"SEQUENCE:1" in (out / "events" / "es-diena-2018.ics").read_bytes()


def test_workers_take_turns_loading_a_change_and_the_second_finds_it_published(
    site: Path, tmp_path: Path
) -> None:
    """With --publish, a worker that sees a change while another loads and publishes it
    waits for that, then loads it too and finds the tree holding it (writes nothing)."""
    out = tmp_path / "public"
    first, second = Publisher(site, out), Publisher(site, out)
    told: list[str] = []
    armed, publishing, go_on = threading.Event(), threading.Event(), threading.Event()

    def one_tells(served: Served) -> None:
        if armed.is_set():  # the change, not the first load at start
            publishing.set()
            go_on.wait(30)  # the first worker is still writing its tree
        told.append("one wrote" if first(served) else "one found it")

    def two_tells(served: Served) -> None:
        told.append("two wrote" if second(served) else "two found it")

    clock = FakeClock()
    one = Live(site, False, clock, lambda: NOW, on_loaded=one_tells, turn=first.turn)
    two = Live(site, False, clock, lambda: NOW, on_loaded=two_tells, turn=second.turn)
    told.clear()
    site.write_text(site.read_text("utf-8").replace("Visa Latvija", "Rīga", 1), "utf-8")
    os.utime(site, (NOW.timestamp() + 60, NOW.timestamp() + 60))
    clock.advance()
    armed.set()
    loading = threading.Thread(target=one.current)
    loading.start()
    assert publishing.wait(30)
    waiting = threading.Thread(target=two.current)
    waiting.start()
    waiting.join(0.5)
    assert waiting.is_alive()  # the second waits for the first's turn to end
    go_on.set()
    loading.join()
    waiting.join()
    assert told == ["one wrote", "two found it"]
    assert one.current().version == two.current().version == first.version()


def test_a_turn_not_given_in_time_is_taken_anyway(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"
    stuck, other = Publisher(site, out), Publisher(site, out)
    other.TURN_WAIT = 0.0
    entered = []
    with stuck.turn(), other.turn():  # a stuck worker never gives the turn back
        entered.append("other")
    assert entered == ["other"]


def test_a_save_in_this_process_holds_its_reload_until_answered(site: Path) -> None:
    clock = FakeClock()
    live = Live(site, background=False, clock=clock, now=lambda: NOW)
    before = live.current().version
    site.write_text(site.read_text("utf-8").replace("Visa Latvija", "Rīga", 1), "utf-8")
    os.utime(site, (NOW.timestamp() + 60, NOW.timestamp() + 60))
    clock.advance()
    with live.held():
        assert live.current().version == before  # the save's thread keeps the interpreter
    assert live.current().version != before  # and the change is loaded right after
