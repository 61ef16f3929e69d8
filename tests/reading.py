"""Read registries from bytes or paths in tests, the way the service and the CLI do."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from icalpub.errors import Problem
from icalpub.model import Registry
from icalpub.reader import read_source
from icalpub.registry import Raw, interpret

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def parse(data: bytes, filename: str = "events.yaml") -> tuple[Registry | None, list[Problem]]:
    """Return the registry in `data` (None on any error) and every problem, with no ledger."""
    source = interpret(filename, Raw(data, None, EPOCH))
    return source.registry, source.problems


def read(path: str | Path) -> tuple[Registry | None, list[Problem]]:
    """Return the registry at `path` (None on any error) and every problem, ledger included."""
    source = read_source(path)
    return source.registry, source.problems
