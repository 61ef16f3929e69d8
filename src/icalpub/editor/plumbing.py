"""Git's plumbing for the editor's history: a save's exact bytes kept as blobs, a queue of
commits in the repository (`.git/icalpub/pending/`), each committed on a private index,
and only on a HEAD that has the registry as the save found it (else it would undo
whatever was committed by hand meanwhile, under the editor's name).

Git runs as the `git` command (no library binding to build); every run is bounded
(GIT_TIMEOUT) and its failure is a GitFailed with what git said.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import itertools
import json
import logging
import os
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from ..errors import BuildError
from ..files import write_file

log = logging.getLogger("icalpub.editor")
GIT_TIMEOUT = 10  # seconds per git command; well inside gunicorn's worker timeout
ICALPUB = ("icalpub editor", f"icalpub@{os.uname().nodename}")  # the committer of every save
_queued = itertools.count()  # two entries queued within one nanosecond keep their order


class GitFailed(Exception):
    """A git command failed; the message is git's own."""


def run(folder: Path, *args: str, env: dict[str, str] | None = None, data: bytes = b"") -> str:
    """Run git (`data`, a few lines, on its standard input); return its output, or raise
    GitFailed with what it said."""
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=folder,
            input=data,
            capture_output=True,
            env={**environment(), **(env or {})},
            check=False,
            timeout=GIT_TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitFailed(f"git {args[0]}: {exc}") from None
    if result.returncode:
        said = result.stderr.decode("utf-8", "replace").strip() or f"git {args[0]} failed"
        raise GitFailed(said)
    return result.stdout.decode("utf-8", "replace").strip()


class Blob:
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
                    env=environment(),
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


