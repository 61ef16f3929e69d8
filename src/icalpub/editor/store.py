"""Save an editor's change to `events.yaml`: checked, atomic, never over another's edit.

One save, under a lock shared by every worker and process: read the file as it
is now, refuse the change if the event changed since the editor opened it,
splice the change into the text (`yamltext`), check the whole registry with
the reader (the same messages as `icalpub validate`), write the registry and
its ledger (so SEQUENCE and LAST-MODIFIED move at once), and record it
(`history`). Any refusal leaves both files as they were.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import threading
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from .. import ledger as ledgers
from ..errors import BuildError, IcalpubError, Problem
from ..files import LockTimeout, describe, write_file
from ..model import Registry
from ..reader import read_raw
from ..registry import Raw, Source, interpret
from ..reread import Known
from ..schedule import published
from ..site import ledger_path
from ..untracked import writers_lock
from . import yamltext
from .history import Author, History
from .refusals import (
    Broken,
    Busy,
    Conflict,
    Exists,
    Invalid,
    NotFound,
    Refused,
    Unsaved,
    placed,
)
from .yamltext import Document, EditError, Fields, Item

log = logging.getLogger("icalpub.editor")
LOCK_WAIT = 10.0  # seconds a save waits for another writer, well inside a worker's timeout
ATTEMPTS = 5  # a file changed by hand during a save: the change is made again this often
Action = Literal["add", "edit", "delete"]
Texts = str | dict[str, str]  # one text, or one per language


@dataclass(frozen=True)
class Change:
    """What an editor asks for of one event: its new fields, and the version it was opened on."""

    action: Action
    event_id: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    version: str | None = None  # required for edit and delete
    verb: str = ""  # the history's word for it, when not the action's ("Cancel", "Restore")
    approved_by: str = ""  # "name <email>" of the publisher who approved an author's proposal


@dataclass(frozen=True)
class CalendarChange:
    """New calendar settings, and the version of the `calendar:` mapping they were opened on."""

    fields: Mapping[str, Any]
    version: str | None


@dataclass(frozen=True)
class TopicChange:
    """A new topic, or new titles for one; its description is kept as written.

    `version` is that of the whole `topics:` mapping (None: a new topic).
    """

    topic: str
    titles: Mapping[str, str]
    description: Texts = ""
    version: str | None = None


Edit = Change | CalendarChange | TopicChange


@dataclass(frozen=True)
class Saved:
    """A change that is in the file: the event's new version and the history's message.

    `history_error` says why the change is not in git's history yet (it is
    queued and committed under its own author as soon as git works again).
    """

    event_id: str
    version: str | None
    message: str
    history_error: str = ""
    fields: Fields | None = None  # the event as saved (None: deleted, or not an event)


@dataclass(frozen=True)
class State:
    """The registry as it is on disk now: its text, its events and the reader's verdict."""

    document: Document
    source: Source

    @property
    def registry(self) -> Registry | None:
        """Return the valid registry, or None when the file has errors."""
        return self.source.registry


@dataclass(frozen=True)
class Seen:
    """A registry as a reconcile saw it: its events' content hashes and outcomes, by id.

    A later read that reuses an unchanged event's very object (`reread`) reuses
    these too, as long as the topics and default contact are equal."""

    registry: Registry
    hashes: Mapping[str, str]
    memo: Mapping[str, ledgers.Remembered]


class Neighbour(Protocol):
    """This process's other reader of the registry: the live publication."""

    def last_read(self) -> tuple[Known, Seen] | None:
        """Return its last read of the file and what its reconcile saw."""

    def held(self) -> AbstractContextManager[None]:
        """Return a context in which it starts no reload (a save is being made)."""


