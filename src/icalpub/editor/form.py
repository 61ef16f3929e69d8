"""The event form: an event's fields (as written in the registry) to form values and back.

Pure. Dates and times are the event's own wall time, typed by the editor,
never converted through the browser's zone. The repeat builder covers the
common rules (every N weeks on chosen days, monthly on a date or on the nth
weekday, until a date or N times); any other rule stays in the raw RRULE field
exactly as written. What the form does not show (`published`, `updated`,
`sequence`, fixed-offset times) is kept from the event as it was.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..model import Event
from ..recurrence import parse_rule
from ..zones import localize
from .yamltext import Fields, Value

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
KINDS = ("", "weekly", "monthly-date", "monthly-weekday", "custom")
TEXT_FIELDS = ("id", "title", "location", "summary", "description", "url", "status")
TRANSLATED = ("title", "location", "summary", "description")  # a control per language
KEPT = ("published", "updated", "sequence")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_LOCAL = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[T ](\d{1,2}:\d{2})(?::\d{2})?)?$")


@dataclass
class Form:
    """The values of the form's controls, by control name."""

    values: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)
    locked: str = ""  # why the times cannot be edited here ("" when they can)

    def get(self, name: str) -> str:
        """Return one control's value ("" when empty)."""
        return self.values.get(name, "")

    def has(self, name: str, value: str) -> bool:
        """Return whether a multiple-choice control has `value` chosen."""
        return value in self.lists.get(name, [])


def control(name: str, language: str, languages: Sequence[str]) -> str:
    """Return the form control of a text field in a language: `title`, `title_en`."""
    return name if not languages or language == languages[0] else f"{name}_{language}"


def to_form(fields: Mapping[str, Value], languages: Sequence[str] = ()) -> Form:
    """Return the form showing an event's fields; texts per language each in their control.

    `languages` are the registry's, the default first.
    """
    form = Form()
    for name in TEXT_FIELDS:
        value = fields.get(name)
        if isinstance(value, str):
            form.values[name] = value
        elif name in TRANSLATED and value is not None:
            form.values.update(text_controls(name, value, languages))
    form.values.setdefault("status", "confirmed")
    zone = fields.get("timezone")
    form.values["timezone"] = zone if isinstance(zone, str) else ""
    start, end = _text(fields, "start"), _text(fields, "end")
    first, last = _LOCAL.match(start.strip()), _LOCAL.match(end.strip()) if end else None
    if (start and not first) or (end and not last):
        form.locked = "times written with a UTC offset are edited in the file"
    if first:
        form.values["start_date"] = first.group(1)
        form.values["start_time"] = _hhmm(first.group(2))
        form.values["allday"] = "" if first.group(2) else "1"
    if last:
        form.values["end_date"] = last.group(1)
        form.values["end_time"] = _hhmm(last.group(2))
    topics = fields.get("topics")
    form.lists["topics"] = list(topics) if isinstance(topics, list) else _list(topics)
    contact = fields.get("contact")
    if isinstance(contact, dict):
        for key in ("name", "phone", "email"):
            form.values[f"contact_{key}"] = contact.get(key, "")
    excepted = fields.get("except")
    form.lists["except"] = list(excepted) if isinstance(excepted, list) else _list(excepted)
    _repeat_to_form(_text(fields, "repeat"), form)
    for name in KEPT:
        value = fields.get(name)
        if isinstance(value, str):
            form.values[name] = value
    _publishing_to_form(fields, form)
    return form


def _publishing_to_form(fields: Mapping[str, Value], form: Form) -> None:
    """Show `draft` as a checkbox and `publish_at` as a date and a time (local, as written)."""
    form.values["draft"] = "1" if _text(fields, "draft").strip() == "true" else ""
    when = _LOCAL.match(_text(fields, "publish_at").strip())
    if when:
        form.values["publish_date"] = when.group(1)
        form.values["publish_time"] = _hhmm(when.group(2))
    elif _text(fields, "publish_at"):
        form.values["publish_at"] = _text(fields, "publish_at")  # an offset: kept as written


def _publishing_from_form(
    values: Mapping[str, str], original: Mapping[str, Value], fields: Fields
) -> None:
    """Write `draft: true` when the box is ticked, `publish_at` from its date and time."""

    def get(name: str) -> str:
        return (values.get(name) or "").strip()

    if get("draft"):
        fields["draft"] = "true"
    elif _text(original, "draft").strip() == "false":
        fields["draft"] = "false"  # written by hand: kept
    day, time = get("publish_date"), get("publish_time")
    if day or time:
        fields["publish_at"] = f"{day} {time or '00:00'}".strip()
    elif get("publish_at"):
        fields["publish_at"] = get("publish_at")


