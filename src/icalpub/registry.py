"""Read `events.yaml` into the model, reporting every problem with its place; the only reader."""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import functools
import hashlib
import os
import re
from collections.abc import Callable
from collections.abc import Mapping as AnyMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

from dateutil import rrule

from . import ledger as ledger_module
from .errors import LedgerError, Problem, RegistryError
from .ledger import Ledger
from .model import Calendar, Contact, Duration, Event, Registry, Status, Topic
from .yamlsafe import MAX_BYTES, Mapping, Node, Scalar, Sequence, YamlProblem, compose, decode
from .zones import LocalTimeError, is_zone, known_zones, localize
from .zones import zone as tzinfo

T = TypeVar("T")

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")
LANGUAGE_PATTERN = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")
DATE_PATTERN = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
DATETIME_PATTERN = re.compile(
    r"(\d{4}-\d{2}-\d{2})[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?"
)
DURATION_PATTERN = re.compile(
    r"P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?"
)
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
URL_PATTERN = re.compile(r"https?://[^\s/?#]+[^\s]*")
# Characters no calendar or XML feed can carry: C0 controls but tab and newline,
# surrogates and the two non-characters XML forbids.
BAD_CHARACTERS = re.compile("[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]")
STATUSES = ("confirmed", "tentative", "cancelled")

CALENDAR_KEYS = (
    "title",
    "description",
    "base_url",
    "timezone",
    "language",
    "contact",
    "refresh",
    "keep_past",
    "feed_items",
)
TOPIC_KEYS = ("title", "description")
CONTACT_KEYS = ("name", "phone", "email")
EVENT_KEYS = (
    "id",
    "title",
    "start",
    "end",
    "timezone",
    "location",
    "topics",
    "summary",
    "description",
    "url",
    "contact",
    "published",
    "updated",
    "sequence",
    "status",
    "repeat",
    "except",
)
TOP_KEYS = ("calendar", "topics", "events")


@dataclass(frozen=True)
class Raw:
    """The bytes a publication is compiled from: registry, ledger, and the registry's save time."""

    registry: bytes
    ledger: bytes | None
    modified: dt.datetime  # the registry file's modification time, UTC, whole seconds


@dataclass(frozen=True)
class Source:
    """A registry file with its ledger, as read from disk at one moment."""

    registry: Registry | None
    ledger: Ledger
    problems: list[Problem]
    modified: dt.datetime  # the registry file's modification time, UTC, whole seconds
    raw: Raw | None = None
    reusable: AnyMapping[bytes, Event] = dataclasses.field(default_factory=dict, repr=False)


def ledger_path(registry_path: str | Path) -> Path:
    """Return where the ledger of a registry lives: beside it, `events.lock` for `events.yaml`."""
    return Path(registry_path).with_suffix(".lock")


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


def read_source(path: str | Path, known: AnyMapping[bytes, Event] | None = None) -> Source:
    """Read a registry and its ledger; the registry is None if either has an error.

    `known` is an earlier Source's `reusable`: events whose text is unchanged
    are taken from it instead of being checked and built again (a reload).
    """
    raw = read_raw(path)
    if isinstance(raw, Problem):
        return Source(None, Ledger(), [raw], dt.datetime.fromtimestamp(0, dt.UTC))
    return interpret(str(path), raw, known)


def interpret(name: str, raw: Raw, known: AnyMapping[bytes, Event] | None = None) -> Source:
    """Validate registry and ledger bytes together; the registry is None on any error."""
    registry, problems, reusable = _parse(raw.registry, name, known)
    lock = str(ledger_path(name))
    ledger = Ledger()
    if raw.ledger is not None:
        try:
            ledger = ledger_module.loads(raw.ledger, lock)
        except LedgerError as exc:
            problems.append(Problem(lock, 1, 1, str(exc).split(": ", 1)[-1]))
    if registry is not None:
        problems.extend(ledger_module.reused_ids(registry, ledger))
    problems = sorted(problems)
    if any(p.severity == "error" for p in problems):
        registry = None
    return Source(registry, ledger, problems, raw.modified, raw, reusable)


