"""Build: read the registry, publish it, and write the tree (`tree.Tree`) with its ledger.

`build_folder` is the whole build (read, publish, tree, ledger) as a library
function, for `icalpub build`; `write_publication` writes a publication
already in memory the same way (without the ledger), for the service's
publish-on-change. The tree and the ledger change together: the new ledger is
written beside the old one before the swap, named for the new tree's
index.json, and renamed over the old one after. A ledger left pending (the
rename failed, or the build was killed between the two) is taken up by the
next build before it reads anything if its tree is the one published, and
removed otherwise.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from . import gcpause
from . import ledger as ledgers
from .errors import BuildError, LedgerPendingError, Problem, RegistryError
from .files import describe, move, write_file
from .ledger import Stamp
from .model import Registry
from .publish import Publication, publish
from .reader import read_source
from .schedule import published
from .site import ledger_path
from .tree import Tree
from .untracked import writers_lock
from .zones import today_in

log = logging.getLogger("icalpub")


@dataclass(frozen=True)
class Built:
    """What a build did: the publication written, and the problems (warnings) found.

    The publication's `files` are empty: they were written, not kept.
    """

    registry: Registry
    publication: Publication
    problems: list[Problem]
    files: int = 0  # files written (without their gzip twins and index.json)


Renderer = Callable[[Registry, Mapping[str, Stamp]], Mapping[str, bytes]]


def build_folder(
    registry_path: str | Path,
    out: str | Path,
    now: dt.datetime,
    render: Renderer | None = None,
) -> Built:
    """Read the registry, write its publication to `out` and its ledger beside it, together.

    Raise RegistryError when the registry is invalid and BuildError when the
    files cannot be written; either way `out` and the ledger are as they were.
    """
    lock = ledger_path(registry_path)
    with writers_lock(registry_path), gcpause.paused():
        _adopt_pending_ledger(lock, Path(out))
        source = read_source(registry_path)
        if source.registry is None:
            raise RegistryError(source.problems)
        registry, ledger, problems = source.registry, source.ledger, source.problems
        modified = source.modified
        old = source.raw.ledger if source.raw is not None else None
        del source  # the file's text: a large registry's build needs the memory
        now = now.astimezone(dt.UTC).replace(microsecond=0)
        registry = published(registry, now, ledger)  # no drafts, nothing early
        today = today_in(registry.calendar.timezone, now)
        # Changes the ledger has not seen count as made when the file was saved, as the
        # service counts them (SPEC §5), so a build after a reload gives the same stamps.
        seen = ledgers.seen_at(ledger, modified, now)
        # Files go to disk (and gzip) on other cores while the rest are rendered, and
        # are not kept once handed over: a large registry's build needs the memory.
        with Tree(Path(out)) as tree:
            publication = publish(
                registry, ledger, seen, today, on_file=tree.add, render=render, keep=False
            )
            _commit(tree, publication.files, publication, old, lock, tree.handed())
    return Built(registry, publication, problems, len(tree.handed()))


def write_publication(
    publication: Publication,
    out: str | Path,
    known: dict[str, tuple[bytes, str]] | None = None,
    prepared: Mapping[str, tuple[str, bytes]] | None = None,
    written: dict[str, tuple[int, str, str]] | None = None,
) -> None:
    """Write a publication already in memory to `out`: the same tree and bytes as
    `build_folder` for the same registry and ledger, atomically.

    The ledger is not written (SPEC §5: only the editor and `icalpub build` write
    it): a service publishing its tree would otherwise leave `events.lock`
    changed in the registry's work tree, and `git pull` would refuse to run.
    The per-event files a service makes on demand are made here. `known` is
    kept by the caller between writes (see `Tree`); `prepared` holds the sha256 and
    gzip bytes the caller has of files (the service's resources), by path; `written`,
    kept by the caller too, index.json's entries as last written.
    """
    with gcpause.paused():
        files = {**publication.event_files(), **publication.files}
        # What the tree holds already is linked, not written: an edit writes what it changed.
        tree = Tree(Path(out), reuse=True, known=known, held=True, recycle=True, written=written)
        with tree:
            tree.commit(dict(sorted(files.items())), before_swap=None, prepared=prepared)


def _commit(
    tree: Tree,
    files: Mapping[str, bytes],
    publication: Publication,
    old_ledger: bytes | None,
    lock: Path,
    dropped: Collection[str] = (),
) -> None:
    """Swap the tree in with its ledger: the new ledger waits beside the old one until then."""
    new_ledger = ledgers.dumps(publication.reconciled.ledger)
    pending: Path | None = None

    def write_pending(index: bytes) -> None:
        # Named for the tree it belongs to: only that tree's ledger is ever taken up.
        nonlocal pending
        pending = _pending(lock, index)
        write_file(pending, new_ledger)  # a full disk stops the build here

    try:
        tree.commit(files, None if old_ledger == new_ledger else write_pending, dropped)
    except BaseException:
        if pending is not None:
            pending.unlink(missing_ok=True)
        raise
    if pending is not None:
        try:
            move(pending, lock)
        except OSError as exc:
            raise LedgerPendingError(
                f"{tree.out} holds the new publication, but {lock.name} could not be replaced "
                f"({describe(exc)}); the new ledger waits in {pending.name} and the next "
                "build takes it up"
            ) from None


def _adopt_pending_ledger(lock: Path, out: Path) -> None:
    """Finish the ledger update a build left pending for the tree now in `out`.

    A pending ledger is named for the index.json of the tree it was written
    with; one whose tree was never swapped in (the build was killed before)
    is removed.
    """
    try:
        index = (out / "index.json").read_bytes()
    except OSError:
        index = b""
    published = _pending(lock, index) if index else None
    for path in sorted(lock.parent.glob(f".{lock.name}.pending-*")):
        try:
            if path == published:
                move(path, lock)
            else:
                path.unlink()
        except OSError as exc:
            raise BuildError(
                f"cannot take up the pending ledger {path.name}: {describe(exc)}"
            ) from None


def _pending(lock: Path, index: bytes) -> Path:
    digest = hashlib.sha256(index).hexdigest()[:16]
    return lock.with_name(f".{lock.name}.pending-{digest}")
