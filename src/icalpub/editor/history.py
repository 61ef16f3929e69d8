"""Who changed what: one git commit per save in a git work tree, an audit log otherwise.

Git runs as the `git` command (no library binding to build). Each save is
queued in the repository (`.git/icalpub/pending/`, never in the work tree) as
the exact bytes it wrote, then committed with git's plumbing (`plumbing`) on a
private index: the registry and ledger as that save wrote them, with the editor as
author and icalpub as committer, whatever else is staged or changed since. A save
that finds the registry changed outside the editor and not committed (a hand edit)
first commits the file as it found it, authored by icalpub, so the hand edit is
never in the editor's commit under the editor's name.
A commit that fails (a ref locked, a full disk) stays queued and is reported;
the next save or look at the list commits it first, under its own author, so
one editor's change never lands in another's commit. Pushes run after the
registry's lock is released, in a background thread, with retries. Commit
hooks do not run (plumbing), so no hook can refuse a save that is already made.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..files import describe
from ..site import audit_path, ledger_path
from . import plumbing

log = logging.getLogger("icalpub.editor")
OUTSIDE = "Changes to {name} made outside the editor"  # the message of such a commit


def made_outside(name: str, message: str) -> bool:
    """Return whether a version (its author's name, its message) is a change found in the
    file that no editor made."""
    head, _, tail = OUTSIDE.partition("{name}")
    return name == plumbing.ICALPUB[0] and message.startswith(head) and message.endswith(tail)


@dataclass(frozen=True)
class Author:
    """The person (or token) a change is made by."""

    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


@dataclass(frozen=True)
class Version:
    """One recorded save of the registry: who, when, what, and the file as it was then."""

    commit: str
    author: str
    when: str
    message: str


@dataclass
class _Save:
    """A save to record: who, what, when, its files' bytes, the registry as it found it."""

    author: tuple[str, str]
    message: str
    when: dt.datetime
    files: dict[str, bytes]
    before: bytes
    blobs: dict[str, plumbing.Blob]


class History(Protocol):
    """Where saves are recorded."""

    def record(
        self,
        path: Path,
        author: Author,
        message: str,
        *,
        before: bytes,
        after: bytes,
        ledger: bytes,
        when: dt.datetime,
    ) -> str:
        """Record that `author` saved `path` (from `before` to `after`, with `ledger`);
        return "" or why it is not recorded yet (it will be, under `author`)."""

    def prepare(self, path: Path, data: bytes) -> None:
        """Start keeping the bytes a save is about to write to `path` (the registry or its
        ledger); `record` takes them up if they are the very bytes it records."""

    def forget(self) -> None:
        """Stop keeping what `prepare` was given: the save was not made."""

    def published(self, path: Path) -> None:
        """Hand the recorded saves on (a push), outside the registry's lock."""

    def problem(self, path: Path) -> str:
        """Return why saves are not all recorded or handed on ("" when they are)."""

    def versions(self, path: Path, event_id: str) -> list[Version]:
        """Return the recorded saves that name `event_id`, newest first."""

    def file_at(self, path: Path, commit: str) -> bytes | None:
        """Return the registry's bytes as of a recorded save, if they are kept."""

    def file_versions(self, path: Path, limit: int = 200) -> Iterator[tuple[Version, bytes]]:
        """Return every kept version of the registry, whoever made it, newest first."""


def for_registry(path: Path, push: bool = False) -> History:
    """Return git history when the registry is in a git work tree, else the audit log.

    With `push`, each commit is pushed to the branch's upstream as well.
    """
    if Git.inside(path.parent):
        return Git(push)
    return AuditLog()


class Git:
    """Each save is one commit of the registry and its ledger, pushed when asked.

    A push that fails leaves the commit in the local repository; the failure
    is kept (`push_error`, shown by the editor) and the push is tried again
    a few times in the background and with the next save.
    """

    def __init__(self, push: bool = False, retries: tuple[float, ...] = (5.0, 30.0, 120.0)) -> None:
        self.push = push
        self.retries = retries  # seconds before each further try of a failed push
        self.push_error = ""
        self.commit_error = ""
        self._pushing = threading.Lock()
        self._again = threading.Event()
        self._thread: threading.Thread | None = None
        self._blobs: dict[str, plumbing.Blob] = {}  # by file name: being written for this save
        self._waiting: list[_Save] = []  # saves git could not queue yet, oldest first
        self._last: tuple[bytes, str] | None = None  # the registry this process last queued

    @staticmethod
    def inside(folder: Path) -> bool:
        """Return whether `folder` is inside a git work tree (and git is installed)."""
        try:
            result = _git(folder, "rev-parse", "--is-inside-work-tree")
        except OSError:
            return False
        return result.returncode == 0 and result.stdout.strip() == "true"

    def record(
        self,
        path: Path,
        author: Author,
        message: str,
        *,
        before: bytes,
        after: bytes,
        ledger: bytes,
        when: dt.datetime,
    ) -> str:
        files = {path.name: after, ledger_path(path).name: ledger}
        blobs, self._blobs = self._blobs, {}
        self._waiting.append(
            _Save((author.name, author.email), message, when, files, before, blobs)
        )
        try:
            while self._waiting:  # a save git could not queue before goes first
                self._queue(path, self._waiting[0])
                self._waiting.pop(0)
        except plumbing.GitFailed as exc:
            self.commit_error = str(exc)
            log.error("git could not keep %r (the save stands): %s", message, exc)
            return self.commit_error
        return self.flush(path)

    def _queue(self, path: Path, save: _Save) -> None:
        """Queue a save's commit, after one of the file as the save found it if history
        would not have it (a hand edit not committed, a file never committed): that one
        authored by icalpub, so the hand edit is never in the editor's commit."""
        folder = path.parent
        last = plumbing.recorded(folder, path.name)
        if self._last is not None and self._last[0] == save.before:
            found = self._last[1]  # what this process's last save wrote: its blob is known
        else:
            found = plumbing.blob_id(folder, save.before)
        if found != last:
            log.info("%s was changed outside the editor: committed on its own first", path.name)
            outside = OUTSIDE.format(name=path.name)
            before = {path.name: save.before}
            plumbing.queue(
                folder, plumbing.ICALPUB, outside, save.when, before, None, {path.name: last}
            )
        blobs, save.blobs = save.blobs, {}  # taken up now, whether the queue works or not
        made = plumbing.queue(
            folder, save.author, save.message, save.when, save.files, blobs, {path.name: found}
        )
        self._last = (save.files[path.name], made[path.name])

    def flush(self, path: Path) -> str:
        """Commit every queued save, oldest first, each under its own author.

        Return "" when all are committed, else git's error (the rest wait)."""
        folder = path.parent
        try:
            for entry in plumbing.pending(folder):
                plumbing.commit(folder, json.loads(entry.read_text("utf-8")))
                entry.unlink()
            plumbing.refresh_index(folder, [path.name, ledger_path(path).name])
        except (plumbing.GitFailed, OSError, ValueError) as exc:
            self.commit_error = str(exc)
            log.error("git commit failed (the save stands; committed later): %s", exc)
            return self.commit_error
        self.commit_error = ""
        return ""

    def prepare(self, path: Path, data: bytes) -> None:
        """Start `git hash-object` on `data` now: at 12 MB its hash and compression take
        ~0.15 s, which run on the other core while the save goes on."""
        earlier = self._blobs.pop(path.name, None)
        if earlier is not None:  # the save is being made again on a changed file
            earlier.discard()
        self._blobs[path.name] = plumbing.Blob(path.parent, data)

    def forget(self) -> None:
        blobs, self._blobs = self._blobs, {}
        for blob in blobs.values():
            blob.discard()

    def published(self, path: Path) -> None:
        if not self.push:
            return
        self._again.set()
        if not self._pushing.acquire(blocking=False):
            return  # the running push thread sees `_again` and pushes once more

        def run() -> None:
            try:
                while self._again.is_set():
                    self._again.clear()
                    for wait in (0.0, *self.retries):
                        time.sleep(wait)
                        if self.push_now(path):
                            break
            finally:
                self._pushing.release()

        self._thread = threading.Thread(target=run, name="icalpub-push", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the background push (if any) to finish."""
        if self._thread is not None:
            self._thread.join(timeout)

    def problem(self, path: Path) -> str:
        if self.commit_error or any(plumbing.pending(path.parent)):
            self.flush(path)  # git may work again
        return self.commit_error or self.push_error

    def push_now(self, path: Path) -> bool:
        """Push the local commits; remember the error when it fails. Return whether it worked."""
        try:
            pushed = _git(path.parent, "push", "--quiet")
        except subprocess.TimeoutExpired:
            self.push_error = "git push did not finish within a minute"
        else:
            self.push_error = (
                (pushed.stderr.strip() or "git push failed") if pushed.returncode else ""
            )
        if self.push_error:
            log.error("git push failed (the commit is kept and pushed later): %s", self.push_error)
        return not self.push_error

    def versions(self, path: Path, event_id: str) -> list[Version]:
        result = _git(
            path.parent,
            "log",
            "--fixed-strings",
            f"--grep={event_id}",
            "--format=%H%x1f%an <%ae>%x1f%aI%x1f%s",
            "--",
            path.name,
        )
        versions = []
        for line in result.stdout.splitlines():
            commit, author, when, message = line.split("\x1f", 3)
            if _names(message, event_id):
                versions.append(Version(commit, author, when, message))
        return versions

    def file_at(self, path: Path, commit: str) -> bytes | None:
        if not commit.isalnum():
            return None
        result = subprocess.run(
            ["git", "show", f"{commit}:./{path.name}"],
            cwd=path.parent,
            capture_output=True,
            env=plumbing.environment(),
            check=False,
        )
        return result.stdout if result.returncode == 0 else None

    def file_versions(self, path: Path, limit: int = 200) -> Iterator[tuple[Version, bytes]]:
        """Every commit that touched the registry (`git log` of the file, editor or not),
        with its bytes then, newest first: read one at a time from one `git cat-file
        --batch`, so a large registry's versions are never all in memory at once."""
        result = _git(
            path.parent,
            "log",
            f"--max-count={limit}",
            "--format=%H%x1f%an <%ae>%x1f%aI%x1f%s",
            "--",
            path.name,
        )
        if result.returncode != 0:
            return
        versions = [Version(*line.split("\x1f", 3)) for line in result.stdout.splitlines()]
        wanted = "".join(f"{v.commit}:./{path.name}\n" for v in versions).encode()
        with subprocess.Popen(
            ["git", "cat-file", "--batch"],
            cwd=path.parent,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=plumbing.environment(),
        ) as batch:
            assert batch.stdin is not None and batch.stdout is not None
            batch.stdin.write(wanted)  # a few kilobytes: never blocks on a full pipe
            batch.stdin.close()
            for version in versions:
                parts = batch.stdout.readline().split()
                if len(parts) != 3 or parts[1] != b"blob":
                    continue  # "<name> missing": the file was deleted in that commit
                data = batch.stdout.read(int(parts[2]))
                batch.stdout.read(1)  # the line break after each object
                yield version, data


class AuditLog:
    """Each save is one JSON line in `<registry>.audit.jsonl` beside the registry."""

    def record(
        self,
        path: Path,
        author: Author,
        message: str,
        *,
        before: bytes,
        after: bytes,
        ledger: bytes,
        when: dt.datetime,
    ) -> str:
        entry = {
            "at": when.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "editor": author.name,
            "email": author.email,
            "change": message,
            "before": _digest(before),
            "after": _digest(after),
        }
        line = json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n"
        try:
            handle = os.open(
                audit_path(path), os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640
            )
            try:
                os.write(handle, line.encode())
                os.fsync(handle)
            finally:
                os.close(handle)
        except OSError as exc:
            log.error("the audit log could not be written (the save stands): %s", exc)
            return f"the audit log could not be written: {describe(exc)}"
        return ""

    def prepare(self, path: Path, data: bytes) -> None:
        return None

    def forget(self) -> None:
        return None

    def published(self, path: Path) -> None:
        return None

    def problem(self, path: Path) -> str:
        return ""

    def versions(self, path: Path, event_id: str) -> list[Version]:
        try:
            lines = audit_path(path).read_text("utf-8").splitlines()
        except FileNotFoundError:
            return []
        found = []
        for line in reversed(lines):
            entry = json.loads(line)
            if _names(str(entry.get("change", "")), event_id):
                author = f"{entry['editor']} <{entry['email']}>"
                found.append(Version(entry["after"], author, entry["at"], entry["change"]))
        return found

    def file_at(self, path: Path, commit: str) -> bytes | None:
        return None  # the audit log keeps hashes, not files

    def file_versions(self, path: Path, limit: int = 200) -> Iterator[tuple[Version, bytes]]:
        return iter(())  # the audit log keeps hashes, not files


def _names(message: str, event_id: str) -> bool:
    """Return whether a history message ("Edit <id>: title, end") is about `event_id`."""
    return event_id in re.split(r"[\s:,]+", message)


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        env=plumbing.environment(),
        check=False,
        timeout=60,
    )