class _Invalid(Exception):
    """A value was wrong; the problem is already recorded."""


def load(path: str | Path) -> Registry:
    """Read and validate the registry at `path`; raise RegistryError listing every problem."""
    registry, problems = read(path)
    if registry is None:
        raise RegistryError(problems)
    return registry


def read(path: str | Path) -> tuple[Registry | None, list[Problem]]:
    """Read the registry at `path`; return it (None if invalid) and every problem found."""
    raw = read_raw(path)
    if isinstance(raw, Problem):
        return None, [raw]
    return parse(raw.registry, str(path))


def parse(data: bytes, filename: str = "events.yaml") -> tuple[Registry | None, list[Problem]]:
    """Parse registry bytes; return the registry (None on any error) and all problems."""
    registry, problems, _ = _parse(data, filename, None)
    return registry, problems


def _parse(
    data: bytes, filename: str, known: AnyMapping[bytes, Event] | None
) -> tuple[Registry | None, list[Problem], dict[bytes, Event]]:
    try:
        text = decode(data)
        root, aliased = compose(text)
    except YamlProblem as exc:
        return None, [Problem(filename, exc.line, exc.column, exc.message)], {}
    # With an alias, an event's values may come from text outside its own: no reuse.
    reader = _Reader(filename, None if aliased else text, known or {})
    registry = reader.registry(root)
    problems = sorted(reader.problems)
    if any(p.severity == "error" for p in problems):
        return None, problems, {}
    return registry, problems, reader.reusable


