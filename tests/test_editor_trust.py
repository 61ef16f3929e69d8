"""Nothing an editor does is lost, and every edit reaches subscribers (issue #23, SPEC §5, §6).

Each test starts from a state real people start from: no ledger, a ledger
behind after hand edits, a hand edit during a save, a broken file, a full or
read-only disk, git locked — and checks the files' bytes, the history and what
the editor is told.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import icalendar
import pytest

from icalpub import ledger as ledgers
from icalpub.editor import store as store_module
from icalpub.editor.history import Author, Git, for_registry
from icalpub.editor.refusals import Conflict, Unsaved
from icalpub.editor.store import Change, Store
from icalpub.editor.yamltext import read_bytes
from icalpub.live import Live
from icalpub.service import create_service

from .conftest import require
from .editing import add_editor, hidden, log_in, title_save

ANNA = Author("Anna Bērziņa", "anna@example.lv")
BOB = Author("Bob Ozols", "bob@example.lv")
EVENT = "es-diena-2018"


def api_client(site: Path) -> tuple[Any, dict[str, str]]:
    token = add_editor(site)
    app = create_service(live=Live(site, background=False))
    app.config["TESTING"] = True
    return app.test_client(), {"Authorization": f"Bearer {token}"}


def put_title(client: Any, auth: dict[str, str], event_id: str, title: str) -> Any:
    got = client.get(f"/edit/api/events/{event_id}", headers=auth)
    body = dict(got.get_json(), title=title)
    return client.put(
        f"/edit/api/events/{event_id}",
        json=body,
        headers={**auth, "If-Match": got.headers["ETag"]},
    )


def vevent(site: Path, event_id: str, live: Live | None = None) -> Any:
    """Return the VEVENT of `event_id` as the service serves /calendar.ics now."""
    served = (live or Live(site, background=False)).current()
    calendar = icalendar.Calendar.from_ical(served.resources["calendar.ics"].body)
    found = [c for c in calendar.walk("VEVENT") if str(c["UID"]).startswith(f"{event_id}@")]
    assert len(found) == 1
    return found[0]


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, check=True)
    return done.stdout


def in_git(site: Path) -> Path:
    require("git")
    folder = site.parent
    git(folder, "init", "-q", "-b", "main")
    git(folder, "add", site.name, site.with_suffix(".lock").name)
    git(folder, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    return folder


# -- every edit is a change for subscribers -----------------------------------------


def test_an_edit_on_a_registry_that_never_had_a_ledger_raises_sequence_and_last_modified(
    site: Path,
) -> None:
    site.with_suffix(".lock").unlink()  # a newcomer's registry: no build ever ran
    before = vevent(site, EVENT)
    client, auth = api_client(site)
    started = dt.datetime.now(dt.UTC).replace(microsecond=0)
    assert put_title(client, auth, EVENT, "Jauns nosaukums").status_code == 200
    after = vevent(site, EVENT)
    assert str(after["SUMMARY"]) == "Jauns nosaukums"
    assert after["SEQUENCE"] == before["SEQUENCE"] + 1
    assert after.decoded("LAST-MODIFIED") >= started > before.decoded("LAST-MODIFIED")
    assert after.decoded("CREATED") == before.decoded("CREATED")
    entry = ledgers.loads(site.with_suffix(".lock").read_bytes()).entries[EVENT]
    assert entry.sequence == after["SEQUENCE"]


def test_an_edit_after_hand_edits_counts_both_as_changes(site: Path) -> None:
    text = site.read_text("utf-8")
    other = "Eiropas Savienības Cilvēku tirdzniecības apkarošanas diena"
    site.write_text(text.replace(f"title: {other}", "title: Rokas labojums", 1), "utf-8")
    served = vevent(site, EVENT)  # the service shows the hand edit, ledger behind
    assert str(served["SUMMARY"]) == "Rokas labojums"
    client, auth = api_client(site)
    assert put_title(client, auth, EVENT, "Redaktora labojums").status_code == 200
    after = vevent(site, EVENT)
    assert after["SEQUENCE"] == served["SEQUENCE"] + 1
    assert after.decoded("LAST-MODIFIED") >= served.decoded("LAST-MODIFIED")  # 1 s resolution


def test_a_new_future_event_gets_no_stamp_in_the_future(site: Path) -> None:
    client, auth = api_client(site)
    start = (dt.date.today() + dt.timedelta(days=21)).isoformat()
    body = {"id": "macibas-nakotne", "title": "Mācības", "start": start}
    assert client.post("/edit/api/events", json=body, headers=auth).status_code == 201
    now = dt.datetime.now(dt.UTC)
    live = Live(site, background=False)
    new = vevent(site, "macibas-nakotne", live)
    for name in ("DTSTAMP", "CREATED", "LAST-MODIFIED"):
        assert new.decoded(name) <= now, name
    assert live.current().last_modified <= now
    # moving it keeps CREATED
    got = client.get("/edit/api/events/macibas-nakotne", headers=auth)
    later = (dt.date.today() + dt.timedelta(days=22)).isoformat()
    moved = dict(got.get_json(), start=later)
    headers = {**auth, "If-Match": got.headers["ETag"]}
    assert (
        client.put("/edit/api/events/macibas-nakotne", json=moved, headers=headers).status_code
        == 200
    )
    again = vevent(site, "macibas-nakotne")
    assert again.decoded("CREATED") == new.decoded("CREATED")
    assert again["SEQUENCE"] == 1


# -- never over someone else's write ------------------------------------------------


def test_a_hand_edit_made_during_a_save_is_kept(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(site, for_registry(site))
    document = read_bytes(site.read_bytes())
    item = document.item(EVENT)
    assert item is not None
    fields = dict(document.values(item), title="Redaktora")
    real = store_module.ledgers.reconcile
    calls = {"n": 0}

    def hand_edit_meanwhile(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:  # while the first attempt computes, someone saves by hand
            site.write_bytes(site.read_bytes() + b"# rokas labojums\n")
        return real(*args, **kwargs)

    monkeypatch.setattr(store_module.ledgers, "reconcile", hand_edit_meanwhile)
    store.save(Change("edit", EVENT, fields, item.version), ANNA, dt.datetime.now(dt.UTC))
    text = site.read_text("utf-8")
    assert text.endswith("# rokas labojums\n")
    assert "title: Redaktora\n" in text


def test_a_hand_edit_of_the_same_event_during_a_save_is_a_conflict_not_overwritten(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(site, for_registry(site))
    document = read_bytes(site.read_bytes())
    item = document.item(EVENT)
    assert item is not None
    title = str(document.values(item)["title"])
    real = store_module.ledgers.reconcile

    def same_event_meanwhile(*args: Any, **kwargs: Any) -> Any:
        text = site.read_text("utf-8")
        if "Rokas" not in text:
            site.write_text(text.replace(f"title: {title}", "title: Rokas", 1), "utf-8")
        return real(*args, **kwargs)

    monkeypatch.setattr(store_module.ledgers, "reconcile", same_event_meanwhile)
    fields = dict(document.values(item), title="Redaktora")
    with pytest.raises(Conflict):
        store.save(Change("edit", EVENT, fields, item.version), ANNA, dt.datetime.now(dt.UTC))
    assert "title: Rokas\n" in site.read_text("utf-8")


HAND_EDITOR = """
import os, sys, time
path, count = sys.argv[1], int(sys.argv[2])
for n in range(count):
    data = open(path, "rb").read() + f"# hand edit {n}\\n".encode()
    tmp = path + ".hand"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)  # as an editor that saves by rename does
    time.sleep(0.01)
