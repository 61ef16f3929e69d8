"""Write files safely: whole or not at all, flushed to disk, one writer at a time.

The build, the ledger, the crash snapshot and the editor's saves all write
through here: a reader (nginx, the service, git) sees the old file or the new
one, never a mix, and a crash leaves no half-written file in its place.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import BuildError


def move(source: Path, target: Path) -> None:
    """Rename a flushed file over `target` and flush the rename (the folder) too."""
    os.replace(source, target)
    fsync_dir(target.parent)


def write_file(
    path: Path,
    data: bytes,
    new_mode: int = 0o644,
    unchanged: Callable[[], bool] | None = None,
) -> bool:
    """Replace one file atomically: write a temporary sibling, flush it, rename it over.

    The file keeps its permissions (a registry made group-writable for its
    editors stays so); a new file gets `new_mode` whatever the umask. With
    `unchanged`, asked after the flush, just before the rename: when it says
    the file changed meanwhile, nothing is replaced and False is returned.
    """
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            os.chmod(temporary, _mode_of(path, new_mode))
            if unchanged is not None and not unchanged():
                os.unlink(temporary)
                return False
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
        fsync_dir(path.parent)
    except OSError as exc:
        raise BuildError(describe(exc)) from None
    return True


class LockTimeout(OSError):
    """Another process held the lock for longer than the caller would wait."""


@contextmanager
def locked(path: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold an exclusive lock on the file `path` (created if missing) for the block.

    With `timeout`, give up after that many seconds (raise LockTimeout) instead of
    waiting for as long as the holder takes (a person editing under `flock`).
    """
    with open(path, "a+b") as handle:
        if timeout is None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        else:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise LockTimeout(f"{path.name} is held by another writer") from None
                    time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (a rename is durable only once its folder is)."""
    fsync_path(folder)


def fsync_path(path: str | Path) -> None:
    """Flush a file or a folder, by name, to disk."""
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def describe(exc: OSError) -> str:
    """Return an OSError as a person reads it: what went wrong, and on which file."""
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"


def _mode_of(path: Path, new_mode: int) -> int:
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        return new_mode