class _Reader:
    """Walk the node tree by the registry's schema, collecting problems as it goes."""

    def __init__(
        self,
        filename: str,
        text: str | None = None,
        known: AnyMapping[bytes, Event] | None = None,
    ) -> None:
        self.filename = filename
        self.problems: list[Problem] = []
        self.source_text = text  # the registry's text, for reusing unchanged events; None: never
        self.known = known or {}
        self.reusable: dict[bytes, Event] = {}  # this text's faultless events, for the next

    # -- reporting -----------------------------------------------------------------

    def error(self, node: Node, message: str, hint: str = "") -> None:
        self.problems.append(Problem(self.filename, node.line, node.column, message, hint))

    def warning(self, node: Node, message: str, hint: str = "") -> None:
        self.problems.append(
            Problem(self.filename, node.line, node.column, message, hint, "warning")
        )

    def fail(self, node: Node, message: str, hint: str = "") -> _Invalid:
        self.error(node, message, hint)
        return _Invalid()

    # -- structure -----------------------------------------------------------------

    def fields(
        self, node: Node, allowed: tuple[str, ...], what: str, required: tuple[str, ...] = ()
    ) -> dict[str, tuple[Scalar, Node]]:
        """Return a mapping's pairs by key, reporting unknown, duplicate and missing keys."""
        if not isinstance(node, Mapping):
            raise self.fail(node, f"{what} must be a mapping of 'key: value' lines")
        found: dict[str, tuple[Scalar, Node]] = {}
        for key, value in node.pairs:
            if not isinstance(key, Scalar):
                self.error(key, f"a key in {what} must be plain text")
                continue
            if key.value not in allowed:
                self.error(
                    key, f"unknown key '{key.value}' in {what}", _closest(key.value, allowed)
                )
                continue
            if key.value in found:
                first = found[key.value][0]
                self.error(
                    key,
                    f"'{key.value}' is given twice in {what}",
                    f"the first is on line {first.line}",
                )
                continue
            found[key.value] = (key, value)
        for name in required:
            if name not in found:
                self.error(node, f"{what} has no '{name}'", f"add '{name}:'")
        return found

    def field(
        self,
        found: dict[str, tuple[Scalar, Node]],
        name: str,
        convert: Callable[[Node], T],
    ) -> T | None:
        """Convert one field if present and not null; record a problem and return None if bad."""
        if name not in found:
            return None
        value = found[name][1]
        if isinstance(value, Scalar) and value.is_null:
            return None
        try:
            return convert(value)
        except _Invalid:
            return None

    # -- scalars -------------------------------------------------------------------

    def scalar(self, node: Node, what: str) -> Scalar:
        if not isinstance(node, Scalar):
            raise self.fail(node, f"{what} must be a single value, not a list or mapping")
        return node

    def text(self, node: Node, what: str, multiline: bool = False) -> str:
        value = self.scalar(node, what).value
        if not multiline and ("\n" in value.strip() or "\r" in value):
            raise self.fail(node, f"{what} must be one line", "join the lines into one")
        bad = BAD_CHARACTERS.search(value)
        if bad:
            raise self.fail(
                node,
                f"{what} contains the control character U+{ord(bad.group()):04X}",
                "delete it; calendars and feeds cannot carry it",
            )
        if multiline:
            return value.rstrip("\n")
        value = value.strip()
        if not value:
            raise self.fail(node, f"{what} is empty")
        return value

    def identifier(self, node: Node, what: str) -> str:
        value = self.scalar(node, what).value
        if not ID_PATTERN.fullmatch(value):
            raise self.fail(
                node,
                f"{what} '{value}' is not a valid id",
                "use 1-80 lower-case letters a-z, digits and '-', starting with a letter or digit",
            )
        return value

    def integer(self, node: Node, what: str, minimum: int) -> int:
        value = self.scalar(node, what).value.strip()
        if not re.fullmatch(r"[+-]?\d+", value):
            raise self.fail(node, f"{what} must be a whole number, not '{value}'")
        number = int(value)
        if number < minimum:
            raise self.fail(node, f"{what} must be at least {minimum}, not {number}")
        return number

    def url(self, node: Node, what: str) -> str:
        value = self.text(node, what)
        if not URL_PATTERN.fullmatch(value):
            raise self.fail(
                node,
                f"{what} '{value}' is not an absolute http(s) URL",
                "write it in full, e.g. https://example.lv/page",
            )
        return value

    def timezone(self, node: Node, what: str) -> str:
        value = self.scalar(node, what).value.strip()
        if not is_zone(value):
            raise self.fail(
                node,
                f"{what} '{value}' is not an IANA time zone name",
                _closest(value, sorted(known_zones())) or "e.g. Europe/Riga",
            )
        return value

    def duration(self, node: Node, what: str) -> Duration:
        value = self.scalar(node, what).value.strip()
        match = DURATION_PATTERN.fullmatch(value)
        if not match:
            raise self.fail(
                node,
                f"{what} '{value}' is not an ISO 8601 duration",
                "e.g. PT12H (12 hours), P1D (a day), P24M (24 months)",
            )
        y, mo, w, d, h, mi, s = (int(part or 0) for part in match.groups())
        return Duration(value, years=y, months=mo, days=w * 7 + d, seconds=h * 3600 + mi * 60 + s)

    def when(
        self, node: Node, what: str, zone: str, any_offset: bool = False
    ) -> dt.date | dt.datetime:
        """Parse a date, or a date-time that is local in `zone` unless it has an offset.

        A written offset must be one `zone` uses then, unless `any_offset`: then
        the value is an instant, kept with the offset it was written with.
        """
        value = self.scalar(node, what).value.strip()
        if DATE_PATTERN.fullmatch(value):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                raise self.fail(node, f"{what} '{value}' is not a real date") from None
        match = DATETIME_PATTERN.fullmatch(value)
        if not match:
            raise self.fail(
                node,
                f"{what} '{value}' is not a date or a date and time",
                "write 2022-01-12 for a day or 2022-01-12 10:00 for a time",
            )
        day, hour, minute, second, offset = match.groups()
        try:
            wall = dt.datetime.combine(
                dt.date.fromisoformat(day), dt.time(int(hour), int(minute), int(second or 0))
            )
        except ValueError:
            raise self.fail(node, f"{what} '{value}' is not a real date and time") from None
        if offset is None:
            try:
                return localize(wall, zone)
            except LocalTimeError as exc:
                raise self.fail(node, f"{what}: {exc}") from None
        try:
            aware = dt.datetime.fromisoformat(f"{wall.isoformat()}{_iso_offset(offset)}")
        except ValueError:
            raise self.fail(node, f"{what}: '{offset}' is not a UTC offset") from None
        if any_offset:
            return aware
        local = aware.astimezone(tzinfo(zone))
        if local.replace(tzinfo=None) != wall:
            raise self.fail(
                node,
                f"{what}: offset {offset} is not used in {zone} at {wall:%Y-%m-%d %H:%M}",
                "use the offset the zone has then, or leave the offset out",
            )
        return local

    def instant(self, node: Node, what: str, zone: str) -> dt.datetime:
        """Parse a moment: any written offset is taken as it is; without one, local in `zone`."""
        value = self.when(node, what, zone, any_offset=True)
        if not isinstance(value, dt.datetime):
            return localize(dt.datetime.combine(value, dt.time()), zone)
        return value

    # -- the registry --------------------------------------------------------------

    def registry(self, root: Node | None) -> Registry | None:
        if root is None:
            self.problems.append(
                Problem(self.filename, 1, 1, "the registry is empty", "start with 'calendar:'")
            )
            return None
        try:
            top = self.fields(root, TOP_KEYS, "the registry", required=("calendar", "events"))
        except _Invalid:
            return None
        calendar = self.field(top, "calendar", self.calendar)
        topics = self.field(top, "topics", self.topics) or ()
        events = self.field(top, "events", lambda n: self.events(n, calendar, topics)) or ()
        if calendar is None:
            return None
        return Registry(calendar, tuple(topics), tuple(events), source=self.filename)

    def calendar(self, node: Node) -> Calendar:
        found = self.fields(
            node, CALENDAR_KEYS, "calendar", required=("title", "base_url", "timezone")
        )
        title = self.field(found, "title", lambda n: self.text(n, "calendar title"))
        base_url = self.field(found, "base_url", lambda n: self.url(n, "base_url"))
        zone = self.field(found, "timezone", lambda n: self.timezone(n, "timezone"))
        language = self.field(found, "language", self.language) or "lv"
        calendar = Calendar(
            title=title or "",
            base_url=(base_url or "").rstrip("/") + "/",
            timezone=zone or "UTC",
            description=self.field(
                found, "description", lambda n: self.text(n, "calendar description", True)
            ),
            language=language,
            contact=self.field(found, "contact", lambda n: self.contact(n, "calendar contact")),
            refresh=self.field(found, "refresh", lambda n: self.duration(n, "refresh")),
            keep_past=self.field(found, "keep_past", lambda n: self.duration(n, "keep_past")),
            feed_items=self.field(found, "feed_items", lambda n: self.integer(n, "feed_items", 1))
            or 50,
        )
        if title is None or base_url is None or zone is None:
            raise _Invalid()
        return calendar

    def language(self, node: Node) -> str:
        value = self.scalar(node, "language").value.strip()
        if not LANGUAGE_PATTERN.fullmatch(value):
            raise self.fail(
                node, f"language '{value}' is not a BCP 47 language tag", "e.g. lv or en"
            )
        return value

    def contact(self, node: Node, what: str) -> Contact:
        found = self.fields(node, CONTACT_KEYS, what)
        email = self.field(found, "email", lambda n: self.text(n, f"{what} email"))
        if email is not None and not EMAIL_PATTERN.fullmatch(email):
            self.error(found["email"][1], f"{what} email '{email}' is not an e-mail address")
        return Contact(
            name=self.field(found, "name", lambda n: self.text(n, f"{what} name")),
            phone=self.field(found, "phone", lambda n: self.text(n, f"{what} phone")),
            email=email,
        )

    def topics(self, node: Node) -> tuple[Topic, ...]:
        if not isinstance(node, Mapping):
            raise self.fail(
                node,
                "topics must be a mapping of topic id to its title",
                "e.g. 'training: {title: Mācības}'",
            )
        topics: dict[str, Topic] = {}
        for key, value in node.pairs:
            try:
                topic_id = self.identifier(key, "topic id")
            except _Invalid:
                continue
            if topic_id in topics:
                self.error(key, f"topic '{topic_id}' is declared twice")
                continue
            try:
                found = self.fields(value, TOPIC_KEYS, f"topic '{topic_id}'", required=("title",))
            except _Invalid:
                continue
            titles = self.field(found, "title", functools.partial(self.titles, topic_id=topic_id))
            description = self.field(
                found, "description", lambda n: self.text(n, "topic description", True)
            )
            if titles:
                topics[topic_id] = Topic(topic_id, titles, description)
        return tuple(topics.values())

    def titles(self, node: Node, *, topic_id: str) -> tuple[tuple[str, str], ...]:
        if isinstance(node, Scalar):
            return (("", self.text(node, f"title of topic '{topic_id}'")),)
        if not isinstance(node, Mapping) or not node.pairs:
            raise self.fail(
                node,
                f"title of topic '{topic_id}' must be text, or one text per language",
                "e.g. {lv: Mācības, en: Training}",
            )
        titles: list[tuple[str, str]] = []
        for key, value in node.pairs:
            try:
                titles.append(
                    (self.language(key), self.text(value, f"title of topic '{topic_id}'"))
                )
            except _Invalid:
                continue
        return tuple(titles)

    def events(
        self, node: Node, calendar: Calendar | None, topics: tuple[Topic, ...]
    ) -> tuple[Event, ...]:
        if not isinstance(node, Sequence):
            raise self.fail(node, "events must be a list, each event starting with '- id:'")
        zone = calendar.timezone if calendar else "UTC"
        declared = [t.id for t in topics]
        seen: dict[str, Node] = {}
        events: list[Event] = []
        items = node.items
        for number, item in enumerate(items):
            following = items[number + 1] if number + 1 < len(items) else None
            key = self.event_key(item, following, zone, declared)
            event = self.known.get(key) if key is not None else None
            if event is None:
                before = len(self.problems)
                try:
                    event = self.event(item, zone, declared)
                except _Invalid:
                    continue
                if event is None:
                    continue
                if len(self.problems) > before:
                    key = None  # an event with a warning is checked again each time
            elif (event.line, event.column) != (item.line, item.column):
                event = dataclasses.replace(event, line=item.line, column=item.column)
            if key is not None:
                self.reusable[key] = event
            if event.id in seen:
                self.error(
                    _value_node(item, "id"),
                    f"event id '{event.id}' is used twice",
                    f"the first is on line {seen[event.id].line}; ids must be unique",
                )
                continue
            seen[event.id] = _value_node(item, "id")
            events.append(event)
        return tuple(events)

    def event_key(
        self, item: Node, following: Node | None, zone: str, declared: list[str]
    ) -> bytes | None:
        """Return what an event's value depends on, hashed: its text, column and context.

        An item's text runs to where the next item starts (the last item has
        no known end and is never reused).
        """
        if self.source_text is None or following is None:
            return None
        digest = hashlib.blake2b(
            self.source_text[item.index : following.index].encode(), digest_size=16
        )
        digest.update(f"\0{item.column}\0{zone}\0{' '.join(declared)}".encode())
        return digest.digest()

    def event(self, node: Node, default_zone: str, declared: list[str]) -> Event | None:
        found = self.fields(node, EVENT_KEYS, "an event", required=("id", "title", "start"))
        event_id = self.field(found, "id", lambda n: self.identifier(n, "event id"))
        what = f"event '{event_id}'" if event_id else "an event"
        named = self.field(found, "timezone", lambda n: self.timezone(n, f"{what} timezone"))
        # Without a `timezone:` key, times written with an offset are instants (SPEC §1).
        free = "timezone" not in found
        zone = named or default_zone
        title = self.field(found, "title", lambda n: self.text(n, f"{what} title"))
        start = self.field(found, "start", lambda n: self.when(n, f"{what} start", zone, free))
        end = self.field(found, "end", lambda n: self.when(n, f"{what} end", zone, free))
        fixed = free and _has_offset(start)
        if free and end is not None and start is not None and _has_offset(end) != fixed:
            self.error(
                found["end"][1],
                f"{what}: start and end must both have an offset or both be local times",
                "an offset makes a fixed instant, e.g. 2022-01-21T12:00:00Z; "
                "add it to both or leave it out of both",
            )
            end = None
            start = None
        if fixed:
            zone = "UTC"
        topic_ids = self.field(found, "topics", lambda n: self.event_topics(n, what, declared))
        status = self.field(found, "status", lambda n: self.status(n, what))
        published = self.field(
            found, "published", lambda n: self.instant(n, f"{what} published", default_zone)
        )
        updated = self.field(
            found, "updated", lambda n: self.instant(n, f"{what} updated", default_zone)
        )
        event = Event(
            id=event_id or "",
            title=title or "",
            start=start or dt.date.min,
            end=end,
            timezone=zone,
            topics=topic_ids or (),
            location=self.field(found, "location", lambda n: self.text(n, f"{what} location")),
            summary=self.field(found, "summary", lambda n: self.text(n, f"{what} summary", True)),
            description=self.field(
                found, "description", lambda n: self.text(n, f"{what} description", True)
            ),
            url=self.field(found, "url", lambda n: self.url(n, f"{what} url")),
            contact=self.field(found, "contact", lambda n: self.contact(n, f"{what} contact")),
            published=published,
            updated=updated,
            sequence=self.field(
                found, "sequence", lambda n: self.integer(n, f"{what} sequence", 0)
            ),
            status=status or "confirmed",
            repeat=self.field(found, "repeat", lambda n: self.text(n, f"{what} repeat")),
            exceptions=self.field(found, "except", lambda n: self.dates(n, f"{what} except")) or (),
            fixed=fixed,
            line=node.line,
            column=node.column,
        )
        if event_id is None or title is None or start is None:
            return None
        ok = self.check_times(event, found, what)
        ok = self.check_repeat(event, found, what) and ok
        if published and updated and updated < published:
            self.warning(found["updated"][1], f"{what} updated is before published")
        return event if ok else None

    def event_topics(self, node: Node, what: str, declared: list[str]) -> tuple[str, ...]:
        if isinstance(node, Mapping):
            raise self.fail(
                node, f"{what} topics must be a list", "e.g. topics: [training, project]"
            )
        items = node.items if isinstance(node, Sequence) else [node]
        result: list[str] = []
        for item in items:
            try:
                topic = self.scalar(item, f"{what} topic").value.strip()
            except _Invalid:
                continue
            if topic not in declared:
                self.error(
                    item,
                    f"{what} has the unknown topic '{topic}'",
                    _closest(topic, declared) or "declare it under 'topics:'",
                )
            elif topic not in result:
                result.append(topic)
        return tuple(sorted(result, key=declared.index))

    def status(self, node: Node, what: str) -> Status:
        value = self.scalar(node, f"{what} status").value.strip()
        if value not in STATUSES:
            raise self.fail(
                node,
                f"{what} status '{value}' is not one of " + ", ".join(STATUSES),
                _closest(value, STATUSES),
            )
        return cast(Status, value)

    def dates(self, node: Node, what: str) -> tuple[dt.date, ...]:
        items = node.items if isinstance(node, Sequence) else [node]
        result: list[dt.date] = []
        for item in items:
            try:
                value = self.when(item, what, "UTC")
            except _Invalid:
                continue
            if isinstance(value, dt.datetime):
                self.error(
                    item, f"{what} takes dates of occurrences, not times", f"write {value:%Y-%m-%d}"
                )
                continue
            result.append(value)
        return tuple(sorted(set(result)))

    # -- rules across fields ---------------------------------------------------------

    def check_times(self, event: Event, found: dict[str, tuple[Scalar, Node]], what: str) -> bool:
        if event.end is None:
            return True
        end_node = found["end"][1]
        if isinstance(event.start, dt.datetime) != isinstance(event.end, dt.datetime):
            kind = "a date and time" if isinstance(event.start, dt.datetime) else "a date only"
            self.error(
                end_node,
                f"{what} starts with {kind}, so its end must be {kind} too",
                "all-day events use dates for both; timed events use times for both",
            )
            return False
        if event.end < event.start:
            self.error(
                end_node,
                f"{what} ends before it starts",
                "for all-day events 'end' is the last day, inclusive",
            )
            return False
        return True

    def check_repeat(self, event: Event, found: dict[str, tuple[Scalar, Node]], what: str) -> bool:
        if event.repeat is None:
            if event.exceptions:
                self.error(
                    found["except"][1],
                    f"{what} has 'except' but no 'repeat'",
                    "'except' skips occurrences of a repeating event",
                )
                return False
            return True
        node = found["repeat"][1]
        rule = parse_rule(event)
        if isinstance(rule, str):
            self.error(
                node,
                f"{what} repeat is not a valid RRULE: {rule}",
                "e.g. FREQ=MONTHLY;BYDAY=2WE;COUNT=6",
            )
            return False
        ok = True
        for day in event.exceptions:
            if not occurs_on(rule, event, day):
                self.error(
                    found["except"][1],
                    f"{what} except {day.isoformat()} is not an occurrence of the repeat rule",
                    "list only dates the event repeats on",
                )
                ok = False
        return ok