"""


def test_hand_edits_from_another_process_during_many_saves_are_never_lost(site: Path) -> None:
    # a bigger registry, so that a save takes a while
    text = site.read_text("utf-8")
    extra = "".join(
        f"  - id: extra-{n}\n    title: Papildu {n}\n    start: 2019-03-{n % 28 + 1:02d}\n"
        for n in range(300)
    )
    site.write_text(text + extra, "utf-8")
    store = Store(site, for_registry(site))
    hands = subprocess.Popen([sys.executable, "-c", HAND_EDITOR, str(site), "40"])
    saved = 0
    try:
        for n in range(40):
            document = read_bytes(site.read_bytes())
            item = document.item(f"extra-{n}")
            assert item is not None
            fields = dict(document.values(item), title=f"Labots {n}")
            try:
                store.save(
                    Change("edit", item.id, fields, item.version), ANNA, dt.datetime.now(dt.UTC)
                )
                saved += 1
            except store_module.Busy:
                pass  # refused, nothing written: allowed, never a loss
            if hands.poll() is not None and saved >= 5:
                break
    finally:
        hands.wait(timeout=60)
    final = site.read_text("utf-8")
    assert all(f"# hand edit {n}\n" in final for n in range(40))
    assert saved >= 1
    # (the hand editor itself saves blindly, so it may overwrite a web save; the
    # editor never overwrites it.) Once it is done, a save lands with all of it.
    document = read_bytes(site.read_bytes())
    item = document.item("extra-299")
    assert item is not None
    fields = dict(document.values(item), title="Pēdējais")
    store.save(Change("edit", item.id, fields, item.version), ANNA, dt.datetime.now(dt.UTC))
    final = site.read_text("utf-8")
    assert "title: Pēdējais\n" in final
    assert all(f"# hand edit {n}\n" in final for n in range(40))


# -- failures say what happened and keep both files as they were ---------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root") if not os.environ.get("CI") else None
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> Path:
    filler = folder / "filler"
    with open(filler, "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass
    return filler


def test_a_full_disk_answers_507_keeps_both_files_and_the_retry_succeeds(
    site: Path, small_disk: Path
) -> None:
    for name in ("events.yaml", "events.lock"):
        shutil.copy(site.parent / name, small_disk / name)
    registry = small_disk / "events.yaml"
    client, auth = api_client(registry)
    assert client.get("/edit/api/events", headers=auth).status_code == 200  # key made
    before = {n: (small_disk / n).read_bytes() for n in ("events.yaml", "events.lock")}
    filler = fill(small_disk)
    body = {"id": "pilns-disks", "title": "Pilns disks", "start": "2026-12-01"}
    answer = client.post("/edit/api/events", json=body, headers=auth)
    assert answer.status_code == 507
    assert "nothing was saved" in answer.get_json()["error"]
    assert {n: (small_disk / n).read_bytes() for n in before} == before
    assert not [
        p.name
        for p in small_disk.iterdir()
        if p.name.startswith(".events.")
        and not p.name.endswith("edit-lock")
        and not p.name.endswith(".secret")
    ]
    filler.unlink()
    again = client.post("/edit/api/events", json=body, headers=auth)
    assert again.status_code == 201  # not 409 "exists": nothing was half-saved
    entry = ledgers.loads((small_disk / "events.lock").read_bytes()).entries["pilns-disks"]
    assert entry.sequence == 0


def test_a_read_only_disk_answers_507_in_the_editors_language(site: Path, small_disk: Path) -> None:
    for name in ("events.yaml", "events.lock"):
        shutil.copy(site.parent / name, small_disk / name)
    registry = small_disk / "events.yaml"
    add_editor(registry)
    app = create_service(live=Live(registry, background=False))
    app.config["TESTING"] = True
    client = app.test_client()
    assert log_in(client).status_code == 302
    page = client.get(f"/edit/events/{EVENT}?lang=lv").get_data(as_text=True)
    before = registry.read_bytes()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        from .editing import form_of

        form = form_of(page)
        form["title"] = "Tikai lasāms"
        answer = client.post(f"/edit/events/{EVENT}?lang=lv", data=form)
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert answer.status_code == 507
    text = answer.get_data(as_text=True)
    assert "nekas netika saglabāts" in text
    assert registry.read_bytes() == before


# -- a broken file is shown, not a 500 ----------------------------------------------


@pytest.mark.parametrize(
    ("breakage", "line"),
    [
        (lambda text: text.replace("events:\n", "events:\n  - id: [\n", 1), None),
        (lambda text: text.replace("events:\n", "happenings:\n", 1), None),
    ],
    ids=["yaml-syntax-error", "no-events-key"],
)
def test_a_broken_file_is_shown_with_its_lines_and_saves_are_refused(
    site: Path, breakage: Any, line: Any
) -> None:
    client, auth = api_client(site)
    live_pages = client.get("/")  # the public pages: the last good version
    assert live_pages.status_code in (200, 302)
    site.write_text(breakage(site.read_text("utf-8")), "utf-8")
    before = site.read_bytes()
    listed = client.get("/edit/api/events", headers=auth)
    assert listed.status_code == 409
    problems = listed.get_json()["problems"]
    assert problems and all(p["line"] >= 1 and p["message"] for p in problems)
    body = {"id": "jauns", "title": "Jauns", "start": "2026-12-01"}
    assert client.post("/edit/api/events", json=body, headers=auth).status_code == 409
    assert site.read_bytes() == before
    assert log_in(client).status_code == 302
    page = client.get("/edit/?lang=lv")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "rinda" in html and problems[0]["message"].split("'")[0][:20] in html
    assert client.get(f"/edit/events/{EVENT}").status_code == 200
    month = client.get("/calendar/2018/10")
    assert month.status_code == 200 and "Cilvēku tirdzniecības" in month.get_data(as_text=True)


# -- anchored events ----------------------------------------------------------------

ANCHORED = textwrap.dedent(
    """\
      - id: anchored-a
        title: &t Kopīgs nosaukums
        start: 2019-05-01
      - id: anchored-b
        title: *t
        start: 2019-05-02
    """
)


def test_cancel_delete_and_restore_of_an_anchored_event_answer_409_with_the_reason(
    site: Path,
) -> None:
    site.write_text(site.read_text("utf-8") + textwrap.indent(ANCHORED, "  "), "utf-8")
    add_editor(site)
    app = create_service(live=Live(site, background=False))
    app.config["TESTING"] = True
    client = app.test_client()
    assert log_in(client).status_code == 302
    before = site.read_bytes()
    page = client.get("/edit/events/anchored-a").get_data(as_text=True)
    assert "Cancel the event" not in page and "Delete…" not in page
    token = hidden(page, "csrf_token")
    for url, data in [
        ("/edit/events/anchored-a/status", {"status": "cancelled"}),
        ("/edit/events/anchored-a/delete", {"confirm": "anchored-a"}),
        ("/edit/events/anchored-a/restore", {"commit": "abc"}),
    ]:
        answer = client.post(url + "?lang=en", data={**data, "csrf_token": token, "version": ""})
        assert answer.status_code == 409, url
        assert "anchors" in answer.get_data(as_text=True)
        latvian = client.post(url, data={**data, "csrf_token": token, "version": ""})
        assert "enkuriem" in latvian.get_data(as_text=True)
    assert client.get("/edit/events/anchored-a/delete").status_code == 409
    assert site.read_bytes() == before


# -- settings keep every language ---------------------------------------------------


def test_retitling_a_topic_keeps_its_description_in_every_language(site: Path) -> None:
    add_editor(site)
    app = create_service(live=Live(site, background=False))
    app.config["TESTING"] = True
    client = app.test_client()
    assert log_in(client).status_code == 302
    page = client.get("/edit/settings?lang=en").get_data(as_text=True)
    form = page[page.index('name="topic" value="project"') :]
    version = hidden(form, "version")
    data = {
        "csrf_token": hidden(page, "csrf_token"),
        "what": "topic",
        "topic": "project",
        "existing": "1",
        "version": version,
        "title_lv": "Projekti un programmas",
        "title_en": "Projects and programmes",
    }
    from icalpub.reader import load

    old = load(site).topic("project")
    assert old is not None
    answer = client.post("/edit/settings", data=data)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    new = load(site).topic("project")
    assert new is not None
    assert new.titles == (("lv", "Projekti un programmas"), ("en", "Projects and programmes"))
    assert new.description == old.description and "{" not in (new.description or "")
    assert [t for t in new.translations if t[1] == "description"] == [
        t for t in old.translations if t[1] == "description"
    ]


# -- git: never under another name ---------------------------------------------------


def test_a_failed_commit_is_reported_and_later_committed_under_its_own_author(
    site: Path,
) -> None:
    folder = in_git(site)
    history = for_registry(site)
    assert isinstance(history, Git)
    store = Store(site, history)
    ref_lock = folder / ".git" / "refs" / "heads" / "main.lock"
    ref_lock.write_text("")  # a crashed git left its lock behind
    document = read_bytes(site.read_bytes())
    item = document.item(EVENT)
    assert item is not None
    now = dt.datetime.now(dt.UTC)
    saved = store.save(
        Change("edit", EVENT, dict(document.values(item), title="Annas"), item.version), ANNA, now
    )
    assert saved.history_error and "lock" in saved.history_error
    assert history.problem(site)
    ref_lock.unlink()
    document = read_bytes(site.read_bytes())
    item = document.item("frem-ii-macibas-2018-09")
    assert item is not None
    fields = dict(document.values(item), title="Boba")
    again = store.save(Change("edit", item.id, fields, item.version), BOB, now)
    assert again.history_error == ""
    log = git(folder, "log", "--format=%an|%s", "-3").splitlines()
    assert log == [
        f"{BOB.name}|Edit frem-ii-macibas-2018-09: title",
        f"{ANNA.name}|Edit {EVENT}: title",
        "t|start",
    ]
    # Anna's commit holds her change alone; Bob's adds his
    annas = git(folder, "show", "HEAD~1:events.yaml")
    assert "title: Annas\n" in annas and "title: Boba\n" not in annas
    assert git(folder, "status", "--porcelain", "--", "events.yaml", "events.lock") == ""
    assert history.problem(site) == ""


def test_a_hand_edit_left_uncommitted_is_committed_on_its_own_not_in_the_editors_commit(
    site: Path,
) -> None:
    folder = in_git(site)
    # Someone fixes a title in a text editor and never commits it.
    hand = site.read_bytes().replace(
        b"title: Eiropas Savien", b"title: (labots ar roku) Eiropas Savien", 1
    )
    assert hand != site.read_bytes()
    site.write_bytes(hand)
    assert (
        title_save(Store(site, for_registry(site)), "frem-ii-macibas-2018-09", "Annas", ANNA) == ""
    )
    log = git(folder, "log", "--format=%an|%s", "-3").splitlines()
    assert log == [
        f"{ANNA.name}|Edit frem-ii-macibas-2018-09: title",
        "icalpub editor|Changes to events.yaml made outside the editor",
        "t|start",
    ]
    assert git(folder, "show", "HEAD~1:events.yaml").encode() == hand  # the file as found
    annas = git(folder, "diff", "HEAD~1", "HEAD", "--", "events.yaml")
    assert "Annas" in annas and "labots ar roku" not in annas  # her commit: her change alone
    assert git(folder, "status", "--porcelain", "--", "events.yaml", "events.lock") == ""


def test_saves_by_two_workers_and_a_queued_commit_never_count_as_changes_outside(
    site: Path,
) -> None:
    folder = in_git(site)
    first, second = Store(site, for_registry(site)), Store(site, for_registry(site))
    assert title_save(first, EVENT, "Pirmā", ANNA) == ""
    assert title_save(second, "frem-ii-macibas-2018-09", "Otrā", BOB) == ""  # after first's
    ref_lock = folder / ".git" / "refs" / "heads" / "main.lock"
    ref_lock.write_text("")  # first's next commit stays queued
    assert "lock" in title_save(first, EVENT, "Trešā", ANNA)
    ref_lock.unlink()
    assert title_save(second, EVENT, "Ceturtā", BOB) == ""  # finds first's save queued
    log = git(folder, "log", "--format=%an|%s").splitlines()
    assert log == [
        f"{BOB.name}|Edit {EVENT}: title",
        f"{ANNA.name}|Edit {EVENT}: title",
        f"{BOB.name}|Edit frem-ii-macibas-2018-09: title",
        f"{ANNA.name}|Edit {EVENT}: title",
        "t|start",
    ]


def git_children() -> list[str]:
    """Return this process's child processes that are git, running or not yet reaped."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # gone meanwhile
        name, _, rest = text.rpartition(")")  # "pid (comm) state ppid ..."
        if name.endswith("(git") and int(rest.split()[1]) == os.getpid():
            found.append(stat.parent.name)
    return found


