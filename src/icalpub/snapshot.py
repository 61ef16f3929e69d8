"""The last good input of one server run, kept so that a replaced worker can go on serving.

A gunicorn worker that is replaced (it crashed, or `max_requests`) while the
registry on disk is broken must not take the service down: it starts from the
last input its siblings loaded. A new server must never do that — it refuses
to start on a broken registry — so the snapshot is keyed to the server run:
a gunicorn worker's run is its master process (pid and start time); any other
process (the development server, a script, a test) is a run of its own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import sys
from pathlib import Path

from .errors import BuildError
from .files import write_file
from .registry import Raw

log = logging.getLogger("icalpub")


def run_key() -> str:
    """Return what identifies this server run: its master's or its own pid and start time."""
    # Only gunicorn's workers are forked by a master of the same run.
    pid = os.getppid() if "gunicorn.arbiter" in sys.modules else os.getpid()
    try:
        started = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        started = "0"
    return f"{pid}|{started}"


class Snapshot:
    """The last good registry and ledger bytes of one registry file in one server run."""

    def __init__(self, registry: Path, folder: Path) -> None:
        key = f"{registry.resolve()}|{run_key()}"
        digest = hashlib.sha256(key.encode()).hexdigest()[:24]
        self.path = folder / f"{digest}.last-good"
        self._saved: Raw | None = None

    def save(self, raw: Raw | None) -> None:
        """Keep `raw` as the last good input (once per distinct input; a failure is logged)."""
        if raw is None or raw == self._saved:
            return
        meta = json.dumps(
            {
                "modified": int(raw.modified.timestamp()),
                "registry": len(raw.registry),
                "ledger": -1 if raw.ledger is None else len(raw.ledger),
            }
        )
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_file(self.path, meta.encode() + b"\n" + raw.registry + (raw.ledger or b""))
        except (OSError, BuildError) as exc:
            log.warning("cannot keep the last good version at %s: %s", self.path, exc)
            return
        self._saved = raw

    def load(self) -> Raw | None:
        """Return the last good input of this run, or None when there is none (or it is bad)."""
        try:
            data = self.path.read_bytes()
            head, _, body = data.partition(b"\n")
            meta = json.loads(head)
            registry = body[: meta["registry"]]
            ledger = None if meta["ledger"] < 0 else body[meta["registry"] :]
            modified = dt.datetime.fromtimestamp(meta["modified"], dt.UTC)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        raw = Raw(registry, ledger, modified)
        self._saved = raw
        return raw
