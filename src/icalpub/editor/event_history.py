"""An event's history as people read it: each version that changed the event, what changed
(field by field, per language), who and when. Pure: the file's versions are handed in.

Every version of the file counts, whoever made it (a hand edit, a `git pull`,
the editor): a version is a row when the event in it differs from the
version before. The newest row equal to the event as it is now is the
current one.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from babel.dates import format_date, format_time

from ..i18n import locale
from ..zones import zone as zone_info
from .changes import FieldChange, diff
from .history import Version, made_outside
from .yamltext import EditError, Fields, read_bytes


@dataclass(frozen=True)
class Row:
    """One version of the event: who, when, and what changed from the one before."""

    commit: str
    author: str  # "name <email>"
    when: dt.datetime
    message: str
    changes: tuple[FieldChange, ...]
    fields: Fields | None  # the event in this version (None: deleted in it)
    current: bool = False

    @property
    def name(self) -> str:
        """Return the author's name without the address."""
        return self.author.split(" <", 1)[0]

    @property
    def outside(self) -> bool:
        """Return whether this version is a change made outside the editor (a hand edit)."""
        return made_outside(self.name, self.message)


def rows(
    versions: Iterable[tuple[Version, bytes]],
    event_id: str,
    languages: Sequence[str],
    current: Fields | None,
) -> list[Row]:
    """Return the versions (newest first) in which the event changed, the current one marked."""
    found: list[Row] = []
    previous: Fields | None = None
    read = _Reader(event_id)
    readable = []
    for version, data in versions:  # newest first; each file's bytes dropped once read
        try:
            readable.append((version, read(data)))
        except EditError:
            continue  # a version that does not parse: the next readable one shows the change
    for version, fields in reversed(readable):  # oldest first
        if fields == previous:
            continue
        when = dt.datetime.fromisoformat(version.when)
        changes = tuple(diff(previous, fields, languages))
        found.append(Row(version.commit, version.author, when, version.message, changes, fields))
        previous = fields
    found.reverse()
    for index, row in enumerate(found):
        if row.fields is not None and row.fields == current:
            found[index] = Row(**{**row.__dict__, "current": True})
            break
    return found


class _Reader:
    """The event's fields in a version of the file, reading only its own lines when it is
    written as a block that starts `- id: <id>` (a whole registry takes seconds to read,
    its one event a millisecond); any other layout is read whole."""

    def __init__(self, event_id: str) -> None:
        self.event_id = event_id
        self.start = re.compile(
            rb"^( *)- id: " + re.escape(event_id.encode()) + rb"[ \t]*\r?$", re.M
        )
        self.seen: dict[bytes, Fields | None] = {}

    def __call__(self, data: bytes) -> Fields | None:
        block = self._block(data)
        if block is None:
            return self._whole(data)
        if block not in self.seen:
            try:
                self.seen[block] = self._whole(b"events:\n" + block)
            except EditError:  # an alias to an anchor elsewhere, say: the whole file
                return self._whole(data)
        return self.seen[block]

    def _block(self, data: bytes) -> bytes | None:
        found = self.start.search(data)
        if found is None:
            return None
        indent = len(found.group(1))
        end = len(data)
        for line in re.finditer(rb"^( *)([^\s#])", data[found.end() :], re.M):
            if len(line.group(1)) < indent or (
                len(line.group(1)) == indent and data[found.end() + line.start(2)] == ord("-")
            ):
                end = found.end() + line.start()
                break
        return data[found.start() : end]

    def _whole(self, data: bytes) -> Fields | None:
        document = read_bytes(data)
        item = document.item(self.event_id)
        return document.values(item) if item is not None else None


def when_text(moment: dt.datetime, zone: str, language: str) -> str:
    """Return an instant as people write it, in the calendar's zone and the interface's
    language: "2026. gada 3. decembris, 08:22", "December 3, 2026, 8:22 AM"."""
    local = moment.astimezone(zone_info(zone))
    found = locale(language)
    return (
        f"{format_date(local, 'long', locale=found)}, {format_time(local, 'short', locale=found)}"
    )
