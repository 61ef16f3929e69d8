"""Save an editor's change to `events.yaml`: checked, atomic, never over another's edit.

One save, under a lock shared by every worker and process: read the file as it
is now, refuse the change if the event changed since the editor opened it,
splice the change into the text (`yamltext`), check the whole registry with
the reader (the same messages as `icalpub validate`), write the registry and
its ledger (so SEQUENCE and LAST-MODIFIED move at once), and record it
(`history`). Any refusal leaves both files as they were.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .. import ledger as ledgers
from ..errors import IcalpubError, Problem
from ..files import locked, write_file
from ..model import Registry
from ..registry import Raw, Source, interpret, ledger_path, read_raw, write_lock_path
from . import yamltext
from .history import Author, History
from .yamltext import Document, Fields, Item

log = logging.getLogger("icalpub.editor")
Action = Literal["add", "edit", "delete", "calendar", "topic"]


@dataclass(frozen=True)
class Change:
    """What an editor asks for: the event, its new fields, and the version it was opened on.

    "calendar" changes the calendar settings (`event_id` is "calendar"); "topic"
    adds or retitles the topic `event_id` (fields: `title` per language,
    `description`), its version being that of the whole topics mapping.
    """

    action: Action
    event_id: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    version: str | None = None  # required for edit and delete
    verb: str = ""  # the history's word for it, when not the action's ("Cancel", "Restore")


@dataclass(frozen=True)
class Saved:
    """A change that is in the file: the event's new version and the history's message."""

    event_id: str
    version: str | None
    message: str


class Refused(IcalpubError):
    """A change that was not saved; nothing was written."""


class NotFound(Refused):
    """There is no such event (any more)."""


class Exists(Refused):
    """A new event's id is taken: by an event in the file, or by one deleted before."""


class Conflict(Refused):
    """The event changed since the editor opened it; here is how it is now."""

    def __init__(
        self, event_id: str, current: Fields | None, version: str | None, what: str = ""
    ) -> None:
        what = what or f"event '{event_id}'"
        how = "was deleted" if current is None else "was changed by someone else"
        super().__init__(f"{what} {how} since you opened it; nothing was saved")
        self.current = current
        self.version = version


class Invalid(Refused):
    """The change would make the registry invalid; each problem names its field."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(p.message for p in problems) or "the registry is invalid")
        self.problems = problems


@dataclass(frozen=True)
class FieldProblem:
    """A validator's message, placed on a field of the edited event ("" for the event)."""

    field: str
    message: str
    hint: str = ""
    line: int = 0

    @property
    def text(self) -> str:
        """Return the message and its hint as `icalpub validate` prints them."""
        return f"{self.message}; {self.hint}" if self.hint else self.message


@dataclass(frozen=True)
class State:
    """The registry as it is on disk now: its text, its events and the reader's verdict."""

    document: Document
    source: Source

    @property
    def registry(self) -> Registry | None:
        """Return the valid registry, or None when the file has errors."""
        return self.source.registry


