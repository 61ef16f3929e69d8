"""What changed in an event between two versions, field by field and per language. Pure.

Used where a person compares versions: a proposal under review, the rows of
an event's history. A text given once or per language is compared per
language (a plain text is the default language's); other values as written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .form import TRANSLATED
from .yamltext import Value


@dataclass(frozen=True)
class FieldChange:
    """One field (in one language, for a text) that differs: its old and new text."""

    field: str
    language: str  # "" for a field that is not a text per language
    old: str  # "" when the field was not there
    new: str  # "" when it is gone


def diff(
    before: Mapping[str, Value] | None,
    after: Mapping[str, Value] | None,
    languages: Sequence[str],
) -> list[FieldChange]:
    """Return the fields that differ between two versions of an event, in a stable order."""
    old, new = before or {}, after or {}
    found: list[FieldChange] = []
    for name in _order({*old, *new}):
        if name in TRANSLATED:
            was = per_language(old.get(name), languages)
            now = per_language(new.get(name), languages)
            for language in _languages(languages, {*was, *now}):
                if was.get(language, "") != now.get(language, ""):
                    found.append(
                        FieldChange(name, language, was.get(language, ""), now.get(language, ""))
                    )
        elif as_text(old.get(name)) != as_text(new.get(name)):
            found.append(FieldChange(name, "", as_text(old.get(name)), as_text(new.get(name))))
    return found


def missing_translations(
    before: Mapping[str, Value] | None,
    after: Mapping[str, Value],
    languages: Sequence[str],
) -> list[tuple[str, str]]:
    """Return (field, language) of each text the change leaves behind in another language:
    a changed text with no text in that language, or one not changed with the default's."""
    if len(languages) < 2:
        return []
    found = []
    for name in _order(after):
        if name not in TRANSLATED:
            continue
        was = per_language((before or {}).get(name), languages)
        now = per_language(after.get(name), languages)
        if was == now:
            continue
        default_changed = was.get(languages[0], "") != now.get(languages[0], "")
        for language in languages[1:]:
            text = now.get(language, "")
            if not text or (default_changed and was and text == was.get(language, "")):
                found.append((name, language))
    return found


def per_language(value: Value | None, languages: Sequence[str]) -> dict[str, str]:
    """Return a text field as one text per language (a plain text is the default's)."""
    if isinstance(value, str):
        return {languages[0] if languages else "": value} if value else {}
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if v}
    return {}


def as_text(value: Value | None) -> str:
    """Return a value as a person reads it: lists joined, mappings as `key: value` pairs."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return value


# The form's order, then any other field alphabetically.
_ORDER = (
    "id", "draft", "publish_at", "title", "start", "end", "timezone", "repeat", "except",
    "location", "topics", "summary", "description", "url", "contact", "status",
)  # fmt: skip


def _order(names: Iterable[str]) -> list[str]:
    given = set(names)
    return [n for n in _ORDER if n in given] + sorted(given - set(_ORDER))


def _languages(languages: Sequence[str], present: set[str]) -> list[str]:
    return [code for code in languages if code in present] + sorted(present - set(languages))


# A field's name on the page (translated through the catalog).
LABELS = {
    "id": "Id",
    "draft": "Draft",
    "publish_at": "Published from",
    "title": "Title",
    "start": "Start",
    "end": "End",
    "timezone": "Time zone",
    "repeat": "Repeats",
    "except": "Skipped dates",
    "location": "Place",
    "topics": "Topics",
    "summary": "Summary",
    "description": "Description",
    "url": "Web page",
    "contact": "Contact",
    "status": "Status",
    "published": "Announced",
    "updated": "Last changed",
    "sequence": "Revision",
}
