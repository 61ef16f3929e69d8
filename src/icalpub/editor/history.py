"""Who changed what: one git commit per save in a git work tree, an audit log otherwise.

Git runs as the `git` command (no library binding to build). Each save is
queued in the repository (`.git/icalpub/pending/`, never in the work tree) as
the exact bytes it wrote, then committed with git's plumbing on a private
index: the registry and ledger as that save wrote them, with the editor as
author and icalpub as committer, whatever else is staged or changed since.
A commit that fails (a ref locked, a full disk) stays queued and is reported;
the next save or look at the list commits it first, under its own author, so
one editor's change never lands in another's commit. Pushes run after the
registry's lock is released, in a background thread, with retries. Commit
hooks do not run (plumbing), so no hook can refuse a save that is already made.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
import os
import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..errors import BuildError
from ..files import describe, write_file
from ..site import audit_path, ledger_path

log = logging.getLogger("icalpub.editor")
GIT_TIMEOUT = 10  # seconds per git command; well inside gunicorn's worker timeout


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
        self._blobs: dict[str, _Blob] = {}  # by file name: being written for this save

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
        try:
            _queue(path.parent, author, message, when, files, blobs)
        except GitFailed as exc:
            self.commit_error = str(exc)
            log.error("git could not keep %r (the save stands): %s", message, exc)
            return self.commit_error
        return self.flush(path)

    def flush(self, path: Path) -> str:
        """Commit every queued save, oldest first, each under its own author.

        Return "" when all are committed, else git's error (the rest wait)."""
        folder = path.parent
        try:
            for entry in _pending(folder):
                _commit(folder, json.loads(entry.read_text("utf-8")))
                entry.unlink()
            _refresh_index(folder, [path.name, ledger_path(path).name])
        except (GitFailed, OSError, ValueError) as exc:
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
        self._blobs[path.name] = _Blob(path.parent, data)

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
        if self.commit_error or any(_pending(path.parent)):
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
            env=_environment(),
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
            env=_environment(),
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


class GitFailed(Exception):
    """A git command failed; the message is git's own."""


def _run(folder: Path, *args: str, env: dict[str, str] | None = None, data: bytes = b"") -> str:
    """Run git (`data`, a few lines, on its standard input); return its output, or raise
    GitFailed with what it said."""
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=folder,
            input=data,
            capture_output=True,
            env={**_environment(), **(env or {})},
            check=False,
            timeout=GIT_TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitFailed(f"git {args[0]}: {exc}") from None
    if result.returncode:
        said = result.stderr.decode("utf-8", "replace").strip() or f"git {args[0]} failed"
        raise GitFailed(said)
    return result.stdout.decode("utf-8", "replace").strip()


