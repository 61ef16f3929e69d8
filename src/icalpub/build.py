"""Write a publication to disk, the whole tree at once; the only module that writes files.

The new tree is written beside the old one, flushed to disk, and then swapped
in with one rename (Linux `renameat2(RENAME_EXCHANGE)`), so a reader of the
output folder sees the complete old tree or the complete new one. A build that
fails or is killed leaves the old tree as it was; its half-written sibling is
removed by the next build.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import functools
import gzip
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from .errors import BuildError
from .publish import manifest

SAFE_PATH = re.compile(r"(?:[a-z0-9][a-z0-9-]{0,79}/)?[a-z0-9][a-z0-9.-]{0,90}")
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def write_tree(out: Path, files: Mapping[str, bytes]) -> None:
    """Replace the folder `out` with exactly `files` (+ .gz twins and index.json), atomically."""
    for path in files:
        _check_path(path)
    out = Path(os.path.abspath(out))
    parent = out.parent
    if out.exists() and not out.is_dir():
        raise BuildError(f"{out} exists and is not a folder")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        with _lock(parent / f".{out.name}.lock"):
            _remove_leftovers(parent, out.name)
            staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=parent))
            try:
                _write_all(staging, files)
                _swap(staging, out)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:
        raise BuildError(_describe(exc)) from None


def write_file(path: Path, data: bytes) -> None:
    """Replace one file atomically: write a temporary sibling, flush it, rename it over."""
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
        _fsync_dir(path.parent)
    except OSError as exc:
        raise BuildError(_describe(exc)) from None


def gzip_bytes(data: bytes, level: int = 9) -> bytes:
    """Compress `data` byte-stably: no file name, no timestamp in the header."""
    return gzip.compress(data, compresslevel=level, mtime=0)


def _write_all(root: Path, files: Mapping[str, bytes]) -> None:
    folders = {root}
    everything = dict(files)
    # zlib lets go of the GIL while it compresses: use every core.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        compressed = pool.map(functools.partial(gzip_bytes, level=6), files.values())
        for path, data in zip(files, compressed, strict=True):
            everything[path + ".gz"] = data
    everything["index.json"] = manifest(files)
    for path, data in sorted(everything.items()):
        target = root / path
        if target.parent not in folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            folders.add(target.parent)
        _create(target, data)
    os.chmod(root, 0o755)
    # One flush of the whole file system before the swap, rather than one per file.
    _sync_file_system(root)


def _create(path: Path, data: bytes) -> None:
    """Write a new file (never an existing one: two paths can never write one file)."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        os.fchmod(handle, 0o644)  # whatever the umask
        view = memoryview(data)
        while view:
            view = view[os.write(handle, view) :]
    finally:
        os.close(handle)


def _swap(staging: Path, out: Path) -> None:
    if not out.exists():
        os.rename(staging, out)
    elif not _exchange(staging, out):
        # Without renameat2 there is a moment with no tree; never a mixed one.
        old = staging.with_name(staging.name + "-old")
        os.rename(out, old)
        os.rename(staging, out)
        os.rename(old, staging)
    _fsync_dir(out.parent)


def _exchange(first: Path, second: Path) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL):
        return False
    raise OSError(code, os.strerror(code), str(second))


def _check_path(path: str) -> None:
    parts = path.split("/")
    if not SAFE_PATH.fullmatch(path) or ".." in parts or path.startswith("/"):
        raise BuildError(f"refusing to write {path!r}: outside the output folder's layout")


@contextmanager
def _lock(path: Path) -> Iterator[None]:
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_leftovers(parent: Path, name: str) -> None:
    for leftover in parent.glob(f".{name}.new-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def _sync_file_system(folder: Path) -> None:
    """Flush every file of the file system holding `folder` to disk (Linux syncfs)."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        try:
            syncfs = ctypes.CDLL(None, use_errno=True).syncfs
        except (OSError, AttributeError):
            os.sync()
            return
        if syncfs(handle) != 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code), str(folder))
    finally:
        os.close(handle)


def _fsync_dir(folder: Path) -> None:
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _describe(exc: OSError) -> str:
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"
