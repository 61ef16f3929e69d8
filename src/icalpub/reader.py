"""Read a registry and its ledger from disk: the one reader of the registry's files.

`read_raw(path)` takes the bytes and the registry's save time, `read_source`
judges them with `registry.interpret`, and `load` raises instead of
returning problems.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from .errors import Problem, RegistryError
from .ledger import Ledger
from .model import Registry
from .registry import Raw, Source, interpret
from .reread import Known
from .site import ledger_path
from .yamlsafe import MAX_BYTES


def read_raw(path: str | Path) -> Raw | Problem:
    """Read the registry's and ledger's bytes and the registry's save time, or say why not."""
    try:
        with open(path, "rb") as handle:
            modified = os.fstat(handle.fileno()).st_mtime
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        return Problem(str(path), 1, 1, f"cannot read the registry: {exc.strerror}")
    lock = ledger_path(path)
    try:
        ledger: bytes | None = lock.read_bytes()
    except FileNotFoundError:
        ledger = None
    except OSError as exc:
        return Problem(str(lock), 1, 1, f"cannot read the ledger: {exc.strerror}")
    return Raw(data, ledger, dt.datetime.fromtimestamp(int(modified), dt.UTC))


def read_source(path: str | Path, known: Known | None = None) -> Source:
    """Read a registry and its ledger; the registry is None if either has an error.

    `known` is an earlier Source's `reusable`: events whose text is unchanged
    are taken from it instead of being checked and built again, and an edit
    inside the events list reads again only the items it touched (a reload).
    """
    raw = read_raw(path)
    if isinstance(raw, Problem):
        return Source(None, Ledger(), [raw], dt.datetime.fromtimestamp(0, dt.UTC))
    return interpret(str(path), raw, known)


def load(path: str | Path) -> Registry:
    """Read and validate the registry at `path` with its ledger; raise RegistryError if invalid."""
    source = read_source(path)
    if source.registry is None:
        raise RegistryError(source.problems)
    return source.registry