class Store:
    """Reads and saves one registry file for the editor.

    A `neighbour`'s last read (the live publication's) is where the store's
    first read starts, and its events' hashes hold for the events read from it,
    so a worker's first save costs what its later ones do; while a save is
    written and answered, the neighbour holds its reload.
    """

    def __init__(
        self, path: str | Path, history: History, neighbour: Neighbour | None = None
    ) -> None:
        self.path = Path(path)
        self.history = history
        self.neighbour = neighbour
        self._lock_checked = False  # whether git was told to leave the writers' lock alone
        self._reading = threading.Lock()  # one read per version, also for the warm-up
        self._cached: tuple[Raw, State] | None = None
        # What the next read starts from: the last state's, or the last save's candidate
        # (the very bytes it wrote, so the state after a save is read at once).
        self._known: Known | None = None
        self._last: Seen | None = None  # the last save's registry, as its reconcile saw it
        self._ledger_text: dict[str, tuple[ledgers.Entry, str]] = {}  # each entry's, as written

    def state(self) -> State:
        """Return the registry as it is now (raise Refused when it cannot be read,
        Broken when it cannot be edited as text)."""
        return self._state(self._read())

    def warm(self) -> None:
        """Read the file now (a worker's start), so that its first visitor does not wait."""
        with contextlib.suppress(IcalpubError):  # a broken file is shown when opened
            self.state()

    def save(self, change: Edit, author: Author, now: dt.datetime) -> Saved:
        """Apply `change` to the file as it is now; raise Refused (nothing written) if not.

        The ledger is first brought up to the file as it was before the change
        (what subscribers were served, at the file's save time), so the change
        itself always moves SEQUENCE and LAST-MODIFIED. Just before writing, the
        file is compared with what was read: a hand edit or `git pull` made
        meanwhile is never overwritten — the change is made again on the new
        text, or refused when it touched the same event (Conflict).
        """
        now = now.astimezone(dt.UTC).replace(microsecond=0)
        try:
            # Kept out of git: once per store, also when another writer made it (a service
            # publishing at start, a build, an older icalpub), not only when made now.
            with writers_lock(self.path, LOCK_WAIT, check=not self._lock_checked):
                self._lock_checked = True
                with self.neighbour.held() if self.neighbour else contextlib.nullcontext():
                    try:
                        saved = self._save(change, author, now)
                    except BaseException:
                        self.history.forget()  # git need not keep what was not saved
                        raise
        except LockTimeout:
            raise Busy(
                f"{self.path.name} is being changed by another writer (a build, `icalpub "
                "pull`, a hand edit under flock); nothing was saved"
            ) from None
        except OSError as exc:  # the lock file itself cannot be made (a read-only disk)
            raise Unsaved(f"{describe(exc)}; nothing was saved") from None
        self.history.published(self.path)  # a push, outside the lock
        return saved

    def _save(self, change: Edit, author: Author, now: dt.datetime) -> Saved:
        """Save under the lock: the steps of `save`, tried again when the file moved."""
        for _ in range(ATTEMPTS):
            raw = self._read()
            state = self._state(raw)
            text, changed, candidate = self._candidate(state, raw, change)
            assert candidate.registry is not None and candidate.raw is not None
            data = candidate.raw.registry
            self.history.prepare(self.path, data)  # git keeps the bytes while the ledger is made
            final, after, ledger = self._ledger(state, raw, candidate.registry, now)
            self.history.prepare(ledger_path(self.path), ledger)
            seen_file = _signature(self.path)
            # Checked again just before the rename: a hand edit saved meanwhile is kept.
            if self._still(raw) and _write_both(self.path, raw, data, ledger, seen_file):
                self._last = Seen(after, final.hashes, final.memo)
                self._known = candidate.reusable
                break
            log.info("%s changed during a save; making the change again", self.path)
        else:
            raise Busy(f"{self.path.name} kept changing while saving; nothing was saved")
        message = _message(change, changed)
        log.info("%s <%s>: %s", author.name, author.email, message)
        error = self.history.record(
            self.path, author, message, before=raw.registry, after=data, ledger=ledger, when=now
        )
        if not isinstance(change, Change):
            return Saved("", None, message, error)
        document = yamltext.read(text, state.document)  # the one the splice checked
        item = document.item(change.event_id)
        if item is None:
            return Saved(change.event_id, None, message, error)
        return Saved(change.event_id, item.version, message, error, document.values(item))

    def _ledger(
        self, state: State, raw: Raw, candidate: Registry, now: dt.datetime
    ) -> tuple[ledgers.Reconciled, Registry, bytes]:
        """Return the ledger's reconcile with the candidate, its published registry and bytes.

        The ledger is first brought up to the file as it is (changes made since
        it was written count as made when the file was saved); then the edit is
        a change at `now`. Unchanged events (the same objects) keep what is known.
        """
        served = state.source.ledger
        # The file before the edit: a moved event's start is kept as previous_start.
        earlier: tuple[Registry, Mapping[str, str]] | None = None
        memo = None
        if state.registry is not None:  # else the service still serves an older one
            seen = ledgers.seen_at(served, raw.modified, now)
            before = published(state.registry, seen, served)
            hashes, memo = self._outcomes(before)
            first = ledgers.reconcile(before, served, seen, memo=memo or None, hashes=hashes)
            served, earlier, memo = first.ledger, (before, first.hashes), first.memo
        after = published(candidate, now, served)  # drafts never enter the ledger
        # The candidate's unchanged events are the objects of `before`: `earlier` has them.
        final = ledgers.reconcile(after, served, now, earlier, memo)
        return final, after, ledgers.dumps(final.ledger, self._ledger_text)

    def _outcomes(
        self, registry: Registry
    ) -> tuple[dict[str, str], Mapping[str, ledgers.Remembered]]:
        """Return the content hashes and reconcile outcomes known for `registry`'s events:
        the last save's, else the neighbour's (whose read this store's first started from),
        for the very objects they saw, as long as the topics and contact are equal."""
        seen = self._last
        if seen is None and self.neighbour is not None:
            other = self.neighbour.last_read()
            seen = other[1] if other else None
        if seen is None:
            return {}, {}
        hashes = ledgers.kept_hashes(registry, (seen.registry, seen.hashes))
        return hashes, seen.memo if hashes else {}

    def _read(self) -> Raw:
        raw = read_raw(self.path)
        if isinstance(raw, Problem):
            raise Refused(str(raw))
        return raw

    def _still(self, raw: Raw) -> bool:
        """Return whether the registry and ledger on disk are still the ones in `raw`."""
        now = read_raw(self.path)
        return (
            not isinstance(now, Problem)
            and now.registry == raw.registry
            and now.ledger == raw.ledger
        )

    def preview(self, change: Edit) -> Registry:
        """Return the registry as it would be after `change`; raise Refused if it cannot be."""
        raw = self._read()
        registry = self._candidate(self._state(raw), raw, change)[2].registry
        assert registry is not None
        return registry

    # -- inside the lock ---------------------------------------------------------

    def _state(self, raw: Raw) -> State:
        """Return the file's document and the reader's verdict, each read once per version."""
        with self._reading:
            return self._state_locked(raw)

    def _state_locked(self, raw: Raw) -> State:
        if self._cached is not None and self._cached[0] == raw:
            return self._cached[1]
        # An edit inside the events list since the last version: only its items are read.
        last = self._cached[1] if self._cached is not None else None
        if self._known is None:  # this worker's first read: from the live publication's
            other = self.neighbour.last_read() if self.neighbour else None
            self._known = other[0] if other else None
        source = interpret(str(self.path), raw, self._known)
        self._known = source.reusable
        try:
            document = yamltext.read_bytes(raw.registry, last.document if last else None)
        except EditError:
            raise Broken([p for p in source.problems if p.severity == "error"]) from None
        state = State(document, source)
        self._cached = (raw, state)
        return state

    def _candidate(self, state: State, raw: Raw, change: Edit) -> tuple[str, list[str], Source]:
        """Return the text after `change`, the fields it changes, and the registry it reads as."""
        text, changed = self._apply(state, change)
        # Events whose text is unchanged are taken as read, not checked again.
        candidate = interpret(
            str(self.path),
            Raw(text.encode("utf-8"), raw.ledger, raw.modified),
            state.source.reusable,
        )
        if candidate.registry is None:
            edited = change.event_id if isinstance(change, Change) else ""
            raise Invalid(placed(candidate.problems, text, edited))
        return text, changed, candidate

    def _apply(self, state: State, change: Edit) -> tuple[str, list[str]]:
        document = state.document
        if isinstance(change, CalendarChange):
            return _calendar(document, change)
        if isinstance(change, TopicChange):
            return _topic(document, change)
        item = document.item(change.event_id)
        if change.action == "add":
            ledger = state.source.ledger
            if item is not None or change.event_id in ledger.entries:
                raise Exists(_taken(change.event_id, item))
            fields = dict(change.fields, id=change.event_id)
            return yamltext.insert(document, fields, _after(state, fields)), []
        if item is None:
            raise (
                Conflict(change.event_id, None, None)
                if change.version
                else NotFound(f"there is no event '{change.event_id}'")
            )
        if change.version != item.version:
            raise Conflict(change.event_id, document.values(item), item.version)
        if change.action == "delete":
            return yamltext.delete(document, change.event_id), []
        before = document.values(item)
        after = yamltext.normalize(dict(change.fields, id=change.event_id))
        changed = [k for k in sorted({*before, *after}) if before.get(k) != after.get(k)]
        return yamltext.replace(document, change.event_id, after), changed