def parse_rule(event: Event) -> rrule.rrule | str:
    """Return the event's RRULE expanded in local wall time, or why it is invalid."""
    from icalendar.prop import vRecur

    text = (event.repeat or "").strip()
    if text.upper().startswith("RRULE:"):
        return "write the rule without 'RRULE:'"
    start = event.start
    first = start if isinstance(start, dt.datetime) else dt.datetime.combine(start, dt.time())
    until = re.search(r"UNTIL=([0-9TZ]+)", text.upper())
    if until:
        value = until.group(1)
        if isinstance(start, dt.datetime) and not value.endswith("Z"):
            return "UNTIL of a timed event must be in UTC, e.g. UNTIL=20220630T235959Z"
        if not isinstance(start, dt.datetime) and "T" in value:
            return "UNTIL of an all-day event must be a date, e.g. UNTIL=20220630"
    try:
        vRecur.from_ical(text)
        rule = rrule.rrulestr(text, dtstart=first, forceset=False)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        return str(exc) or exc.__class__.__name__
    if not isinstance(rule, rrule.rrule):  # pragma: no cover - forceset=False
        return "only one rule is allowed"
    return rule


def occurs_on(rule: rrule.rrule, event: Event, day: dt.date) -> bool:
    """Return whether the repeating `event` has an occurrence on local date `day`."""
    midnight = dt.datetime.combine(day, dt.time())
    if isinstance(event.start, dt.datetime):
        midnight = midnight.replace(tzinfo=event.start.tzinfo)
    hits = rule.between(midnight, midnight + dt.timedelta(days=1), inc=True)
    return any(hit.date() == day for hit in hits)


def _closest(word: str, choices: Any) -> str:
    same_letters = [choice for choice in choices if choice.lower() == word.lower()]
    match = same_letters or difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{match[0]}'?" if match else ""


def _iso_offset(offset: str) -> str:
    if offset == "Z":
        return "+00:00"
    return offset if ":" in offset else f"{offset[:3]}:{offset[3:]}"


def _has_offset(value: dt.date | dt.datetime | None) -> bool:
    """Return whether a parsed time was written with an explicit UTC offset."""
    return isinstance(value, dt.datetime) and isinstance(value.tzinfo, dt.timezone)


def _value_node(node: Node, key: str) -> Node:
    if isinstance(node, Mapping):
        for k, v in node.pairs:
            if isinstance(k, Scalar) and k.value == key:
                return v
    return node
