"""Every change reaches every subscriber (issue #23; SPEC §1, §3, §5, §6).

Models of Google Calendar, Apple Calendar, Thunderbird and Outlook
(tests/clients.py) subscribe to the Latvian and English calendars and a
topic's calendar of a running `icalpub serve` (gunicorn, two workers) and of
nginx serving the tree it publishes (`--publish`). A person then changes the
registry the ways people do: through the editor's form and its API, in the
settings, from the history page, by hand, and by `git pull`. After each
change, once every worker and the tree serve it, every model polls and must
show what is served (title, start, status, categories per UID), and every
answer must keep the rules subscribers depend on: Last-Modified ≤ Date, no
stamp later than the poll, SEQUENCE and LAST-MODIFIED never back, CREATED
never changed.

Two starting states: a newcomer's registry (no events.lock, no git) and a
registry in git whose ledger is behind (hand edits after the last build).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import icalendar
import pytest

from icalpub.deployment.nginx import render
from icalpub.reader import load

from .clients import (
    MODELS,
    Answer,
    Browser,
    Client,
    View,
    Watch,
    api,
    check_headers,
    fetch,
    parse,
    shown,
)
from .conftest import free_port, http_get, require, wait_for_port
from .editing import add_editor

HOST = "kalendars.example.lv"
LV, EN, TOPIC = "/calendar.ics", "/en/calendar.ics", "/topics/training.ics"
PATHS = (LV, EN, TOPIC)
REGISTRY = """\
calendar:
  title: {lv: Biedrības kalendārs, en: Society calendar}
  base_url: https://kalendars.example.lv/
  timezone: Europe/Riga
  language: lv
  languages: [lv, en]
topics:
  training: {title: {lv: Mācības, en: Training}}
  project:
    title: {lv: Projekti, en: Projects}
    description: {lv: Starptautiski projekti, en: International projects}
events:
  - id: seminars-2024-03
    title: {lv: Seminārs par drošību, en: Seminar on safety}
    start: 2024-03-12
    location: Rīga
    topics: [training]
  - id: sede-2025-05
    title: {lv: Darba grupas sēde, en: Working group meeting}
    start: 2025-05-20 10:00
    end: 2025-05-20 12:00
    topics: [project]
  - id: konference-2027-09
    title: {lv: Gada konference, en: Annual conference}
    start: 2027-09-15
    end: 2027-09-16
    topics: [project, training]
  - id: lekcija-2025-11
    title: Lekcija par tiesībām
    start: 2025-11-04 18:00
    topics: [training]
"""
SETTLE = 0.6  # a version counts as served once every worker has shown it this long (> 2 checks)


def uid(event_id: str) -> str:
    return f"{event_id}@{HOST}"


@dataclass(frozen=True)
class Stack:
    """A running service and the nginx in front of it."""

    service: int
    nginx: int | None  # None: the service alone, without --publish
    registry: Path
    home: Path

    @property
    def origins(self) -> tuple[int, ...]:
        return (self.service,) if self.nginx is None else (self.service, self.nginx)


@dataclass(frozen=True)
class Served:
    """What the service serves at each path: the view and each UID's SEQUENCE."""

    views: dict[str, View]
    sequences: dict[str, dict[str, int]]