def _calendar(document: Document, change: CalendarChange) -> tuple[str, list[str]]:
    current = document.section_values("calendar")
    if change.version != document.section_version("calendar"):
        version = document.section_version("calendar")
        raise Conflict("calendar", current, version, what="the calendar settings")
    wanted = yamltext.normalize(change.fields)
    changed = [k for k in sorted({*current, *wanted}) if current.get(k) != wanted.get(k)]
    return yamltext.set_calendar(document, wanted), changed


def _topic(document: Document, change: TopicChange) -> tuple[str, list[str]]:
    topics = document.section_values("topics")
    exists = change.topic in topics
    if change.version is None and exists:
        raise Exists(f"there is already a topic '{change.topic}'; choose another id")
    if change.version is not None and change.version != document.section_version("topics"):
        version = document.section_version("topics")
        raise Conflict(change.topic, topics, version, what="the topics")
    text = yamltext.set_topic(document, change.topic, change.titles, change.description)
    return text, ["title"] if exists else []


def _write_both(
    path: Path, raw: Raw, registry: bytes, ledger: bytes, seen: tuple[int, int, int] | None
) -> bool:
    """Write the registry, then its ledger; if the ledger cannot be written, put the
    registry back, so both are as they were (raise Unsaved) or both are new.

    Return False, writing nothing, when the registry's `_signature` is not `seen`
    any more just before it would have been replaced (saved by hand meanwhile)."""
    try:
        if not write_file(path, registry, unchanged=lambda: _signature(path) == seen):
            return False
    except BuildError as exc:
        raise Unsaved(f"{exc}; nothing was saved") from None
    try:
        if raw.ledger != ledger:
            write_file(ledger_path(path), ledger)
    except BuildError as exc:
        try:
            write_file(path, raw.registry)
        except BuildError:
            # The registry is new and its ledger old: a ledger behind, which every
            # reader handles (the next save or build brings it up to the file).
            log.error("%s: the ledger could not be written nor the registry put back", path)
        raise Unsaved(f"{exc}; nothing was saved") from None
    return True


