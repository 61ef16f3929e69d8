"""Values of the registry as people write them: text, ids, URLs, zones, durations, times.

`Values` turns one YAML node into one value, or records a located problem and
raises `AlreadyReported`; it knows nothing of the registry's shape (that is the
reader's, in `registry`).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable
from typing import Any, TypeVar, cast

from . import urls
from .errors import AlreadyReported, LocalTimeError, Problem
from .model import Contact, Duration, Status
from .yamlsafe import Mapping, Node, Scalar, Sequence
from .zones import is_zone, known_zones, localize
from .zones import zone as tzinfo

T = TypeVar("T")

ID_PATTERN = re.compile(urls.ID)
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
CONTACT_KEYS = ("name", "phone", "email")


FIRST_YEAR, LAST_YEAR = 1000, 9998  # the years a date may have (see `when`)


class Values:
    """Convert nodes to values, collecting problems with their places as it goes."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.problems: list[Problem] = []

    # -- reporting -----------------------------------------------------------------

    def error(self, node: Node, message: str, hint: str = "") -> None:
        self.problems.append(Problem(self.filename, node.line, node.column, message, hint))

    def warning(self, node: Node, message: str, hint: str = "") -> None:
        self.problems.append(
            Problem(self.filename, node.line, node.column, message, hint, "warning")
        )

    def fail(self, node: Node, message: str, hint: str = "") -> AlreadyReported:
        self.error(node, message, hint)
        return AlreadyReported()

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
                self.error(key, f"unknown key '{key.value}' in {what}", closest(key.value, allowed))
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
        except AlreadyReported:
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
                closest(value, sorted(known_zones())) or "e.g. Europe/Riga",
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
        if value[:4].isdigit() and not FIRST_YEAR <= int(value[:4]) <= LAST_YEAR:
            # A day after 9998 or before 1000 overflows Python's dates in a calendar's
            # end dates and UTC times: the build would fail, so the reader refuses it.
            raise self.fail(node, f"{what} '{value}' is outside the years {FIRST_YEAR}-{LAST_YEAR}")
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

    def status(self, node: Node, what: str) -> Status:
        value = self.scalar(node, f"{what} status").value.strip()
        if value not in STATUSES:
            raise self.fail(
                node,
                f"{what} status '{value}' is not one of " + ", ".join(STATUSES),
                closest(value, STATUSES),
            )
        return cast(Status, value)

    def flag(self, node: Node, what: str) -> bool:
        """Parse `true` or `false` (YAML 1.2's booleans; no yes/no/on/off)."""
        value = self.scalar(node, what).value.strip()
        if value not in ("true", "false"):
            raise self.fail(node, f"{what} '{value}' is not true or false", "write true or false")
        return value == "true"

    def dates(self, node: Node, what: str) -> tuple[dt.date, ...]:
        items = node.items if isinstance(node, Sequence) else [node]
        result: list[dt.date] = []
        for item in items:
            try:
                value = self.when(item, what, "UTC")
            except AlreadyReported:
                continue
            if isinstance(value, dt.datetime):
                self.error(
                    item, f"{what} takes dates of occurrences, not times", f"write {value:%Y-%m-%d}"
                )
                continue
            result.append(value)
        return tuple(sorted(set(result)))


def closest(word: str, choices: Any) -> str:
    same_letters = [choice for choice in choices if choice.lower() == word.lower()]
    match = same_letters or difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{match[0]}'?" if match else ""


def _iso_offset(offset: str) -> str:
    if offset == "Z":
        return "+00:00"
    return offset if ":" in offset else f"{offset[:3]}:{offset[3:]}"


def has_offset(value: dt.date | dt.datetime | None) -> bool:
    """Return whether a parsed time was written with an explicit UTC offset."""
    return isinstance(value, dt.datetime) and isinstance(value.tzinfo, dt.timezone)