def from_form(
    values: Mapping[str, str],
    lists: Mapping[str, Sequence[str]],
    original: Mapping[str, Value],
    default_zone: str,
    languages: Sequence[str] = (),
) -> Fields:
    """Return the event's fields from a submitted form; what it does not show is kept.

    `default_zone` is the calendar's, the zone of an event without `timezone:`.
    A text given in more than one language is written as one text per language
    (the default first); a text in the default language alone stays a plain
    text, unless the event had it as a mapping already.
    """

    def get(name: str) -> str:
        return (values.get(name) or "").strip()

    fields: Fields = {}
    for name in TEXT_FIELDS:
        value = text_value(
            name,
            values,
            languages,
            original.get(name),
            block=name == "description",
            translated=name in TRANSLATED,
        )
        if value:
            fields[name] = value
    if fields.get("status") == "confirmed" and "status" not in original:
        del fields["status"]
    allday = bool(get("allday"))
    locked = to_form(original).locked if original else ""
    if locked:
        for name in ("start", "end"):
            if name in original:
                fields[name] = original[name]
    else:
        start_date, end_date = get("start_date"), get("end_date")
        start_time, end_time = get("start_time"), get("end_time")
        if allday:
            if start_date:
                fields["start"] = start_date
            if end_date and end_date != start_date:
                fields["end"] = end_date
        else:
            if start_date or start_time:
                fields["start"] = f"{start_date} {start_time}".strip()
            if end_time or end_date:
                fields["end"] = f"{end_date or start_date} {end_time}".strip()
    if get("timezone"):
        fields["timezone"] = get("timezone")
    topics = [t for t in lists.get("topics", []) if t]
    if topics:
        fields["topics"] = topics
    contact = {k: get(f"contact_{k}") for k in ("name", "phone", "email") if get(f"contact_{k}")}
    if contact:
        fields["contact"] = contact
    rule = _repeat_from_form(values, lists, fields, default_zone)
    if rule:
        fields["repeat"] = rule
        excepted = sorted({d for d in lists.get("except", []) if d})
        if excepted:
            fields["except"] = excepted
    for name in KEPT:
        kept = original.get(name)
        if isinstance(kept, str) and kept:
            fields[name] = kept
    _publishing_from_form(values, original, fields)
    return fields


def text_controls(name: str, value: Value, languages: Sequence[str]) -> dict[str, str]:
    """Return the form controls showing a text field: one per language it is given in."""
    if isinstance(value, str):
        return {name: value}
    if isinstance(value, dict):
        order = languages or list(value)
        return {control(name, language, order): text for language, text in value.items()}
    return {}


def text_value(
    name: str,
    values: Mapping[str, str],
    languages: Sequence[str],
    original: Value | None,
    block: bool = False,
    translated: bool = True,
) -> Value:
    """Return a text field from its controls: a text, one text per language, or "".

    A text given in another language than the default makes a mapping (the
    default first, as the reader wants it); a default text alone stays plain,
    unless the field was a mapping already. `block` keeps a multi-line text's
    lines and ends it with a line break, as a literal block holds it.
    """
    default = _as_was(_cleaned(values.get(name), block), original, languages)
    if len(languages) < 2 or not translated:
        return default
    given = {
        language: _as_was(
            _cleaned(values.get(control(name, language, languages)), block), original, [language]
        )
        for language in languages
    }
    given = {language: text for language, text in given.items() if text}
    if any(language != languages[0] for language in given) or (
        given and isinstance(original, dict)
    ):
        return given
    return default


def _as_was(text: str, original: Value | None, languages: Sequence[str]) -> str:
    """Return `original`'s text for the language when `text` is it but for its line end.

    A one-line literal block (`|`) ends with a line break a form field cannot
    show: an unchanged field must not rewrite it.
    """
    before = original.get(languages[0]) if isinstance(original, dict) and languages else original
    if isinstance(before, str) and text and before.rstrip("\n") == text:
        return before
    return text


def _cleaned(value: str | None, block: bool) -> str:
    """Return a submitted text as the registry keeps it ("" for none)."""
    text = (value or "").replace("\r\n", "\n")
    if not block:
        return text.strip()
    text = text.strip("\n").rstrip()
    return text + "\n" if "\n" in text else text


def next_dates(event: Event, today: dt.date, count: int = 12) -> list[dt.date]:
    """Return the repeating event's next `count` dates from `today`, skipped ones included."""
    if event.repeat is None:
        return []
    rule = parse_rule(event)
    if isinstance(rule, str):
        return []
    start = dt.datetime.combine(today, dt.time())
    if isinstance(event.start, dt.datetime):
        start = start.replace(tzinfo=event.start.tzinfo)
    dates = [hit.date() for hit in rule.xafter(start, count=count, inc=True)]
    return sorted(set(dates) | {d for d in event.exceptions if d >= today})


# -- the repeat builder ---------------------------------------------------------------


