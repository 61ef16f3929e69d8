"""Registry and ledger bytes → the model, with every problem at its place; the one set of rules.

`interpret(name, raw)` judges bytes already in hand: the files as `reader`
read them, the service's reload, the editor's candidate text. Nothing here
touches the disk.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Mapping as AnyMapping
from dataclasses import dataclass

from . import ledger as ledger_module
from . import reread, rules
from .errors import AlreadyReported, LedgerError, Problem, YamlProblem
from .ledger import Ledger
from .model import Calendar, Event, Registry, Topic
from .reuse import event_key
from .site import ledger_path
from .values import Values, closest, has_offset
from .yamlsafe import Mapping, Node, Scalar, Sequence, child, compose, decode

CALENDAR_KEYS = (
    "title",
    "description",
    "base_url",
    "timezone",
    "language",
    "languages",
    "contact",
    "refresh",
    "keep_past",
    "feed_items",
)
TOPIC_KEYS = ("title", "description")
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
    "draft",
    "publish_at",
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
    reusable: reread.Known = dataclasses.field(default_factory=reread.Known, repr=False)


def interpret(name: str, raw: Raw, known: reread.Known | None = None) -> Source:
    """Validate registry and ledger bytes together; the registry is None on any error."""
    registry, problems, reusable = _parse(raw.registry, name, known)
    lock = str(ledger_path(name))
    ledger = Ledger()
    if raw.ledger is not None:
        try:
            ledger = ledger_module.loads_again(raw.ledger, lock, known.ledger if known else None)
            reusable = dataclasses.replace(reusable, ledger=(raw.ledger, ledger))
        except LedgerError as exc:
            problems.append(Problem(lock, 1, 1, str(exc).split(": ", 1)[-1]))
    if registry is not None:
        problems.extend(ledger_module.reused_ids(registry, ledger))
        problems.extend(ledger_module.published_drafts(registry, ledger))
    problems = sorted(problems)
    if any(p.severity == "error" for p in problems):
        registry = None
    return Source(registry, ledger, problems, raw.modified, raw, reusable)


def _parse(
    data: bytes, filename: str, known: reread.Known | None
) -> tuple[Registry | None, list[Problem], reread.Known]:
    again = known and reread.read_again(known, data, functools.partial(_read_items, filename))
    if again:  # an edit inside the events list alone: only the items it touched were read
        return again[0], [], again[1]
    try:
        text = decode(data)
        root, aliased = compose(text)
    except YamlProblem as exc:
        return None, [Problem(filename, exc.line, exc.column, exc.message)], reread.Known()
    # With an alias, an event's values may come from text outside its own: no reuse.
    reader = _Reader(filename, None if aliased else text, known.events if known else {})
    registry = reader.registry(root)
    problems = sorted(reader.problems)
    if any(p.severity == "error" for p in problems):
        return None, problems, reread.Known()
    shape = None if problems or aliased else reread.shape_of(data, text, root, registry)
    return registry, problems, reread.Known(reader.reusable, shape)


def _read_items(filename: str, items: Sequence, registry: Registry) -> tuple[Event, ...] | None:
    """Return the events of `items` read with `registry`'s settings; None on any problem."""
    reader = _Reader(filename)
    reader.published = registry.calendar.published_languages
    events = reader.events(items, registry.calendar, registry.topics)
    return None if reader.problems else events


