"""Attack the workers' turns (`Publisher.turn`) and the files a publishing service leaves.

A worker that sees a change waits (at most TURN_WAIT) for another's load and
publication. A second save made while it waits must be loaded when its turn
comes, not thrown away for another wait; and the writers' lock the publisher
makes must not be offered by `git status` to whoever commits next.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from icalpub.editor import yamltext
from icalpub.editor.history import Author, for_registry
from icalpub.editor.store import Change, Store
from icalpub.live import Live
from icalpub.publisher import Publisher
from icalpub.served import compile_served

from .conftest import FakeClock, require

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
ANNA = Author("Anna Bērziņa", "anna@example.lv")


def git(folder: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args]
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, check=True).stdout


def save_by_hand(site: Path, old: str, new: str, minute: int) -> None:
    site.write_text(site.read_text("utf-8").replace(old, new, 1), "utf-8")
    moment = NOW.timestamp() + 60 * minute
    os.utime(site, (moment, moment))


def test_a_change_saved_while_a_worker_waits_for_its_turn_is_loaded_when_the_turn_comes(
    site: Path, tmp_path: Path
) -> None:
    """Another worker holds the turn (stopped, or loading 10,000 events); this one sees a
    change and waits. A second save lands during the wait: when the turn comes (or the wait
    ends), the worker compiles the file as it is then and must serve that, not throw the
    compile away and wait a whole TURN_WAIT again (observed with SIGSTOP: 21.9 s, not 10)."""
    out = tmp_path / "public"
    stuck, waiting = Publisher(site, out), Publisher(site, out)
    waiting.TURN_WAIT = 0.2
    holding, release = threading.Event(), threading.Event()

    def stuck_worker() -> None:
        with stuck.turn():  # a worker stopped while it loads
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=stuck_worker)
    holder.start()
    assert holding.wait(30)

    @contextlib.contextmanager
    def turn_with_a_save_meanwhile() -> Iterator[None]:
        save_by_hand(site, "Rīga", "Jelgava", 2)  # an editor's save while this one waits
        with waiting.turn():
            yield

    clock = FakeClock()
    live = Live(site, False, clock, lambda: NOW, on_loaded=waiting, turn=turn_with_a_save_meanwhile)
    save_by_hand(site, "Visa Latvija", "Rīga", 1)
    clock.advance()
    try:
        served = live.current()  # sees the first save, waits, compiles what is there then
    finally:
        release.set()
        holder.join()
    expected = compile_served(site, now=NOW).version
    assert served.version == expected
    assert waiting.version() == expected  # and published it


def test_a_publishing_services_writers_lock_is_not_offered_by_git_status(
    site: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """`icalpub serve --publish` publishes at start, under the writers' lock: the lock file
    is made then, so the editor's first save (which keeps a lock it made out of git) finds
    it made already and `git status` offers `.events.yaml.edit-lock` for ever after; a
    `git add -A` commits it (seen on a served copy of the shipped registry)."""
    require("git")
    repository = site.parent
    git(repository, "init", "-q")
    git(repository, "add", "events.yaml", "events.lock")
    git(repository, "commit", "-qm", "start")
    publisher = Publisher(site, tmp_path_factory.mktemp("served") / "public")
    live = Live(site, background=False, now=lambda: NOW, on_loaded=publisher, turn=publisher.turn)
    assert publisher.version() == live.current().version  # published at start
    document = yamltext.read(site.read_text("utf-8"))
    item = document.item("es-diena-2018")
    assert item is not None
    fields = dict(document.values(item), title="Jauns")
    saved = Store(site, for_registry(site)).save(
        Change("edit", "es-diena-2018", fields, item.version), ANNA, NOW
    )
    assert saved.history_error == ""
    assert git(repository, "status", "--porcelain") == ""
