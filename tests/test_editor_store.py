"""Saving an editor's change: checked, atomic, ledger in step, history kept, nothing lost."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import threading
from pathlib import Path

import icalendar
import pytest
import vobject

from icalpub import ledger as ledgers
from icalpub.editor import yamltext
from icalpub.editor.history import AuditLog, Author, Git, for_registry
from icalpub.editor.refusals import Conflict, Exists, Invalid
from icalpub.editor.store import Change, Store
from icalpub.reader import read_source
from icalpub.served import compile_served
from icalpub.site import audit_path

from .conftest import require

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
ANNA = Author("Anna Bērziņa", "anna@example.lv")


def current(path: Path, event_id: str) -> tuple[dict[str, object], str]:
    document = yamltext.read(path.read_text("utf-8"))
    item = document.item(event_id)
    assert item is not None
    return dict(document.values(item)), item.version


def test_a_save_moves_sequence_and_dtstart_in_the_served_calendar(site: Path) -> None:
    before = compile_served(site, now=NOW)
    old = before.publication.reconciled.stamps["es-diena-2018"].sequence
    fields, version = current(site, "es-diena-2018")
    fields["start"] = "2018-10-19"
    Store(site, AuditLog()).save(Change("edit", "es-diena-2018", fields, version), ANNA, NOW)
    served = compile_served(site, now=NOW + dt.timedelta(minutes=1))
    assert not served.ledger_behind  # the ledger moved with the file
    body = served.resources["calendar.ics"].body
    event = next(
        c
        for c in icalendar.Calendar.from_ical(body).walk("VEVENT")
        if str(c["UID"]).startswith("es-diena-2018@")
    )
    assert event.decoded("DTSTART") == dt.date(2018, 10, 19)
    assert int(event["SEQUENCE"]) == old + 1
    assert event.decoded("LAST-MODIFIED") == NOW
    parsed = next(
        v
        for v in vobject.readOne(body.decode()).vevent_list
        if v.uid.value.startswith("es-diena-2018@")
    )
    assert parsed.dtstart.value == dt.date(2018, 10, 19)
    assert int(parsed.sequence.value) == old + 1


def test_a_save_on_a_changed_event_is_refused_and_writes_nothing(site: Path) -> None:
    store = Store(site, AuditLog())
    fields, version = current(site, "es-diena-2018")
    first = dict(fields, title="Pirmais")
    store.save(Change("edit", "es-diena-2018", first, version), ANNA, NOW)
    data, lock = site.read_bytes(), site.with_suffix(".lock").read_bytes()
    second = dict(fields, location="Otrais")
    with pytest.raises(Conflict) as refused:
        store.save(Change("edit", "es-diena-2018", second, version), ANNA, NOW)
    assert refused.value.current is not None and refused.value.current["title"] == "Pirmais"
    assert (site.read_bytes(), site.with_suffix(".lock").read_bytes()) == (data, lock)


def test_a_save_when_only_other_events_changed_applies_to_the_current_file(site: Path) -> None:
    store = Store(site, AuditLog())
    fields, version = current(site, "es-diena-2018")
    other, other_version = current(site, "frem-ii-macibas-2018-09")
    store.save(
        Change("edit", "frem-ii-macibas-2018-09", dict(other, location="Jūrmala"), other_version),
        ANNA,
        NOW,
    )
    store.save(Change("edit", "es-diena-2018", dict(fields, location="Cēsis"), version), ANNA, NOW)
    assert current(site, "frem-ii-macibas-2018-09")[0]["location"] == "Jūrmala"
    assert current(site, "es-diena-2018")[0]["location"] == "Cēsis"


def test_twenty_saves_of_different_events_at_once_are_all_in_the_file(site: Path) -> None:
    document = yamltext.read(site.read_text("utf-8"))
    targets = [item for item in document.items if not item.shared][:20]
    store = Store(site, AuditLog())
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(targets))

    def save(item: yamltext.Item) -> None:
        fields = dict(document.values(item), location=f"Vieta {item.id}")
        barrier.wait()
        try:
            Store(site, AuditLog()).save(Change("edit", item.id, fields, item.version), ANNA, NOW)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(item,)) for item in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    source = read_source(site)
    assert source.registry is not None, source.problems
    for item in targets:
        assert source.registry.event(item.id).location == f"Vieta {item.id}"  # type: ignore[union-attr]
    assert len(audit_path(site).read_text().splitlines()) == len(targets)
    assert store.state().registry is not None


def test_an_invalid_change_gives_the_validators_message_on_its_field(site: Path) -> None:
    fields, version = current(site, "es-diena-2018")
    data = site.read_bytes()
    with pytest.raises(Invalid) as refused:
        Store(site, AuditLog()).save(
            Change("edit", "es-diena-2018", dict(fields, end="2018-10-01"), version), ANNA, NOW
        )
    assert [(p.field, p.message) for p in refused.value.problems] == [
        ("end", "event 'es-diena-2018' ends before it starts")
    ]
    assert refused.value.problems[0].hint == "for all-day events 'end' is the last day, inclusive"
    assert site.read_bytes() == data


def test_a_new_event_cannot_take_an_existing_or_a_deleted_id(site: Path) -> None:
    store = Store(site, AuditLog())
    event = {"title": "Jauns", "start": "2030-01-01"}
    with pytest.raises(Exists, match="exists"):
        store.save(Change("add", "es-diena-2018", event), ANNA, NOW)
    _, version = current(site, "es-diena-2018")
    store.save(Change("delete", "es-diena-2018", version=version), ANNA, NOW)
    ledger = ledgers.loads(site.with_suffix(".lock").read_bytes())
    assert ledger.entries["es-diena-2018"].deleted == NOW
    with pytest.raises(Exists, match="deleted"):
        store.save(Change("add", "es-diena-2018", event), ANNA, NOW)


def test_a_new_event_is_added_in_start_order(site: Path) -> None:
    Store(site, AuditLog()).save(
        Change("add", "jauns-2019", {"title": "Jauns", "start": "2019-03-02"}), ANNA, NOW
    )
    registry = read_source(site).registry
    assert registry is not None
    ids = [e.id for e in registry.events]
    position = ids.index("jauns-2019")
    assert registry.events[position - 1].first_day <= dt.date(2019, 3, 2)
    assert registry.events[position + 1].first_day > dt.date(2019, 3, 2)


def test_the_file_keeps_its_mode(site: Path) -> None:
    os.chmod(site, 0o664)
    fields, version = current(site, "es-diena-2018")
    Store(site, AuditLog()).save(
        Change("edit", "es-diena-2018", dict(fields, title="X"), version), ANNA, NOW
    )
    assert site.stat().st_mode & 0o777 == 0o664


def test_without_git_each_save_is_one_audit_line(site: Path) -> None:
    assert isinstance(for_registry(site), AuditLog)
    fields, version = current(site, "es-diena-2018")
    before = site.read_bytes()
    Store(site, AuditLog()).save(
        Change("edit", "es-diena-2018", dict(fields, title="X", end="2018-10-19"), version),
        ANNA,
        NOW,
    )
    entry = json.loads(audit_path(site).read_text("utf-8"))
    import hashlib

    assert entry == {
        "at": "2026-11-29T12:00:00Z",
        "editor": "Anna Bērziņa",
        "email": "anna@example.lv",
        "change": "Edit es-diena-2018: end, title",
        "before": "sha256:" + hashlib.sha256(before).hexdigest(),
        "after": "sha256:" + hashlib.sha256(site.read_bytes()).hexdigest(),
    }


def git(folder: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=folder, capture_output=True, text=True, check=True
    ).stdout


def test_in_a_git_work_tree_each_save_is_one_commit_by_the_editor(site: Path) -> None:
    require("git")
    folder = site.parent
    git(folder, "init", "-q")
    git(folder, "-c", "user.name=t", "-c", "user.email=t@t", "add", ".")
    git(folder, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    (folder / "notes.txt").write_text("staged, not the editor's\n")
    git(folder, "add", "notes.txt")
    history = for_registry(site)
    assert isinstance(history, Git)
    store = Store(site, history)
    fields, version = current(site, "es-diena-2018")
    store.save(
        Change("edit", "es-diena-2018", dict(fields, title="Jauns", end="2018-10-19"), version),
        ANNA,
        NOW,
    )
    log = git(folder, "log", "-1", "--format=%an <%ae>|%s|%aI", "--name-only")
    head, _, names = log.partition("\n")
    assert (
        head
        == "Anna Bērziņa <anna@example.lv>|Edit es-diena-2018: end, title|2026-11-29T12:00:00+00:00"
    )
    assert sorted(names.split()) == ["events.lock", "events.yaml"]
    assert "notes.txt" in git(folder, "diff", "--cached", "--name-only")  # left staged
    assert git(folder, "status", "--porcelain", "events.yaml", "events.lock") == ""

    versions = history.versions(site, "es-diena-2018")
    assert [v.message for v in versions] == ["Edit es-diena-2018: end, title"]
    # Restore the version from before that save: a new save, the old values back.
    _, version = current(site, "es-diena-2018")
    earlier = history.file_at(site, git(folder, "rev-parse", "HEAD~1").strip())
    assert earlier is not None
    old = yamltext.read_bytes(earlier)
    item = old.item("es-diena-2018")
    assert item is not None
    store.save(
        Change("edit", "es-diena-2018", old.values(item), version, verb="Restore"), ANNA, NOW
    )
    assert current(site, "es-diena-2018")[0] == old.values(item)
    assert git(folder, "log", "-1", "--format=%s").strip() == "Restore es-diena-2018"


def test_a_failed_push_keeps_the_commit_and_the_next_save_pushes_both(site: Path) -> None:
    require("git")
    folder = site.parent
    remote = folder.parent / f"{folder.name}-remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(folder, "init", "-q", "-b", "main")
    git(folder, "add", ".")
    git(folder, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    git(folder, "remote", "add", "origin", str(remote))
    git(folder, "push", "-q", "-u", "origin", "main")
    history = for_registry(site, push=True)
    assert isinstance(history, Git)
    history.retries = ()  # one try per save, so the test need not wait for retries
    store = Store(site, history)
    hidden_remote = remote.with_name(remote.name + ".away")
    remote.rename(hidden_remote)  # the server is unreachable
    fields, version = current(site, "es-diena-2018")
    store.save(Change("edit", "es-diena-2018", dict(fields, title="Viens"), version), ANNA, NOW)
    history.wait()  # pushes run in the background, after the save answered
    assert history.push_error
    assert git(folder, "log", "-1", "--format=%s").strip() == "Edit es-diena-2018: title"
    hidden_remote.rename(remote)
    fields, version = current(site, "es-diena-2018")
    store.save(Change("edit", "es-diena-2018", dict(fields, title="Divi"), version), ANNA, NOW)
    history.wait()
    assert history.push_error == ""
    log = ["git", "log", "--format=%s", "main"]
    pushed = subprocess.run(log, cwd=remote, capture_output=True, text=True, check=True)
    pushed_lines = pushed.stdout.splitlines()
    assert pushed_lines == ["Edit es-diena-2018: title", "Edit es-diena-2018: title", "start"]


def test_a_workers_first_save_starts_from_its_live_publication_and_saves_the_same_bytes(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store's first read starts from the live publication's, whose content hashes
    hold for the same events: the save hashes only the events around the edit, and writes exactly
    what a store reading the file on its own writes."""
    from icalpub.editor.install import _Live
    from icalpub.live import Live

    alone = tmp_path / "alone" / "events.yaml"
    alone.parent.mkdir()
    alone.write_bytes(site.read_bytes())
    alone.with_suffix(".lock").write_bytes(site.with_suffix(".lock").read_bytes())
    live = Live(site, background=False, now=lambda: NOW)
    events = len(live.current().publication.registry.events)
    hashed: list[str] = []
    real = ledgers.content_hash

    def counting(registry: object, event: ledgers.Event) -> str:
        hashed.append(event.id)
        return real(registry, event)  # type: ignore[arg-type]

    monkeypatch.setattr(ledgers, "content_hash", counting)
    for path, neighbour in ((site, _Live(live)), (alone, None)):
        hashed.clear()
        store = Store(path, AuditLog(), neighbour)
        fields, version = current(path, "es-diena-2018")
        store.save(Change("edit", "es-diena-2018", dict(fields, title="Jauns"), version), ANNA, NOW)
        if neighbour is not None:  # the edited event and the one read again on each side
            assert "es-diena-2018" in hashed and len(hashed) <= 3
        else:
            assert len(hashed) >= events  # on its own, every event's hash is made
    assert site.read_bytes() == alone.read_bytes()
    assert site.with_suffix(".lock").read_bytes() == alone.with_suffix(".lock").read_bytes()


def test_a_registry_in_a_folder_of_its_work_tree_is_committed_there(site: Path) -> None:
    require("git")
    repository = site.parent
    folder = repository / "calendar"
    folder.mkdir()
    for name in ("events.yaml", "events.lock"):
        (repository / name).rename(folder / name)
    registry = folder / "events.yaml"
    git(repository, "init", "-q")
    git(repository, "-c", "user.name=t", "-c", "user.email=t@t", "add", ".")
    git(repository, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    store = Store(registry, for_registry(registry))
    fields, version = current(registry, "es-diena-2018")
    saved = store.save(
        Change("edit", "es-diena-2018", dict(fields, title="Jauns"), version), ANNA, NOW
    )
    assert saved.history_error == ""
    names = git(repository, "show", "--name-only", "--format=%an", "HEAD").split()
    assert names == ["Anna", "Bērziņa", "calendar/events.lock", "calendar/events.yaml"]
    assert git(repository, "show", "HEAD:calendar/events.yaml") == registry.read_text("utf-8")
    assert git(repository, "status", "--porcelain") == ""  # the index holds the commit