class _Reader(Values):
    """Walk the node tree by the registry's schema, collecting problems as it goes."""

    def __init__(
        self,
        filename: str,
        text: str | None = None,
        known: AnyMapping[bytes, Event] | None = None,
    ) -> None:
        super().__init__(filename)
        self.published: tuple[str, ...] = ("lv",)  # calendar.languages, the default first
        self.source_text = text  # the registry's text, for reusing unchanged events; None: never
        self.known = known or {}
        self.reusable: dict[bytes, Event] = {}  # this text's faultless events, for the next

    # -- the registry --------------------------------------------------------------

    def registry(self, root: Node | None) -> Registry | None:
        if root is None:
            self.problems.append(
                Problem(self.filename, 1, 1, "the registry is empty", "start with 'calendar:'")
            )
            return None
        try:
            top = self.fields(root, TOP_KEYS, "the registry", required=("calendar", "events"))
        except AlreadyReported:
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
        language = self.field(found, "language", self.language)
        languages = self.field(found, "languages", self.languages) or ()
        if languages and language is not None and languages[0] != language:
            self.error(
                found["languages"][1],
                f"calendar.languages must start with calendar.language ('{language}')",
                "the first language is the default: the one plain texts are written in",
            )
        language = language or (languages[0] if languages else "lv")
        languages = languages or (language,)
        self.published = languages
        translated: list[tuple[str, str, str]] = []
        title = self.field(
            found, "title", lambda n: self.texts(n, "calendar title", "title", translated)
        )
        base_url = self.field(found, "base_url", lambda n: self.url(n, "base_url"))
        zone = self.field(found, "timezone", lambda n: self.timezone(n, "timezone"))
        description = self.field(
            found,
            "description",
            lambda n: self.texts(n, "calendar description", "description", translated, True),
        )
        calendar = Calendar(
            title=title or "",
            base_url=(base_url or "").rstrip("/") + "/",
            timezone=zone or "UTC",
            description=description,
            language=language,
            contact=self.field(found, "contact", lambda n: self.contact(n, "calendar contact")),
            refresh=self.field(found, "refresh", lambda n: self.duration(n, "refresh")),
            keep_past=self.field(found, "keep_past", lambda n: self.duration(n, "keep_past")),
            feed_items=self.field(found, "feed_items", lambda n: self.integer(n, "feed_items", 1))
            or 50,
            languages=languages if len(languages) > 1 else (),
            translations=tuple(translated),
        )
        if title is None or base_url is None or zone is None:
            raise AlreadyReported()
        return calendar

    def languages(self, node: Node) -> tuple[str, ...]:
        items = node.items if isinstance(node, Sequence) else None
        if not items:
            raise self.fail(node, "calendar.languages must be a list of languages", "e.g. [lv, en]")
        found: list[str] = []
        for item in items:
            try:
                language = self.language(item)
            except AlreadyReported:
                continue
            if language in found:
                self.error(item, f"language '{language}' is listed twice")
                continue
            found.append(language)
        return tuple(found)

    def texts(
        self,
        node: Node,
        what: str,
        field: str,
        translated: list[tuple[str, str, str]],
        multiline: bool = False,
    ) -> str:
        """Return a text in the default language; add its other languages' to `translated`.

        A text is a string (the default language) or one string per language
        of calendar.languages, the default among them.
        """
        if not isinstance(node, Mapping):
            return self.text(node, what, multiline)
        default = self.published[0]
        found: dict[str, str] = {}
        for key, value in node.pairs:
            try:
                language = self.language(key)
            except AlreadyReported:
                continue
            if language not in self.published:
                listed = ", ".join(self.published)
                self.error(
                    key,
                    f"{what} has a text in '{language}', which is not in calendar.languages "
                    f"({listed})",
                    closest(language, self.published)
                    or f"add '{language}' to calendar.languages, or correct the key",
                )
                continue
            try:
                found[language] = self.text(value, f"{what} ({language})", multiline)
            except AlreadyReported:
                continue
        if default not in found:
            raise self.fail(
                node,
                f"{what} has no text in '{default}', the default language",
                f"add '{default}: …' — the other languages fall back to it",
            )
        translated.extend(
            (language, field, text) for language, text in found.items() if language != default
        )
        return found[default]

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
            except AlreadyReported:
                continue
            if topic_id in topics:
                self.error(key, f"topic '{topic_id}' is declared twice")
                continue
            try:
                found = self.fields(value, TOPIC_KEYS, f"topic '{topic_id}'", required=("title",))
            except AlreadyReported:
                continue
            titles = self.field(found, "title", functools.partial(self.titles, topic_id=topic_id))
            translated: list[tuple[str, str, str]] = []
            description = self.field(
                found,
                "description",
                functools.partial(
                    self.texts,
                    what="topic description",
                    field="description",
                    translated=translated,
                    multiline=True,
                ),
            )
            if titles:
                topics[topic_id] = Topic(topic_id, titles, description, tuple(translated))
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
        if len(self.published) > 1:  # calendar.languages given: the rules of every text
            translated: list[tuple[str, str, str]] = []
            what = f"title of topic '{topic_id}'"
            default = self.texts(node, what, "title", translated)
            return ((self.published[0], default), *((lang, t) for lang, _, t in translated))
        # One language: any language tags, as before calendar.languages existed.
        titles: list[tuple[str, str]] = []
        for key, value in node.pairs:
            try:
                titles.append(
                    (self.language(key), self.text(value, f"title of topic '{topic_id}'"))
                )
            except AlreadyReported:
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
            key = event_key(self.source_text, item, following, zone, declared, self.published)
            event = self.known.get(key) if key is not None else None
            if event is None:
                before = len(self.problems)
                try:
                    event = self.event(item, zone, declared)
                except AlreadyReported:
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
                    child(item, "id") or item,
                    f"event id '{event.id}' is used twice",
                    f"the first is on line {seen[event.id].line}; ids must be unique",
                )
                continue
            seen[event.id] = child(item, "id") or item
            events.append(event)
        return tuple(events)

    def event(self, node: Node, default_zone: str, declared: list[str]) -> Event | None:
        found = self.fields(node, EVENT_KEYS, "an event", required=("id", "title", "start"))
        event_id = self.field(found, "id", lambda n: self.identifier(n, "event id"))
        what = f"event '{event_id}'" if event_id else "an event"
        named = self.field(found, "timezone", lambda n: self.timezone(n, f"{what} timezone"))
        # Without a `timezone:` key, times written with an offset are instants (SPEC §1).
        free = "timezone" not in found
        zone = named or default_zone
        translated: list[tuple[str, str, str]] = []

        def texts(name: str, multiline: bool = False) -> str | None:
            return self.field(
                found,
                name,
                lambda n: self.texts(n, f"{what} {name}", name, translated, multiline),
            )

        title = texts("title")
        start, end, fixed = self.times(found, what, zone, free)
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
        draft, publish_at = self.schedule(found, what, zone)
        event = Event(
            id=event_id or "",
            title=title or "",
            start=start or dt.date.min,
            end=end,
            timezone=zone,
            topics=topic_ids or (),
            location=texts("location"),
            summary=texts("summary", True),
            description=texts("description", True),
            url=self.field(found, "url", lambda n: self.url(n, f"{what} url")),
            contact=self.field(found, "contact", lambda n: self.contact(n, f"{what} contact")),
            published=published,
            updated=updated,
            sequence=self.field(
                found, "sequence", lambda n: self.integer(n, f"{what} sequence", 0)
            ),
            status=status or "confirmed",
            draft=draft,
            publish_at=publish_at,
            repeat=self.field(found, "repeat", lambda n: self.text(n, f"{what} repeat")),
            exceptions=self.field(found, "except", lambda n: self.dates(n, f"{what} except")) or (),
            fixed=fixed,
            line=node.line,
            column=node.column,
            translations=tuple(translated),
        )
        if event_id is None or title is None or start is None:
            return None
        return self.judged(event, found, what)

    def schedule(
        self, found: dict[str, tuple[Scalar, Node]], what: str, zone: str
    ) -> tuple[bool, dt.datetime | None]:
        """Return whether an event is a draft, and the instant it is to be published at."""
        draft = self.field(found, "draft", lambda n: self.flag(n, f"{what} draft"))
        publish_at = self.field(
            found, "publish_at", lambda n: self.instant(n, f"{what} publish_at", zone)
        )
        return bool(draft), publish_at

    def times(
        self, found: dict[str, tuple[Scalar, Node]], what: str, zone: str, free: bool
    ) -> tuple[dt.date | dt.datetime | None, dt.date | dt.datetime | None, bool]:
        """Return an event's start, end and whether they are fixed instants (with offsets)."""
        start = self.field(found, "start", lambda n: self.when(n, f"{what} start", zone, free))
        end = self.field(found, "end", lambda n: self.when(n, f"{what} end", zone, free))
        fixed = free and has_offset(start)
        if free and end is not None and start is not None and has_offset(end) != fixed:
            self.error(
                found["end"][1],
                f"{what}: start and end must both have an offset or both be local times",
                "an offset makes a fixed instant, e.g. 2022-01-21T12:00:00Z; "
                "add it to both or leave it out of both",
            )
            return None, None, fixed
        return start, end, fixed

    def judged(
        self, event: Event, found: dict[str, tuple[Scalar, Node]], what: str
    ) -> Event | None:
        """Return `event` unless the rules across its fields find an error (each reported)."""
        faults = rules.check(event, what)
        for fault in faults:
            report = self.error if fault.severity == "error" else self.warning
            report(found[fault.field][1], fault.message, fault.hint)
        return None if any(f.severity == "error" for f in faults) else event

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
            except AlreadyReported:
                continue
            if topic not in declared:
                self.error(
                    item,
                    f"{what} has the unknown topic '{topic}'",
                    closest(topic, declared) or "declare it under 'topics:'",
                )
            elif topic not in result:
                result.append(topic)
        return tuple(sorted(result, key=declared.index))
