"""A published tree on disk, replaced as a whole: written beside the old one, flushed,
and swapped in with one rename (Linux `renameat2(RENAME_EXCHANGE)`), so a reader of
the folder sees the complete old tree or the complete new one. Files whose bytes the
old tree already has are hard-linked from it; a half-written sibling left by a killed
writer is removed by the next. Only this module writes the tree's files.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

from . import gzipped, urls
from .errors import BuildError
from .files import describe, fsync_dir, fsync_path, locked
from .publish import manifest_of
from .site import tree_lock_path

log = logging.getLogger("icalpub")
SAFE_PATH = re.compile(urls.published_pattern())
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_Item = tuple[str, str, bytes, str | None, bytes | None]  # path, target, bytes, sha256, gzip


FLUSHES = 8  # files flushed at once when a tree flushes file by file


class Tree:
    """A new output tree, written beside the old one while the publication is rendered.

    `add` hands a file over as soon as it is made: threads compress it and
    write it and its gzip twin (zlib and file I/O let go of the GIL). Large
    files go to a thread per core; small ones, in batches, to one thread of
    their own: thousands of event files cost no hand-over each, and two
    threads creating files in one folder only contend for it in the kernel.
    `commit` writes what is left and index.json, flushes the file system and
    swaps the tree in. Leaving the `with` block without a commit removes the
    new tree; the old one is never touched.

    With `reuse`, a file whose bytes the tree being replaced already holds (its
    index.json has the same sha256 for that path) is hard-linked from there
    with its gzip twin instead of written and compressed again: the files of
    the old tree are never changed once written, so both trees may share them.
    A publication after an edit then writes only what the edit changed. With
    `remove_later`, the old tree is removed by a thread after the swap, not
    while the caller waits (the next tree removes what is left of it). `known`
    is kept by the caller from one tree to the next: the small files' bytes
    and sha256 by path, so the same bytes object is not hashed again. `add`
    may be handed a file's sha256 and gzip bytes when the caller has them
    (the service's resources: the same bytes `gzipped.compress` makes): a
    changed calendar is then written, not hashed and compressed again. When a
    tree wrote few files, those and its folders are flushed one by one rather
    than the whole file system (whose other writers it would wait for).
    With `held`, the caller keeps every file's bytes until the commit anyway
    (a publication in memory): `add` never waits for the disk to catch up.

    With `recycle` (and `reuse`), the tree swapped out is kept beside the new
    one as a spare (`.<name>.spare`, with its index.json) and the next tree is
    made from it: files it holds with the same sha256 stay as they are, the
    others are unlinked and linked or written anew, those not published any
    more are removed. An edit then touches only what changed, instead of
    linking every file again (20,000 links at 10,000 events). Files are never
    changed in place, so the trees sharing them are never affected.
    """

    BATCH = 256 * 1024  # a file this large is large; small files are batched to this size
    FEW = 512  # written files (with gzip twins) flushed one by one rather than by syncfs
    IN_FLIGHT = 32 * 1024 * 1024  # bytes handed over and not yet written: `add` waits beyond

    def __init__(
        self,
        out: Path,
        reuse: bool = False,
        remove_later: bool = False,
        known: dict[str, tuple[bytes, str]] | None = None,
        held: bool = False,
        recycle: bool = False,
        written: dict[str, tuple[int, str, str]] | None = None,
    ) -> None:
        self.out = Path(os.path.abspath(out))
        if self.out.exists() and not self.out.is_dir():
            raise BuildError(f"{self.out} exists and is not a folder")
        self._stack = ExitStack()
        self._root = Path()
        self._pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1)
        self._small = ThreadPoolExecutor(max_workers=1)
        self._tasks: list[Future[dict[str, str]]] = []
        self._added: set[str] = set()
        self._folders: set[Path] = set()
        self._made: set[str] = {""}  # folders made, relative to the new tree
        self._batch: list[_Item] = []
        self._batch_size = 0
        self._fix_mode = umask_narrows(0o644)
        self._reuse = reuse
        self._remove_later = remove_later
        self._swapped = False
        self._old: dict[str, str] = {}  # the replaced tree's sha256 by path, when reusing
        self._known = known
        self._written = written  # index.json's entries as last written, by path (the caller's)
        self._created: list[str] = []  # files written (not linked), for flushing
        self._sizes: dict[str, int] = {}
        self._room = threading.Condition()
        self._in_flight = 0
        self._held = held  # the caller keeps every file's bytes until the commit: no bound
        self._recycle = recycle and reuse
        self._spare: dict[str, str] = {}  # what the recycled spare holds: sha256 by path
        self._touched: set[str] = set()  # the spare's folders whose entries changed

    def __enter__(self) -> Tree:
        parent = self.out.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self._stack.enter_context(locked(tree_lock_path(self.out)))
            _remove_leftovers(parent, self.out.name)
            self._root = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.new-", dir=parent))
            if self._reuse:
                self._old = _published_digests(self.out)
            if self._recycle:
                self._take_spare()
        except OSError as exc:
            self._stack.close()
            self._pool.shutdown()
            self._small.shutdown()
            raise BuildError(describe(exc)) from None
        self._folders.add(self._root)
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(cancel_futures=True)  # waits for the writes under way
        self._small.shutdown(cancel_futures=True)
        if self._swapped and self._recycle and self._root.is_dir():
            # The old tree, at the staging name, becomes the next tree's spare.
            try:
                os.rename(self._root, _spare_path(self.out))
            except OSError as exc:
                log.info("not keeping %s as a spare: %s", self._root, exc)
                shutil.rmtree(self._root, ignore_errors=True)
        elif self._swapped and self._remove_later:
            # The old tree, now at the staging name: nobody reads it any more.
            old = self._root
            threading.Thread(
                target=shutil.rmtree, args=(old, True), name="icalpub-remove", daemon=True
            ).start()
        else:
            shutil.rmtree(self._root, ignore_errors=True)
        self._stack.close()

    def add(
        self, path: str, data: bytes, digest: str | None = None, packed: bytes | None = None
    ) -> None:
        """Start compressing and writing the file `path` (refused if outside the layout).

        `digest` (its sha256, hex) and `packed` (its gzip bytes) spare the work when known.
        """
        _check_path(path)
        target = f"{self._root}/{path}"  # strings: 20,000 Path objects cost a tenth of a second
        folder = path.rpartition("/")[0]
        if folder not in self._made:
            parent = self._root / folder
            try:
                parent.mkdir(parents=True, exist_ok=True)
                # Readable by the web server whatever the umask, as the files are.
                for made in [parent, *parent.parents]:
                    if made == self._root:
                        break
                    if made not in self._folders:
                        os.chmod(made, 0o755)
                        self._folders.add(made)
            except OSError as exc:
                raise BuildError(describe(exc)) from None
            self._made.add(folder)
        self._added.add(path)
        self._sizes[path] = len(data)
        if not self._held:
            with self._room:  # rendering waits for a disk slower than it, holding less memory
                while self._in_flight > self.IN_FLIGHT:
                    self._room.wait()
                self._in_flight += len(data)
        item = (path, target, data, digest, packed)
        if len(data) >= self.BATCH:
            self._tasks.append(self._pool.submit(self._write, [item]))
            return
        self._batch.append(item)
        self._batch_size += len(data)
        if self._batch_size >= self.BATCH:
            self._submit()

    def handed(self) -> frozenset[str]:
        """Return the paths handed over so far."""
        return frozenset(self._added)

    def commit(
        self,
        files: Mapping[str, bytes],
        before_swap: Callable[[bytes], None] | None = None,
        dropped: Collection[str] = (),
        prepared: Mapping[str, tuple[str, bytes]] | None = None,
    ) -> None:
        """Make the tree exactly `files` and `dropped` (+ .gz twins and index.json), swap it in.

        `dropped` are files handed over and not kept by the caller (a build's
        event files). `before_swap` is handed index.json's bytes when the tree
        is complete, just before the swap (the build writes the pending ledger then).
        `prepared` holds the sha256 and gzip bytes of files, by path, where known.
        """
        digests: dict[str, str] = {}
        for path, data in files.items():
            if path not in self._added and not self._kept(path, data, digests):
                known = prepared.get(path) if prepared is not None else None
                self.add(path, data, *(known or ()))
        if self._added != files.keys() | dropped:
            raise BuildError(f"handed over but not published: {sorted(self._added - set(files))}")
        self._submit()
        try:
            for task in self._tasks:
                digests.update(task.result())  # each file hashed by the thread that wrote it
            self._remove_stale()
            index = manifest_of(self._sizes, digests, self._written)
            if before_swap is not None:
                before_swap(index)
            _create(self._root / "index.json", index)
            os.chmod(self._root, 0o755)
            if self._reuse and len(self._created) <= self.FEW:
                # Linked files were flushed with their first tree: the new ones and the folders,
                # all at once (the file system commits them together: an edit's ~25 flushes
                # take half the time they take one after the other).
                names = [*self._created, *map(str, self._folders), *sorted(self._touched)]
                with ThreadPoolExecutor(max_workers=FLUSHES) as flushing:
                    list(flushing.map(fsync_path, names))
            else:
                # One flush of the whole file system before the swap, rather than one per file.
                _sync_file_system(self._root)
            _swap(self._root, self.out)
            self._swapped = True
        except OSError as exc:
            raise BuildError(describe(exc)) from None
        if self._known is not None:
            self._known.clear()
            self._known.update(
                (path, (data, digests[path]))
                for path, data in files.items()
                if len(data) < self.BATCH
            )

    def _kept(self, path: str, data: bytes, digests: dict[str, str]) -> bool:
        """Return whether the spare holds the very bytes the last commit had at `path` (the
        same object: an unchanged event's file), recording them as published if so: an
        edit then costs nothing per unchanged file but this look."""
        known = self._known.get(path) if self._known is not None else None
        if known is None or known[0] is not data or self._spare.get(path) != known[1]:
            return False
        self._added.add(path)
        self._sizes[path] = len(data)
        digests[path] = known[1]
        return True

    def _take_spare(self) -> None:
        """Make the new tree from the spare the last swap left, if there is a good one."""
        spare = _spare_path(self.out)
        if not spare.is_dir():
            return
        digests = _published_digests(spare)
        leftover = self._root
        if digests:
            os.rmdir(self._root)
            os.rename(spare, self._root)  # a staging name: a crash from here on removes it
            try:
                os.unlink(self._root / "index.json")
            except OSError:
                shutil.rmtree(self._root, ignore_errors=True)
                os.mkdir(self._root)
                return
            self._spare = digests
            self._made.update(path.rpartition("/")[0] for path in digests)
            return
        os.rename(spare, f"{leftover}-spare")  # unreadable: removed with the leftovers
        _remove_leftovers(self.out.parent, self.out.name, keep=leftover)

    def _remove_stale(self) -> None:
        """Remove the spare's files that are not published any more (and emptied folders)."""
        for path in sorted(set(self._spare) - self._added):
            target = f"{self._root}/{path}"
            _unlink(target)
            _unlink(f"{target}.gz")
            folder = os.path.dirname(target)
            self._touched.add(folder)
            while folder != str(self._root):
                try:
                    os.rmdir(folder)  # only when empty
                except OSError:
                    break
                self._touched.discard(folder)
                folder = os.path.dirname(folder)
                self._touched.add(folder)

    def _submit(self) -> None:
        if self._batch:
            self._tasks.append(self._small.submit(self._write, self._batch))
            self._batch, self._batch_size = [], 0

    def _write(self, batch: list[_Item]) -> dict[str, str]:
        """Write (or link from the old tree) each file and its gzip twin; return their sha256."""
        try:
            return self._write_all(batch)
        finally:
            if not self._held:
                self._release(batch)

    def _release(self, batch: list[_Item]) -> None:
        with self._room:
            self._in_flight -= sum(len(item[2]) for item in batch)
            self._room.notify_all()

    def _write_all(self, batch: list[_Item]) -> dict[str, str]:
        digests = {}
        created = self._created
        for path, target, data, given, packed in batch:
            known = self._known.get(path) if self._known is not None else None
            digest = given or (known[1] if known is not None and known[0] is data else None)
            digest = digest or hashlib.sha256(data).hexdigest()
            digests[path] = digest
            if path in self._spare:
                if self._spare[path] == digest:
                    continue  # the spare holds these bytes and their gzip twin already
                _unlink(target)
                _unlink(f"{target}.gz")
                self._touched.add(os.path.dirname(target))
            if self._old.get(path) == digest and _link(f"{self.out}/{path}", target):
                if _link(f"{self.out}/{path}.gz", f"{target}.gz"):
                    continue
            else:
                _create(target, data, self._fix_mode)
                created.append(target)
            if packed is None:
                packed = gzipped.compress(data, keep=False)[0]
            _create(f"{target}.gz", packed, self._fix_mode)
            created.append(f"{target}.gz")
        return digests


def _published_digests(out: Path) -> dict[str, str]:
    """Return the sha256 of each file of the tree in `out` by path, from its index.json."""
    try:
        entries = json.loads((out / "index.json").read_bytes())["files"]
        return {entry["path"]: entry["sha256"] for entry in entries}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.info("not reusing the files of %s: %s", out, exc)
        return {}


def _link(source: str, target: str) -> bool:
    """Hard-link `source` as the new file `target`; return False when it cannot be."""
    try:
        os.link(source, target)
    except OSError:
        return False
    return True


def _create(path: str | Path, data: bytes, fix_mode: bool = True) -> None:
    """Write a new file (never an existing one: two paths can never write one file).

    Its mode is 0644 whatever the umask: `fix_mode` false says the umask keeps
    it so (one system call less for each of a large build's 20,000 files).
    """
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        if fix_mode:
            os.fchmod(handle, 0o644)
        view = memoryview(data)
        while view:
            view = view[os.write(handle, view) :]
    finally:
        os.close(handle)


def umask_narrows(mode: int) -> bool:
    """Return whether the process's umask takes bits off `mode` (unknown: assume it does).

    Read from /proc (Linux): `os.umask` can only be read by setting it, which
    would race with other threads creating files.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return bool(int(line.split()[1], 8) & mode)
    except (OSError, ValueError):
        pass
    return True


def _swap(staging: Path, out: Path) -> None:
    if not out.exists():
        os.rename(staging, out)
    elif not _exchange(staging, out):
        # Without renameat2 there is a moment with no tree; never a mixed one.
        old = staging.with_name(staging.name + "-old")
        os.rename(out, old)
        os.rename(staging, out)
        os.rename(old, staging)
    fsync_dir(out.parent)


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


def _remove_leftovers(parent: Path, name: str, keep: Path | None = None) -> None:
    for leftover in parent.glob(f".{name}.new-*"):
        if leftover != keep:
            shutil.rmtree(leftover, ignore_errors=True)


def _spare_path(out: Path) -> Path:
    return out.with_name(f".{out.name}.spare")


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


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