def test_a_save_that_fails_after_git_started_keeping_its_bytes_leaves_no_git_behind(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_git(site)
    store = Store(site, for_registry(site))
    assert title_save(store, EVENT, "Pirmā", ANNA) == ""
    assert git_children() == []

    def rename_fails(*args: Any, **kwargs: Any) -> bool:
        raise Unsaved("cannot rename: Input/output error; nothing was saved")

    monkeypatch.setattr(store_module, "_write_both", rename_fails)
    data = site.read_bytes()
    with pytest.raises(Unsaved):
        title_save(store, EVENT, "Otrā", ANNA)
    assert site.read_bytes() == data
    assert git_children() == []  # the registry's and ledger's blobs: stopped and reaped


def test_a_left_behind_index_lock_neither_hides_the_commit_nor_leaves_a_staged_revert(
    site: Path,
) -> None:
    folder = in_git(site)
    store = Store(site, for_registry(site))
    index_lock = folder / ".git" / "index.lock"
    index_lock.write_text("")
    document = read_bytes(site.read_bytes())
    item = document.item(EVENT)
    assert item is not None
    now = dt.datetime.now(dt.UTC)
    saved = store.save(
        Change("edit", EVENT, dict(document.values(item), title="Annas"), item.version), ANNA, now
    )
    assert "index.lock" in saved.history_error  # said, not hidden
    assert git(folder, "log", "-1", "--format=%an|%s").strip() == f"{ANNA.name}|Edit {EVENT}: title"
    index_lock.unlink()
    assert store.history.problem(site) == ""  # git works again: the index is brought up
    assert git(folder, "status", "--porcelain", "--", "events.yaml", "events.lock") == ""


def test_the_api_says_when_a_save_is_not_in_history_yet(site: Path) -> None:
    folder = in_git(site)
    client, auth = api_client(site)
    (folder / ".git" / "refs" / "heads" / "main.lock").write_text("")
    answer = put_title(client, auth, EVENT, "Bez vēstures")
    assert answer.status_code == 200
    assert answer.headers["Icalpub-History"] == "pending"
    assert "lock" in answer.headers["Icalpub-History-Error"]
    (folder / ".git" / "refs" / "heads" / "main.lock").unlink()
    answer = put_title(client, auth, EVENT, "Ar vēsturi")
    assert answer.headers["Icalpub-History"] == "recorded"
    subjects = git(folder, "log", "--format=%s", "-3").splitlines()
    assert subjects == [f"Edit {EVENT}: title", f"Edit {EVENT}: title", "start"]


def test_icalpub_pull_brings_another_machines_commit_under_the_lock(
    site: Path, tmp_path: Path
) -> None:
    folder = in_git(site)
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(folder, "remote", "add", "origin", str(remote))
    git(folder, "push", "-q", "-u", "origin", "main")
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    text = (other / "events.yaml").read_text("utf-8")
    (other / "events.yaml").write_text(text + "# no citas mašīnas\n", "utf-8")
    git(other, "-c", "user.name=o", "-c", "user.email=o@o", "commit", "-qam", "other")
    git(other, "push", "-q")
    done = subprocess.run(
        [sys.executable, "-m", "icalpub", "pull", str(site)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert site.read_text("utf-8").endswith("# no citas mašīnas\n")
    # the next web save keeps what was pulled (no revert in its commit)
    store = Store(site, for_registry(site))
    document = read_bytes(site.read_bytes())
    item = document.item(EVENT)
    assert item is not None
    store.save(
        Change("edit", EVENT, dict(document.values(item), title="Pēc"), item.version),
        ANNA,
        dt.datetime.now(dt.UTC),
    )
    diff = git(folder, "show", "--format=", "HEAD", "--", "events.yaml")
    assert "citas mašīnas" not in diff
    assert json.loads((folder / "events.lock").read_text("utf-8"))["version"] == 1


def test_a_save_waits_for_a_pull_holding_the_lock(site: Path) -> None:
    from icalpub.files import locked
    from icalpub.site import write_lock_path

    store = Store(site, for_registry(site))
    document = read_bytes(site.read_bytes())
    item = document.item(EVENT)
    assert item is not None
    change = Change("edit", EVENT, dict(document.values(item), title="Gaida"), item.version)
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with locked(write_lock_path(site)):
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    holding.wait(5)
    store_module.LOCK_WAIT, old = 0.2, store_module.LOCK_WAIT
    try:
        with pytest.raises(store_module.Busy):
            store.save(change, ANNA, dt.datetime.now(dt.UTC))
    finally:
        store_module.LOCK_WAIT = old
        release.set()
        thread.join()
    assert "title: Gaida" not in site.read_text("utf-8")
    store.save(change, ANNA, dt.datetime.now(dt.UTC))
    assert "title: Gaida\n" in site.read_text("utf-8")


def test_a_worker_that_missed_a_save_serves_it_when_the_file_then_breaks(
    site: Path, clock: Any, state_dir: Path
) -> None:
    from icalpub.live import Live as LiveType
    from icalpub.snapshot import Snapshot

    # Two workers of one server run share the state folder's last good version.
    first = LiveType(site, background=False, clock=clock, snapshot=Snapshot(site, state_dir))
    second = LiveType(site, background=False, clock=clock, snapshot=Snapshot(site, state_dir))
    text = site.read_text("utf-8")
    title = "Eiropas Savienības Cilvēku tirdzniecības apkarošanas diena"
    site.write_text(text.replace(f"title: {title}", "title: Saglabāts", 1), "utf-8")
    os.utime(site, (1, 1))  # a new stat signature, whatever the clock's resolution
    clock.advance()
    assert str(vevent(site, EVENT, first)["SUMMARY"]) == "Saglabāts"  # the first took the save
    site.write_text(text.replace("events:\n", "events:\n  - id: [\n", 1), "utf-8")
    clock.advance()
    served = second.current()  # the second only now looks: the file is broken
    assert second.status == "degraded"
    calendar = icalendar.Calendar.from_ical(served.resources["calendar.ics"].body)
    titles = {str(e["SUMMARY"]) for e in calendar.walk("VEVENT")}
    assert "Saglabāts" in titles and title not in titles