def _repeat_to_form(rule: str, form: Form) -> None:
    form.values.update(repeat_kind="", repeat_interval="1", repeat_ends="never")
    form.lists["repeat_days"] = []
    if not rule:
        return
    parts = dict(p.split("=", 1) for p in rule.upper().split(";") if "=" in p)
    known = {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "UNTIL", "COUNT", "WKST"}
    interval = parts.get("INTERVAL", "1")
    days = [d for d in parts.get("BYDAY", "").split(",") if d]
    kind = "custom"
    if set(parts) <= known and interval.isdigit() and not ("UNTIL" in parts and "COUNT" in parts):
        if parts.get("FREQ") == "WEEKLY" and "BYMONTHDAY" not in parts:
            if all(d in WEEKDAYS for d in days):
                kind = "weekly"
        elif parts.get("FREQ") == "MONTHLY" and not ("BYDAY" in parts and "BYMONTHDAY" in parts):
            if "BYMONTHDAY" in parts and parts["BYMONTHDAY"].isdigit():
                kind = "monthly-date"
            elif len(days) == 1 and re.fullmatch(r"(-1|[1-5])(MO|TU|WE|TH|FR|SA|SU)", days[0]):
                kind = "monthly-weekday"
    form.values["repeat_kind"] = kind
    form.values["repeat_rule"] = rule
    if kind == "custom":
        return
    form.values["repeat_interval"] = interval
    form.lists["repeat_days"] = days if kind == "weekly" else []
    if "COUNT" in parts:
        form.values.update(repeat_ends="count", repeat_count=parts["COUNT"])
    elif "UNTIL" in parts:
        until = parts["UNTIL"]
        form.values.update(
            repeat_ends="until", repeat_until=f"{until[:4]}-{until[4:6]}-{until[6:8]}"
        )


def _repeat_from_form(
    values: Mapping[str, str],
    lists: Mapping[str, Sequence[str]],
    fields: Fields,
    default_zone: str,
) -> str:
    kind = (values.get("repeat_kind") or "").strip()
    if kind == "custom":
        return (values.get("repeat_rule") or "").strip()
    if kind not in KINDS or not kind:
        return ""
    interval = (values.get("repeat_interval") or "1").strip() or "1"
    parts = ["FREQ=WEEKLY" if kind == "weekly" else "FREQ=MONTHLY"]
    if interval != "1":
        parts.append(f"INTERVAL={interval}")
    start = fields.get("start")
    first = _LOCAL.match(start.strip()) if isinstance(start, str) else None
    day = _date(first.group(1)) if first else None
    if kind == "weekly":
        days = [d for d in WEEKDAYS if d in lists.get("repeat_days", [])]
        if not days and day is not None:
            days = [WEEKDAYS[day.weekday()]]
        if days:
            parts.append("BYDAY=" + ",".join(days))
    elif kind == "monthly-date" and day is not None:
        parts.append(f"BYMONTHDAY={day.day}")
    elif kind == "monthly-weekday" and day is not None:
        nth = (day.day - 1) // 7 + 1
        if day.day + 7 > calendar.monthrange(day.year, day.month)[1] and nth >= 4:
            nth = -1  # the last one of the month
        parts.append(f"BYDAY={nth}{WEEKDAYS[day.weekday()]}")
    ends = (values.get("repeat_ends") or "never").strip()
    if ends == "count":
        parts.append(f"COUNT={(values.get('repeat_count') or '').strip()}")
    elif ends == "until":
        parts.append("UNTIL=" + _until(values.get("repeat_until") or "", fields, default_zone))
    return ";".join(parts)


def _until(day_text: str, fields: Fields, default_zone: str) -> str:
    """Return UNTIL for the last day: the date for all-day events, its end in UTC otherwise."""
    day = _date(day_text.strip())
    if day is None:
        return day_text.strip().replace("-", "")
    start = fields.get("start")
    if not (isinstance(start, str) and " " in start.strip()):
        return day.strftime("%Y%m%d")
    zone = fields.get("timezone")
    name = zone if isinstance(zone, str) and zone else default_zone
    try:
        end = localize(dt.datetime.combine(day, dt.time(23, 59, 59)), name)
        return end.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    except OverflowError:  # the last day there is, in a zone behind UTC
        return day.strftime("%Y%m%dT235959Z")


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if _DATE.fullmatch(text) else None
    except ValueError:
        return None


def _text(fields: Mapping[str, Value], name: str) -> str:
    value = fields.get(name)
    return value if isinstance(value, str) else ""


def _list(value: Value | None) -> list[str]:
    return [value] if isinstance(value, str) and value else []


def _hhmm(text: str | None) -> str:
    if not text:
        return ""
    hours, minutes = text.split(":")
    return f"{int(hours):02d}:{minutes}"