def queue(
    folder: Path,
    author: tuple[str, str],
    message: str,
    when: dt.datetime,
    files: dict[str, bytes],
    started: Mapping[str, Blob] | None = None,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Keep a save's exact bytes in git's object store and queue its commit; return the
    blob id of each file by name. `started`: blobs already being written, by file name,
    taken if they hold those very bytes. `base`: the blob id (or "" for none) of files
    as the save found them, by name: the commit is made only on a HEAD that has them."""
    prefix = where(folder.resolve())[1]
    started = dict(started or {})
    blobs: dict[str, str] = {}
    try:
        for name, data in files.items():
            blob = started.pop(name, None)
            if blob is None or blob.data is not data:
                if blob is not None:
                    blob.discard()
                blob = Blob(folder, data)
            blobs[prefix + name] = blob.result()
    finally:
        for blob in started.values():  # not taken up (or one of the others failed)
            blob.discard()
    entry = {
        "author": author[0],
        "email": author[1],
        "message": message,
        "when": when.astimezone(dt.UTC).replace(microsecond=0).isoformat(),
        "files": blobs,
        "base": {prefix + name: blob for name, blob in (base or {}).items()},
    }
    waiting = queue_folder(folder)
    try:
        waiting.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{os.getpid()}-{next(_queued):06d}.json"
        write_file(waiting / name, json.dumps(entry, ensure_ascii=False).encode(), 0o600)
    except (OSError, BuildError) as exc:
        raise GitFailed(f"cannot queue the commit: {exc}") from None
    return {path[len(prefix) :]: blob for path, blob in blobs.items()}


@functools.lru_cache(maxsize=16)
def where(folder: Path) -> tuple[Path, str]:
    """Return the repository's git folder and the registry folder's path in the work tree
    (asked of git once per folder: every save and every look at the list needs them)."""
    git_dir = Path(run(folder, "rev-parse", "--absolute-git-dir"))
    return git_dir, run(folder, "rev-parse", "--show-prefix")


def recorded(folder: Path, name: str) -> str:
    """Return the blob id of the file `name` as history will have it once the queue is
    committed: the newest queued save's, else HEAD's ("" when it was never committed)."""
    path = where(folder.resolve())[1] + name
    for entry in reversed(pending(folder)):
        try:
            files = json.loads(entry.read_text("utf-8"))["files"]
        except (OSError, ValueError, KeyError, TypeError):
            continue  # unreadable: `commit` reports it when it comes to it
        if isinstance(files, dict) and isinstance(files.get(path), str):
            return str(files[path])
    return _ids(folder, [f"HEAD:{path}"])[0]


def blob_id(folder: Path, data: bytes) -> str:
    """Return the id git gives `data` as a blob, without running git."""
    digest = hashlib.new(object_format(folder.resolve()))
    digest.update(b"blob %d\0" % len(data))
    digest.update(data)
    return digest.hexdigest()


@functools.lru_cache(maxsize=16)
def object_format(folder: Path) -> str:
    """Return the repository's hash (sha1, or sha256 for a repository made so)."""
    try:
        found = run(folder, "rev-parse", "--show-object-format")
    except GitFailed:
        return "sha1"  # a git too old to say has only sha1
    return found if found in ("sha1", "sha256") else "sha1"


def queue_folder(folder: Path) -> Path:
    return where(folder.resolve())[0] / "icalpub" / "pending"


def pending(folder: Path) -> list[Path]:
    try:
        return sorted(queue_folder(folder).glob("*.json"))
    except GitFailed:
        return []


def commit(folder: Path, entry: dict[str, object]) -> None:
    """Commit one queued save on a private index, moving HEAD only if nobody else did."""
    files = entry["files"]
    assert isinstance(files, dict)
    base = entry.get("base") or {}
    assert isinstance(base, dict)
    # "" for what HEAD lacks: every one of them in a repository without commits yet.
    head, head_tree, *found = _ids(folder, ["HEAD", "HEAD^{tree}", *(f"HEAD:{p}" for p in base)])
    if dict(zip(base, found, strict=True)) != base:
        # HEAD moved on from the file as the save found it (someone committed by hand
        # meanwhile, with the save's bytes in the work tree): laying the save's bytes on
        # it would undo that commit under the editor's name.
        log.warning(
            "not committing %r by %s: HEAD no longer has the file it was made on",
            entry["message"],
            entry["author"],
        )
        return
    listing = "".join(f"100644 {blob}\t{name}\n" for name, blob in files.items())
    with tempfile.TemporaryDirectory() as scratch:
        index = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        run(folder, "read-tree", *([head] if head else ["--empty"]), env=index)
        run(folder, "update-index", "--add", "--index-info", env=index, data=listing.encode())
        tree = run(folder, "write-tree", env=index)
    if head and tree == head_tree:
        return  # already in history (committed by hand since)
    people = {
        "GIT_AUTHOR_NAME": str(entry["author"]),
        "GIT_AUTHOR_EMAIL": str(entry["email"]),
        "GIT_AUTHOR_DATE": str(entry["when"]),
        "GIT_COMMITTER_NAME": ICALPUB[0],
        "GIT_COMMITTER_EMAIL": ICALPUB[1],
    }
    parents = ["-p", head] if head else []
    commit = run(folder, "commit-tree", tree, *parents, "-m", str(entry["message"]), env=people)
    run(
        folder, "update-ref", "-m", f"icalpub: {entry['message']}", "HEAD", commit, head
    )  # an empty old value: HEAD must not exist yet (sha1's and sha256's null ids alike)


def _ids(folder: Path, names: list[str]) -> list[str]:
    """Return the object id of each of `names` (`HEAD`, `HEAD:<path>`), "" for one git
    does not have: one `git cat-file --batch-check` for all of them."""
    said = run(folder, "cat-file", "--batch-check", data="".join(f"{n}\n" for n in names).encode())
    lines = said.splitlines()
    if len(lines) != len(names):
        raise GitFailed(f"git cat-file answered {len(lines)} lines for {len(names)} names")
    return ["" if line.endswith(" missing") else line.split()[0] for line in lines]


def refresh_index(folder: Path, names: list[str]) -> None:
    """Make git's own index hold the committed registry and ledger (else `git status`
    would show the save as a staged revert)."""
    prefix = where(folder.resolve())[1]
    try:
        blobs = run(folder, "rev-parse", *(f"HEAD:{prefix}{name}" for name in names)).split()
    except GitFailed:
        return  # not both committed (yet): nothing to make the index agree with
    staged: dict[str, str] = {}
    for line in run(folder, "ls-files", "--stage", "--", *names).splitlines():
        fields, _, name = line.partition("\t")
        if len(fields.split()) >= 2:
            staged[name] = fields.split()[1]
    listing = "".join(
        f"100644 {blob}\t{prefix}{name}\n"
        for name, blob in zip(names, blobs, strict=True)
        if staged.get(name) != blob
    )
    if listing:
        run(folder, "update-index", "--add", "--index-info", data=listing.encode())


def environment() -> dict[str, str]:
    return {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_PAGER": "cat",
        "LC_ALL": "C",
    }