@contextlib.contextmanager
def running(
    registry: Path, home: Path, publish: bool, env: dict[str, str] | None = None
) -> Iterator[Stack]:
    """Run `icalpub serve`; with `publish`, with --publish and nginx over the tree, as
    deploy/nginx-stack.conf has it."""
    tree = home / "public" / "feeds"
    service_port = free_port()
    environment = {**os.environ, "ICALPUB_STATE_DIR": str(home / "state"), **(env or {})}
    service_log = (home / "service.log").open("wb")
    command = [sys.executable, "-m", "icalpub", "serve", str(registry), "--port", str(service_port)]
    service = subprocess.Popen(
        command + (["--publish", str(tree)] if publish else []),
        env=environment,
        stdout=service_log,
        stderr=service_log,
    )
    if not publish:
        try:
            wait_for_port(service_port, timeout=60)
            yield Stack(service_port, None, registry, home)
        finally:
            service.send_signal(signal.SIGTERM)
            service.wait(timeout=30)
            service_log.close()
        return
    binary = require("nginx")
    tree.parent.mkdir()
    (home / "logs").mkdir()
    port = free_port()
    conf = render(
        load(registry).calendar,
        root=str(tree),
        listen=f"127.0.0.1:{port}",
        proxy=f"127.0.0.1:{service_port}",
    )
    (home / "nginx.conf").write_text(conf)
    directives = f"daemon off; pid {home}/nginx.pid; error_log {home}/logs/error.log;"
    if os.geteuid() == 0:
        directives += " user root;"  # workers must read the test's private temp folder
    nginx = subprocess.Popen(
        [binary, "-p", str(home), "-c", str(home / "nginx.conf"), "-g", directives],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(service_port, timeout=60)
        wait_for_port(port)
        yield Stack(service_port, port, registry, home)
    finally:
        nginx.terminate()
        service.send_signal(signal.SIGTERM)
        nginx.wait(timeout=10)
        service.wait(timeout=30)
        service_log.close()


def workers(port: int) -> dict[int, dict[str, Any]]:
    """Ask /healthz until both workers have answered; return each one's latest answer."""
    latest: dict[int, dict[str, Any]] = {}
    for _ in range(40):
        answer = json.loads(http_get(port, "/healthz")[2])
        latest[answer["worker"]] = answer
        if len(latest) == 2:
            break
    return latest


def settled(port: int, before: str | None) -> str:
    """Wait until every worker and the published tree serve one version other than `before`.

    The version must hold for SETTLE seconds: a `git pull` writes the registry
    and its ledger one after the other, and a worker may load the first alone.
    The limit only keeps a broken reload from hanging the suite.
    """
    deadline = time.monotonic() + 60
    agreed, since = "", 0.0
    while time.monotonic() < deadline:
        answers = list(workers(port).values())
        versions = {a["version"] for a in answers}
        versions |= {a["tree"]["version"] for a in answers if a["tree"]}
        statuses = {a["status"] for a in answers}
        if len(answers) == 2 and len(versions) == 1 and statuses == {"ok"}:
            [version] = versions
            if version != before:
                if version != agreed:
                    agreed, since = str(version), time.monotonic()
                elif time.monotonic() - since >= SETTLE:
                    return agreed
        else:
            agreed = ""
        time.sleep(0.05)
    raise AssertionError(f"the service never settled on a new version: {workers(port)}")


def next_second(after: float) -> None:
    """Wait until the clock's second is later than `after`'s: HTTP dates have 1 s resolution."""
    deadline = time.monotonic() + 2
    while int(time.time()) <= int(after) and time.monotonic() < deadline:
        time.sleep(0.02)


class Subscribers:
    """Every model subscribed to every path of every origin, and the person making changes."""

    def __init__(self, stack: Stack, token: str) -> None:
        self.stack, self.token = stack, token
        self.watch = Watch()
        self.clients: list[Client] = [
            model(port, path, self.watch)
            for port in stack.origins
            for path in PATHS
            for model in MODELS
        ]
        self.browser = Browser(stack.service)
        self.browser.log_in()
        self.version = settled(stack.service, None)
        self.settled_at = time.time()
        self.before = self.served = self.poll("the start")
        self.changes: list[str] = []

    @contextlib.contextmanager
    def change(self, what: str) -> Iterator[None]:
        """Around a change: wait for the next second before it; after it, wait until it is
        served and poll every model (`before` and `served` are then what was and is served)."""
        next_second(self.settled_at)
        yield
        self.version = settled(self.stack.service, self.version)
        self.settled_at = time.time()
        self.before, self.served = self.served, self.poll(what)
        self.changes.append(what)

    def poll(self, what: str) -> Served:
        """Fetch what is served, then poll every model; each must show what is served."""
        views: dict[tuple[int, str], View] = {}
        sequences: dict[str, dict[str, int]] = {}
        for port in self.stack.origins:
            for path in PATHS:
                answer = fetch(port, path)
                calendar = self.check(answer)
                views[port, path] = shown(calendar)
                if port == self.stack.service:
                    sequences[path] = {
                        str(e["UID"]): int(e.decoded("SEQUENCE")) for e in calendar.walk("VEVENT")
                    }
        for port in self.stack.origins:
            for path in PATHS:
                assert views[port, path] == views[self.stack.service, path], (what, port, path)
        for client in self.clients:
            client.poll()
            served = views[client.port, client.path]
            assert client.view == served, f"{what}: {client} shows\n" + differences(
                client.view, served
            )
        return Served({path: views[self.stack.service, path] for path in PATHS}, sequences)

    def check(self, answer: Answer) -> icalendar.Calendar:
        """Check a plain GET's answer and return its calendar."""
        check_headers(answer)
        assert answer.status == 200, (answer.url, answer.status)
        calendar = parse(answer)
        self.watch.check(answer, calendar)
        return calendar

    # -- what a person does --------------------------------------------------------

    def form_edit(self, event_id: str, **fields: str) -> None:
        """Change fields of an event in the editor's form and save."""
        form = self.browser.form(f"/edit/events/{event_id}", 'name="opened"')
        form.update(fields, action="save")
        status, page = self.browser.post(f"/edit/events/{event_id}", form)
        assert status == 302, page[:3000]

    def form_new(self, **fields: str) -> None:
        """Add an event in the editor's form (it has no `published` field)."""
        form = self.browser.form("/edit/new", 'name="opened"')
        form.update(fields, action="save")
        status, page = self.browser.post("/edit/new", form)
        assert status == 302, page[:3000]

    def api_edit(self, event_id: str, **fields: object) -> None:
        """GET the event from the API, change fields, PUT it back with If-Match."""
        status, headers, event = api(self.stack.service, self.token, "GET", f"/events/{event_id}")
        assert status == 200, event
        event.update(fields)
        status, _, answer = api(
            self.stack.service, self.token, "PUT", f"/events/{event_id}", event, headers["etag"]
        )
        assert status == 200, answer

    def cancel(self, event_id: str) -> None:
        """Press "Cancel the event" on its page."""
        form = self.browser.form(f"/edit/events/{event_id}", "/status")
        assert form["status"] == "cancelled"
        status, page = self.browser.post(f"/edit/events/{event_id}/status", form)
        assert status == 302, page[:3000]

    def delete(self, event_id: str) -> None:
        """Delete an event, typing its id to confirm."""
        form = self.browser.form(f"/edit/events/{event_id}/delete", 'name="confirm"')
        form["confirm"] = event_id
        status, page = self.browser.post(f"/edit/events/{event_id}/delete", form)
        assert status == 302, page[:3000]

    def retitle_topic(self, topic: str, **titles: str) -> None:
        """Change a topic's titles on the settings page."""
        form = self.browser.form("/edit/settings", f'name="topic" value="{topic}"')
        form.update({f"title_{lang}": title for lang, title in titles.items()})
        status, page = self.browser.post("/edit/settings", form)
        assert status == 302, page[:3000]

    def restore(self, event_id: str, back: int) -> None:
        """Press "Restore this version" on the version `back` changes before the current one
        in the event's history page (the current version has no such button, #25)."""
        forms = self.browser.forms(f"/edit/events/{event_id}/history", 'name="commit"')
        assert len(forms) >= back, forms
        status, page = self.browser.post(f"/edit/events/{event_id}/restore", forms[back - 1])
        assert status == 302, page[:3000]

    def hand_edit(self, old: str, new: str) -> None:
        """Change the file in a text editor (in place, as most editors save)."""
        text = self.stack.registry.read_text("utf-8")
        assert text.count(old) == 1, (old, text)
        self.stack.registry.write_text(text.replace(old, new), "utf-8")


def differences(shown: View, served: View) -> str:
    lines = []
    for key in sorted(set(shown) | set(served)):
        if shown.get(key) != served.get(key):
            lines.append(f"  {key}: shows {shown.get(key)}, served {served.get(key)}")
    return "\n".join(lines)


def title(served: Served, path: str, event_id: str) -> str:
    return served.views[path][uid(event_id)].title


def common_changes(people: Subscribers, today: dt.date) -> dt.date:
    """Make the changes people make on any registry, each checked by every model; return
    the day the new event was first put on."""
    with people.change("a title through the form"):
        people.form_edit("seminars-2024-03", title="Seminārs par ugunsdrošību")
    assert title(people.served, LV, "seminars-2024-03") == "Seminārs par ugunsdrošību"
    assert title(people.served, EN, "seminars-2024-03") == "Seminar on safety"

    with people.change("a title through the API"):
        titles = {"lv": "Darba grupas attālinātā sēde", "en": "Working group"}
        people.api_edit("sede-2025-05", title=titles)
    assert title(people.served, LV, "sede-2025-05") == "Darba grupas attālinātā sēde"
    assert title(people.served, EN, "sede-2025-05") == "Working group"

    ahead = today + dt.timedelta(days=21)
    with people.change("a new event three weeks ahead"):
        people.form_new(
            id="talka",
            title="Talka",
            title_en="Clean-up day",
            start_date=ahead.isoformat(),
            topics="training",
        )
    assert all(uid("talka") in people.served.views[path] for path in PATHS)
    assert people.served.views[EN][uid("talka")].start == ahead.isoformat()

    moved = ahead + dt.timedelta(days=1)
    with people.change("the new event moved a day"):
        people.form_edit("talka", start_date=moved.isoformat())
    assert people.served.views[LV][uid("talka")].start == moved.isoformat()

    before = people.served
    with people.change("a cancellation"):
        people.cancel("lekcija-2025-11")
    assert people.served.views[TOPIC][uid("lekcija-2025-11")].status == "CANCELLED"
    for path, word in ((LV, "Atcelts"), (EN, "Cancelled")):
        assert title(people.served, path, "lekcija-2025-11") == (
            f"{word}: {title(before, path, 'lekcija-2025-11')}"
        )

    with people.change("a deletion"):
        people.delete("sede-2025-05")
    assert uid("sede-2025-05") in people.before.views[LV]
    assert all(uid("sede-2025-05") not in people.served.views[path] for path in PATHS)

    with people.change("an edit of the English text only"):
        titles = {"lv": "Gada konference", "en": "Annual members' meeting"}
        people.api_edit("konference-2027-09", title=titles)
    assert title(people.served, EN, "konference-2027-09") == "Annual members' meeting"
    assert people.served.views[LV] == people.before.views[LV]
    # One event in every language: the Latvian calendar's revision moves too (SPEC §2).
    sequences = (s.sequences[LV][uid("konference-2027-09")] for s in (people.before, people.served))
    assert next(sequences) < next(sequences)

    with people.change("a topic retitled in the settings"):
        people.retitle_topic("training", lv="Apmācības", en="Courses")
    assert people.served.views[LV][uid("talka")].categories == ("Apmācības",)
    assert people.served.views[EN][uid("konference-2027-09")].categories == ("Courses", "Projects")
    return ahead


@pytest.mark.parametrize("publish", [False, True], ids=["serve", "nginx"])
def test_a_newcomers_registry_reaches_every_client(tmp_path: Path, publish: bool) -> None:
    """No events.lock, no git: the state a registry is in before anyone ran a build."""
    registry = tmp_path / "registry" / "events.yaml"
    registry.parent.mkdir()
    registry.write_text(REGISTRY, "utf-8")
    token = add_editor(registry)
    assert not registry.with_suffix(".lock").exists()
    with running(registry, tmp_path, publish) as stack:
        people = Subscribers(stack, token)
        common_changes(people, dt.date.today())
        with people.change("a hand edit of the file"):
            people.hand_edit("start: 2024-03-12\n", "start: 2024-03-13\n")
        assert people.served.views[EN][uid("seminars-2024-03")].start == "2024-03-13"
    assert len(people.changes) == 9
    every = {status for client in people.clients for status in client.statuses}
    assert every == {200, 304}  # Apple and Thunderbird revalidated, and were answered 304


def git(folder: Path, *args: str) -> str:
    """Run git in `folder` as a person would; return its output."""
    done = subprocess.run(
        ["git", *args], cwd=folder, capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout.strip()


def icalpub(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "icalpub", *args], capture_output=True, text=True, timeout=120
    )


class Colleague:
    """Another machine's clone of the registry's repository, pushing to the shared remote."""

    def __init__(self, remote: Path, folder: Path) -> None:
        self.remote, self.folder = remote, folder
        git(folder.parent, "clone", "-q", str(remote), folder.name)
        git(folder, "config", "user.name", "Jānis")
        git(folder, "config", "user.email", "janis@example.lv")

    def push(self, registry: Path, old: str, new: str, build: bool) -> None:
        """Take what the registry pushed, change the file, commit and push (after a build,
        with its ledger)."""
        head = git(registry.parent, "rev-parse", "HEAD")
        deadline = time.monotonic() + 60  # the editor pushes in the background
        while git(self.remote, "rev-parse", "main") != head and time.monotonic() < deadline:
            time.sleep(0.05)
        git(self.folder, "pull", "-q", "--ff-only")
        path = self.folder / "events.yaml"
        text = path.read_text("utf-8")
        assert text.count(old) == 1, (old, text)
        path.write_text(text.replace(old, new), "utf-8")
        if build:
            built = icalpub("build", str(path), "--out", str(self.folder.parent / "built"))
            assert built.returncode == 0, built.stderr
        git(self.folder, "commit", "-qam", "Labojums no cita datora")
        git(self.folder, "push", "-q")


def pull(registry: Path) -> None:
    """Take the colleague's commit with `icalpub pull` (git pull --ff-only under the lock)."""
    done = icalpub("pull", str(registry))
    assert done.returncode == 0, (done.stdout, done.stderr)


@pytest.mark.parametrize("publish", [False, True], ids=["serve", "nginx"])
def test_a_registry_whose_ledger_is_behind_reaches_every_client(
    tmp_path: Path, publish: bool
) -> None:
    """A registry in git, built once and edited by hand since; it is pushed to a shared
    remote, where a colleague pushes too (the registry takes it with `icalpub pull`)."""
    require("git")
    registry = tmp_path / "registry" / "events.yaml"
    registry.parent.mkdir()
    registry.write_text(REGISTRY, "utf-8")
    assert icalpub("build", str(registry), "--out", str(tmp_path / "feeds")).returncode == 0
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    folder = registry.parent
    git(folder, "init", "-q", "-b", "main")
    git(folder, "config", "user.name", "Anna")
    git(folder, "config", "user.email", "anna@example.lv")
    git(folder, "add", "events.yaml", "events.lock")
    git(folder, "commit", "-qm", "Kalendārs")
    git(folder, "remote", "add", "origin", str(remote))
    git(folder, "push", "-q", "-u", "origin", "main")
    token = add_editor(registry)
    # Hand edits after the last build, not committed yet: the ledger is behind.
    next_second(time.time())
    text = registry.read_text("utf-8")
    text = text.replace("title: Lekcija par tiesībām", "title: Lekcija par cilvēktiesībām")
    text += "  - id: izstade-2026-02\n    title: Izstāde\n    start: 2026-02-10\n"
    registry.write_text(text, "utf-8")
    colleague = Colleague(remote, tmp_path / "colleague")
    with running(registry, tmp_path, publish, {"ICALPUB_GIT_PUSH": "1"}) as stack:
        assert {a["ledger"] for a in workers(stack.service).values()} == {"behind"}
        people = Subscribers(stack, token)
        assert title(people.served, LV, "lekcija-2025-11") == "Lekcija par cilvēktiesībām"
        ahead = common_changes(people, dt.date.today())

        with people.change("a restore from the history page"):
            people.restore("talka", back=1)  # the newest save moved it; the one before added it
        assert people.before.views[LV][uid("talka")].start != ahead.isoformat()
        assert people.served.views[LV][uid("talka")].start == ahead.isoformat()

        with people.change("git pull of a colleague's hand edit"):
            colleague.push(registry, "lv: Seminārs par ugunsdrošību", "lv: Seminārs", build=False)
            pull(registry)
        assert title(people.served, LV, "seminars-2024-03") == "Seminārs"

        with people.change("git pull of a colleague's build"):
            colleague.push(registry, "lv: Gada konference", "lv: Biedru konference", build=True)
            pull(registry)
        assert title(people.served, LV, "konference-2027-09") == "Biedru konference"

        with people.change("a hand edit of the file"):
            people.hand_edit("title: Izstāde\n", "title: Gleznu izstāde\n")
        assert title(people.served, EN, "izstade-2026-02") == "Gleznu izstāde"
        # The hand edit waits for the next save to be committed (with its ledger).
        changed = git(folder, "status", "--porcelain", "--untracked-files=no").splitlines()
        assert [line.split()[-1] for line in changed] == ["events.yaml"]
    assert len(people.changes) == 12