class _Blob:
    """`git hash-object -w` of some bytes, running while the save goes on.

    zlib's fastest level for the loose objects (a 12 MB registry: 0.05 s, not
    0.15 s); `git gc` packs them as it always does. The bytes reach git from an
    unlinked file beside the registry: through a pipe they would have to be fed
    while the save goes on.
    """

    def __init__(self, folder: Path, data: bytes) -> None:
        self.data = data
        self._process: subprocess.Popen[bytes] | None = None
        self._failed = ""
        try:
            with tempfile.TemporaryFile(dir=folder) as given:
                given.write(data)
                given.seek(0)
                self._process = subprocess.Popen(
                    ["git", "-c", "core.looseCompression=1", "hash-object", "-w", "--stdin"],
                    cwd=folder,
                    stdin=given,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env=_environment(),
                )
        except OSError as exc:
            self._failed = f"git hash-object: {exc}"

    def result(self) -> str:
        """Return the blob's id; raise GitFailed with what git said."""
        if self._process is None:
            raise GitFailed(self._failed)
        try:
            out, err = self._process.communicate(timeout=GIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.discard()
            raise GitFailed("git hash-object: timed out") from None
        if self._process.returncode:
            raise GitFailed(err.decode("utf-8", "replace").strip() or "git hash-object failed")
        return out.decode("ascii", "replace").strip()

    def discard(self) -> None:
        """Stop it and reap it (its object, if written, is unreferenced: git gc drops it)."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
        if self._process is not None:
            self._process.communicate()


def _queue(
    folder: Path,
    author: Author,
    message: str,
    when: dt.datetime,
    files: dict[str, bytes],
    started: Mapping[str, _Blob] | None = None,
) -> None:
    """Keep a save's exact bytes in git's object store and queue its commit (`started`:
    blobs already being written, by file name, taken if they hold those very bytes)."""
    prefix = _where(folder.resolve())[1]
    started = dict(started or {})
    blobs: dict[str, str] = {}
    for name, data in files.items():
        blob = started.pop(name, None)
        if blob is None or blob.data is not data:
            if blob is not None:
                blob.discard()
            blob = _Blob(folder, data)
        blobs[prefix + name] = blob.result()
    for blob in started.values():
        blob.discard()
    entry = {
        "author": author.name,
        "email": author.email,
        "message": message,
        "when": when.astimezone(dt.UTC).replace(microsecond=0).isoformat(),
        "files": blobs,
    }
    queue = _queue_folder(folder)
    try:
        queue.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{os.getpid()}.json"
        write_file(queue / name, json.dumps(entry, ensure_ascii=False).encode(), 0o600)
    except (OSError, BuildError) as exc:
        raise GitFailed(f"cannot queue the commit: {exc}") from None


@functools.lru_cache(maxsize=16)
def _where(folder: Path) -> tuple[Path, str]:
    """Return the repository's git folder and the registry folder's path in the work tree
    (asked of git once per folder: every save and every look at the list needs them)."""
    git_dir = Path(_run(folder, "rev-parse", "--absolute-git-dir"))
    return git_dir, _run(folder, "rev-parse", "--show-prefix")


def _queue_folder(folder: Path) -> Path:
    return _where(folder.resolve())[0] / "icalpub" / "pending"


def _pending(folder: Path) -> list[Path]:
    try:
        return sorted(_queue_folder(folder).glob("*.json"))
    except GitFailed:
        return []


def _commit(folder: Path, entry: dict[str, object]) -> None:
    """Commit one queued save on a private index, moving HEAD only if nobody else did."""
    files = entry["files"]
    assert isinstance(files, dict)
    try:
        head, head_tree = _run(folder, "rev-parse", "HEAD", "HEAD^{tree}").split()
    except (GitFailed, ValueError):
        head, head_tree = "", ""  # a repository without commits yet (else update-ref refuses)
    listing = "".join(f"100644 {blob}\t{name}\n" for name, blob in files.items())
    with tempfile.TemporaryDirectory() as scratch:
        index = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        _run(folder, "read-tree", *([head] if head else ["--empty"]), env=index)
        _run(folder, "update-index", "--add", "--index-info", env=index, data=listing.encode())
        tree = _run(folder, "write-tree", env=index)
    if head and tree == head_tree:
        return  # already in history (committed by hand since)
    people = {
        "GIT_AUTHOR_NAME": str(entry["author"]),
        "GIT_AUTHOR_EMAIL": str(entry["email"]),
        "GIT_AUTHOR_DATE": str(entry["when"]),
        "GIT_COMMITTER_NAME": "icalpub editor",
        "GIT_COMMITTER_EMAIL": f"icalpub@{os.uname().nodename}",
    }
    parents = ["-p", head] if head else []
    commit = _run(folder, "commit-tree", tree, *parents, "-m", str(entry["message"]), env=people)
    _run(
        folder, "update-ref", "-m", f"icalpub: {entry['message']}", "HEAD", commit, head or "0" * 40
    )


def _refresh_index(folder: Path, names: list[str]) -> None:
    """Make git's own index hold the committed registry and ledger (else `git status`
    would show the save as a staged revert)."""
    prefix = _where(folder.resolve())[1]
    try:
        blobs = _run(folder, "rev-parse", *(f"HEAD:{prefix}{name}" for name in names)).split()
    except GitFailed:
        return  # not both committed (yet): nothing to make the index agree with
    staged: dict[str, str] = {}
    for line in _run(folder, "ls-files", "--stage", "--", *names).splitlines():
        fields, _, name = line.partition("\t")
        if len(fields.split()) >= 2:
            staged[name] = fields.split()[1]
    listing = "".join(
        f"100644 {blob}\t{prefix}{name}\n"
        for name, blob in zip(names, blobs, strict=True)
        if staged.get(name) != blob
    )
    if listing:
        _run(folder, "update-index", "--add", "--index-info", data=listing.encode())


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


def _environment() -> dict[str, str]:
    return {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_PAGER": "cat",
        "LC_ALL": "C",
    }


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        env=_environment(),
        check=False,
        timeout=60,
    )
