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
import gzip
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from .errors import BuildError
from .publish import manifest

SAFE_PATH = re.compile(r"(?:[a-z0-9][a-z0-9-]{0,79}/)?[a-z0-9][a-z0-9.-]{0,90}")
GZIP_LEVEL = 6  # zlib's default: calendars 2% larger than at level 9, in half the time
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


class Compressor:
    """Gzip files on every core as they are handed over, so compression overlaps rendering.

    zlib lets go of the GIL while it compresses; small files go in batches so
    that thousands of event files do not cost a thread hand-over each.
    """

    BATCH = 256 * 1024  # bytes of small files compressed by one task

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1)
        self._done: dict[str, tuple[Future[list[bytes]], int]] = {}
        self._batch: list[tuple[str, bytes]] = []
        self._batch_size = 0

    def add(self, path: str, data: bytes) -> None:
        """Start compressing `data`, published at `path`."""
        self._batch.append((path, data))
        self._batch_size += len(data)
        if self._batch_size >= self.BATCH:
            self._submit()

    def gzipped(self, path: str, data: bytes) -> bytes:
        """Return the gzip twin of `data` at `path`, compressing it now if it was never added."""
        self._submit()
        found = self._done.get(path)
        if found is None:
            return gzip_bytes(data, level=GZIP_LEVEL)
        future, index = found
        return future.result()[index]

    def close(self) -> None:
        """Stop the threads, dropping work not yet started."""
        self._pool.shutdown(cancel_futures=True)

    def __enter__(self) -> Compressor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _submit(self) -> None:
        if not self._batch:
            return
        batch = [data for _, data in self._batch]
        future = self._pool.submit(lambda: [gzip_bytes(d, level=GZIP_LEVEL) for d in batch])
        for index, (path, _) in enumerate(self._batch):
            self._done[path] = (future, index)
        self._batch, self._batch_size = [], 0


def write_tree(out: Path, files: Mapping[str, bytes], compressor: Compressor | None = None) -> None:
    """Replace the folder `out` with exactly `files` (+ .gz twins and index.json), atomically.

    A `compressor` that was handed the files while they were made has their
    gzip twins ready or under way; the rest are compressed here.
    """
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
                if compressor is None:
                    with Compressor() as own:
                        for path, data in files.items():
                            own.add(path, data)
                        _write_all(staging, files, own)
                else:
                    _write_all(staging, files, compressor)
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


def _write_all(root: Path, files: Mapping[str, bytes], compressor: Compressor) -> None:
    folders = {root}
    everything = dict(files)
    for path, data in files.items():
        everything[path + ".gz"] = compressor.gzipped(path, data)
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
