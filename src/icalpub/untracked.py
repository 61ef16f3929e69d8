"""Keep icalpub's own files out of git: the editors file, the session key, the writers' lock.

The secrets (and the writers' lock, nobody's to commit) live beside the
registry, usually in its git work tree, where `git add -A
&& git push` would publish them. Each time icalpub writes one, it lists it in
the work tree's `.git/info/exclude` (the repository's own ignore list, which
is not a tracked file, so nothing new shows in `git status`) unless git
ignores it already. A file git already tracks cannot be excluded: the note
says how to stop tracking it.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path

from .files import locked
from .site import write_lock_path

SECRET = "a secret, never to be committed"


def keep_out_of_git(paths: Iterable[Path], why: str = SECRET) -> list[str]:
    """List each existing path in its work tree's exclude file (with `why` as its comment);
    return notes for a person."""
    notes = []
    for path in paths:
        note = _exclude(path, why)
        if note:
            notes.append(note)
    return notes


@contextlib.contextmanager
def writers_lock(
    registry: str | Path, timeout: float | None = None, check: bool = False
) -> Iterator[None]:
    """Hold the registry's writers' lock (the editor, a build, a publishing service,
    `icalpub pull`, and hand editors under `flock` take it). When it is made now, or
    with `check`, it is listed in git's exclude file: it is nobody's to commit.

    Raise LockTimeout after `timeout` seconds (None: wait for as long as it is held).
    """
    path = write_lock_path(registry)
    made = not path.exists()
    with locked(path, timeout):
        if made or check:
            keep_out_of_git([path], "the writers' lock, not committed")
        yield


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess[str] | None:
    git = shutil.which("git")
    if git is None:
        return None
    try:
        return subprocess.run(
            [git, "-C", str(folder), *args], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None


def _exclude(path: Path, why: str) -> str:
    if not path.exists():
        return ""
    path = path.resolve()
    folder = path.parent
    top = _git(folder, "rev-parse", "--show-toplevel")
    if top is None or top.returncode != 0:
        return ""  # not in a git work tree: nothing can offer it
    relative = path.relative_to(Path(top.stdout.strip()).resolve())
    tracked = _git(folder, "ls-files", "--error-unmatch", "--", path.name)
    if tracked is not None and tracked.returncode == 0:
        return (
            f"{relative} is tracked by git and would be pushed: "
            f"run `git rm --cached {relative}` and commit"
        )
    ignored = _git(folder, "check-ignore", "-q", "--", path.name)
    if ignored is not None and ignored.returncode == 0:
        return f"{relative} is kept out of git (git ignores it)"
    found = _git(folder, "rev-parse", "--git-path", "info/exclude")
    if found is None or found.returncode != 0:
        return f"{relative} could not be excluded from git; add it to .gitignore"
    exclude = Path(found.stdout.strip())
    exclude = exclude if exclude.is_absolute() else folder / exclude
    exclude.parent.mkdir(parents=True, exist_ok=True)
    line = "/" + relative.as_posix()
    with exclude.open("a", encoding="utf-8") as handle:
        handle.write(f"# written by icalpub: {why}\n{line}\n")
    return f"{relative} is kept out of git (listed in {exclude.resolve()})"