class Store:
    """Reads and saves one registry file for the editor."""

    def __init__(self, path: str | Path, history: History) -> None:
        self.path = Path(path)
        self.history = history
        self._lock = write_lock_path(self.path)

    def state(self) -> State:
        """Return the registry as it is now (raise Refused when it cannot be read)."""
        raw = read_raw(self.path)
        if isinstance(raw, Problem):
            raise Refused(str(raw))
        return self._state(raw)

    def save(self, change: Change, author: Author, now: dt.datetime) -> Saved:
        """Apply `change` to the file as it is now; raise Refused (nothing written) if not."""
        with locked(self._lock):
            raw = read_raw(self.path)
            if isinstance(raw, Problem):
                raise Refused(str(raw))
            text, changed, candidate = self._candidate(self._state(raw), raw, change)
            data = text.encode("utf-8")
            assert candidate.registry is not None
            reconciled = ledgers.reconcile(candidate.registry, candidate.ledger, now)
            write_file(self.path, data)
            write_file(ledger_path(self.path), ledgers.dumps(reconciled.ledger))
            message = _message(change, changed)
            log.info("%s <%s>: %s", author.name, author.email, message)
            self.history.record(
                self.path, author, message, before=raw.registry, after=data, when=now
            )
            item = yamltext.read(text).item(change.event_id)
            return Saved(change.event_id, item.version if item else None, message)

    def preview(self, change: Change) -> Registry:
        """Return the registry as it would be after `change`; raise Refused if it cannot be."""
        raw = read_raw(self.path)
        if isinstance(raw, Problem):
            raise Refused(str(raw))
        registry = self._candidate(self._state(raw), raw, change)[2].registry
        assert registry is not None
        return registry

    # -- inside the lock ---------------------------------------------------------

    def _state(self, raw: Raw) -> State:
        document = yamltext.read_bytes(raw.registry)
        return State(document, interpret(str(self.path), raw))

    def _candidate(self, state: State, raw: Raw, change: Change) -> tuple[str, list[str], Source]:
        """Return the text after `change`, the fields it changes, and the registry it reads as."""
        text, changed = self._apply(state, change)
        candidate = interpret(str(self.path), Raw(text.encode("utf-8"), raw.ledger, raw.modified))
        if candidate.registry is None:
            raise Invalid(_placed(candidate.problems, text, change.event_id))
        return text, changed, candidate

    def _apply(self, state: State, change: Change) -> tuple[str, list[str]]:
        document = state.document
        if change.action in ("calendar", "topic"):
            return self._settings(document, change)
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

    def _settings(self, document: Document, change: Change) -> tuple[str, list[str]]:
        if change.action == "calendar":
            current = document.section_values("calendar")
            if change.version != document.section_version("calendar"):
                version = document.section_version("calendar")
                raise Conflict("calendar", current, version, what="the calendar settings")
            wanted = yamltext.normalize(change.fields)
            changed = [k for k in sorted({*current, *wanted}) if current.get(k) != wanted.get(k)]
            return yamltext.set_calendar(document, wanted), changed
        topics = document.section_values("topics")
        exists = change.event_id in topics
        if change.version is None and exists:
            raise Exists(f"there is already a topic '{change.event_id}'; choose another id")
        if change.version is not None and change.version != document.section_version("topics"):
            version = document.section_version("topics")
            raise Conflict(change.event_id, topics, version, what="the topics")
        title = change.fields.get("title", {})
        titles = {str(k): str(v) for k, v in title.items()} if isinstance(title, Mapping) else {}
        description = str(change.fields.get("description", "") or "")
        text = yamltext.set_topic(document, change.event_id, titles, description)
        return text, ["title"] if exists else []


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


def _placed(problems: list[Problem], text: str, event_id: str) -> list[FieldProblem]:
    """Return the errors, each on the field of the edited event it concerns."""
    item = yamltext.read(text).item(event_id) if event_id else None
    lines: list[tuple[str, int, int]] = []
    if item is not None:
        for key_name, (key, value) in item.fields.items():
            end = yamltext.content_end(text, value)
            lines.append((key_name, key.line, text.count("\n", 0, end) + 1))
    placed: list[FieldProblem] = []
    for problem in problems:
        if problem.severity != "error":
            continue
        name: str | None = next(
            (n for n, first, last in lines if first <= problem.line <= last), None
        )
        if name is None and item is not None:
            first_line = text.count("\n", 0, item.start) + 1
            last_line = text.count("\n", 0, item.end)
            name = "" if first_line <= problem.line <= last_line else None
        message = problem.message if name is not None else f"line {problem.line}: {problem.message}"
        placed.append(FieldProblem(name or "", message, problem.hint, problem.line))
    return placed


def _message(change: Change, changed: list[str]) -> str:
    if change.action == "calendar":
        return "Edit calendar settings: " + ", ".join(changed) if changed else "Edit calendar"
    if change.action == "topic":
        return f"{'Edit' if changed else 'Add'} topic {change.event_id}"
    verb = change.verb or {"add": "Add", "edit": "Edit", "delete": "Delete"}[change.action]
    detail = f": {', '.join(changed)}" if changed and not change.verb else ""
    return f"{verb} {change.event_id}{detail}"
