"""Who changed what: one git commit per save in a git work tree, an audit log otherwise.

Git runs as the `git` command (no library binding to build): `git add` and
`git commit -- <registry> <ledger>` commit those two files only, whatever else
is staged, with the editor as author and icalpub as committer. A commit that
fails (a hook, a broken repository) is logged; the save itself stands, and the
next commit includes it, since git commits a file's whole content.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..registry import ledger_path

log = logging.getLogger("icalpub.editor")


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
        when: dt.datetime,
    ) -> None:
        """Record that `author` saved `path` (from `before` to `after`) with `message`."""

    def versions(self, path: Path, event_id: str) -> list[Version]:
        """Return the recorded saves that name `event_id`, newest first."""

    def file_at(self, path: Path, commit: str) -> bytes | None:
        """Return the registry's bytes as of a recorded save, if they are kept."""


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
    with the next save, which sends every commit not yet pushed.
    """

    def __init__(self, push: bool = False) -> None:
        self.push = push
        self.push_error = ""

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
        when: dt.datetime,
    ) -> None:
        names = [path.name, ledger_path(path).name]
        added = _git(path.parent, "add", "--", *names)
        committed = (
            added
            if added.returncode
            else _git(
                path.parent,
                "-c",
                "user.name=icalpub editor",
                "-c",
                f"user.email=icalpub@{os.uname().nodename}",
                "commit",
                "--quiet",
                f"--author={author.name} <{author.email}>",
                f"--date={when.astimezone(dt.UTC).replace(microsecond=0).isoformat()}",
                "-m",
                message,
                "--",
                *names,
            )
        )
        if committed.returncode:
            log.error("git commit of %r failed (the save stands): %s", message, committed.stderr)
        if self.push:
            self.push_now(path)

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
        when: dt.datetime,
    ) -> None:
        entry = {
            "at": when.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "editor": author.name,
            "email": author.email,
            "change": message,
            "before": _digest(before),
            "after": _digest(after),
        }
        line = json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n"
        handle = os.open(
            audit_path(path), os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640
        )
        try:
            os.write(handle, line.encode())
            os.fsync(handle)
        finally:
            os.close(handle)

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


def audit_path(path: Path) -> Path:
    """Return where the audit log of a registry is: `events.audit.jsonl` for `events.yaml`."""
    return path.with_suffix(".audit.jsonl")


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