def _signature(path: Path) -> tuple[int, int, int] | None:
    """Return what tells a file replaced or written: its inode, time and size."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_ino, info.st_mtime_ns, info.st_size)


def _taken(event_id: str, item: Item | None) -> str:
    if item is not None:
        return f"an event with the id '{event_id}' exists; choose another id"
    return (
        f"the id '{event_id}' belonged to an event that was deleted; subscribers still "
        "have it, so it is never used again — choose another id"
    )


def _after(state: State, fields: Mapping[str, Any]) -> str | None:
    """Return the event a new one goes after: the last that starts no later (file order)."""
    start = str(fields.get("start", ""))
    chosen: str | None = None
    for item in state.document.items:
        value = state.document.values(item).get("start", "")
        if isinstance(value, str) and _start_key(value) <= _start_key(start):
            chosen = item.id
    return chosen


def _start_key(text: str) -> str:
    """Return a start as comparable text: `2022-01-12 10:00` and `2022-01-12T10:00` alike."""
    return text.strip().replace("T", " ")


def _message(change: Edit, changed: list[str]) -> str:
    if isinstance(change, CalendarChange):
        return "Edit calendar settings: " + ", ".join(changed) if changed else "Edit calendar"
    if isinstance(change, TopicChange):
        return f"{'Edit' if changed else 'Add'} topic {change.topic}"
    verb = change.verb or {"add": "Add", "edit": "Edit", "delete": "Delete"}[change.action]
    detail = f": {', '.join(changed)}" if changed and not change.verb else ""
    trailer = f"\n\nApproved-by: {change.approved_by}" if change.approved_by else ""
    return f"{verb} {change.event_id}{detail}{trailer}"
