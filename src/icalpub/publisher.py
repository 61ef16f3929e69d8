"""Publish on change: the service writes the static tree each time it loads a new version.

nginx then answers the polls from files while the service keeps pages, unions
and the editor live. The tree is written from the publication the worker
already holds (no second compile), with `build.write_publication` — the same
atomic swap and bytes as `icalpub build`; the ledger is left to the editor and
the build (SPEC §5), so the registry's work tree stays as git has it. Several workers load the
same version: each takes the registry's write lock (the editor's and the
build's too) and writes only if the tree does not hold that version yet, and
only if the files on disk are still the ones it loaded (else a newer load is
coming and publishes). A broken registry is never loaded, so nothing is
written and the last good tree stays. The version the tree holds is kept
beside it, in `.<tree>.version`, for /healthz.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

from .build import write_publication
from .errors import BuildError, Problem
from .files import LockTimeout, locked, write_file
from .reader import read_raw
from .served import Served
from .site import publishing_turn_path, tree_version_path
from .untracked import writers_lock

log = logging.getLogger("icalpub")


class Publisher:
    """Writes one registry's static tree to `out` when a new version is loaded."""

    TURN_WAIT = 10.0  # seconds a worker waits for another's load and publication

    def __init__(self, registry: str | Path, out: str | Path) -> None:
        self.registry = Path(registry)
        self.out = Path(out).absolute()
        self.marker = tree_version_path(self.out)
        self._known: dict[str, tuple[bytes, str]] = {}  # the last tree's small files, hashed
        self._written: dict[str, tuple[int, str, str]] = {}  # its index.json's entries

    def version(self) -> str | None:
        """Return the version the tree holds, or None before the first write."""
        try:
            return self.marker.read_text("ascii").strip() or None
        except OSError:
            return None

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        """Hold the publishing turn while loading a change: the first worker to see it
        loads and publishes it with both cores to itself (the tree is what subscribers
        poll); the others wait for that, at most TURN_WAIT seconds, then load it too
        and find it published."""
        with contextlib.ExitStack() as stack:
            try:
                self.out.parent.mkdir(parents=True, exist_ok=True)
                stack.enter_context(locked(publishing_turn_path(self.out), self.TURN_WAIT))
            except (LockTimeout, OSError) as exc:
                log.info("loading %s without waiting for the other workers: %s", self.registry, exc)
            yield

    def __call__(self, served: Served) -> bool:
        """Write `served` to the tree unless it is there already; return whether it wrote."""
        with writers_lock(self.registry):
            if self.version() == served.version and self.out.is_dir():
                return False
            raw = read_raw(self.registry)
            loaded = served.raw
            if loaded is None or isinstance(raw, Problem):
                return False
            if (raw.registry, raw.ledger) != (loaded.registry, loaded.ledger):
                log.info("%s changed since it was loaded; the next load publishes", self.registry)
                return False
            try:
                # Its calendars and feeds are hashed and gzipped already: not again.
                prepared = {
                    name: (found.sha256, found.gzipped) for name, found in served.resources.items()
                }
                write_publication(
                    served.publication, self.out, self._known, prepared, self._written
                )
                write_file(self.marker, served.version.encode() + b"\n")
            except BuildError as exc:
                log.error("publishing version %s to %s failed: %s", served.version, self.out, exc)
                return False
        log.info("published version %s to %s", served.version, self.out)
        return True
