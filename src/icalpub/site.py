"""Where everything is on disk: the files icalpub keeps beside a registry, named in one place.

For `/srv/icalpub/events.yaml`:

    events.yaml                 the registry (edited by hand or by the editor)
    events.lock                 its ledger (SPEC §5): commit it with the registry
    .events.yaml.edit-lock      held by every writer of the two (editor, build, publisher, pull)
    events.audit.jsonl          the editor's history when the folder is not a git work tree
    editors.toml                the editor's accounts (the `editors` setting moves it)
    .editors.toml.secret        the key that signs session cookies, unless `secret_key` is set

and beside a static tree `feeds/`: `.feeds.lock` (one build at a time),
`.feeds.version` (the version the service last published there), `.feeds.turn`
(the service's workers load and publish a change one after the other) and
`.feeds.spare` (the tree before last, the next tree's working copy). The state
folder (the `state_dir` setting; by default one per registry, see
`default_state_dir`) holds each server run's last good version, the
subscriber counts, and the editor's login failures and open sessions.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


def ledger_path(registry: str | Path) -> Path:
    """Return where the ledger of a registry lives: beside it, `events.lock` for `events.yaml`."""
    return Path(registry).with_suffix(".lock")


def write_lock_path(registry: str | Path) -> Path:
    """Return the lock file every writer of a registry or its ledger holds while it writes."""
    path = Path(registry)
    return path.with_name(f".{path.name}.edit-lock")


def audit_path(registry: str | Path) -> Path:
    """Return the editor's audit log of a registry: `events.audit.jsonl` for `events.yaml`."""
    return Path(registry).with_suffix(".audit.jsonl")


def editors_path(registry: str | Path, configured: Path | None = None) -> Path:
    """Return the editors file of a registry: `configured`, else editors.toml beside it."""
    return configured if configured is not None else Path(registry).parent / "editors.toml"


def session_key_path(editors: Path) -> Path:
    """Return the file that keeps the key signing session cookies, beside the editors file."""
    return editors.with_name(f".{editors.name}.secret")


def default_state_dir(registry: str | Path) -> Path:
    """Return the state folder of a registry when none is configured: a private folder in the
    temp directory, one per registry (keyed by its resolved path), so that two registries
    served on one machine never share counts, snapshots, throttles or sessions."""
    path = Path(registry).resolve()
    key = hashlib.sha256(str(path).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"icalpub-{os.getuid()}" / f"{path.stem}-{key}"


def tree_lock_path(tree: Path) -> Path:
    """Return the lock a build of the static tree `tree` holds (one build at a time)."""
    return tree.parent / f".{tree.name}.lock"


def publishing_turn_path(tree: Path) -> Path:
    """Return the lock the service's workers take turns with to load and publish a change."""
    return tree.parent / f".{tree.name}.turn"


def tree_version_path(tree: Path) -> Path:
    """Return the file naming the version the service last published into `tree`."""
    return tree.with_name(f".{tree.name}.version")


@dataclass(frozen=True)
class Site:
    """One registry's files: the registry, its ledger, locks, audit log and editors file."""

    registry: Path
    editors: Path
    state_dir: Path

    @property
    def ledger(self) -> Path:
        """The ledger beside the registry."""
        return ledger_path(self.registry)

    @property
    def write_lock(self) -> Path:
        """The lock every writer of the registry or its ledger holds."""
        return write_lock_path(self.registry)

    @property
    def audit_log(self) -> Path:
        """The editor's history when the registry is not in a git work tree."""
        return audit_path(self.registry)

    @property
    def session_key(self) -> Path:
        """The kept key that signs the editor's session cookies."""
        return session_key_path(self.editors)
