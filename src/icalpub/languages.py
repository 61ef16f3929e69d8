"""One registry seen in each of its languages: the texts translated, the rest marked fallback.

The default language's view is the registry itself (its plain texts are in
that language). Another language's view has the same events, times and
UIDs with each text in that language where the registry gives it, else in
the default language with the field named in `fallback` (outputs mark it:
`LANGUAGE=` in calendars, `lang` in HTML). The calendar's `language` is the
view's; `languages[0]` stays the default.
"""

from __future__ import annotations

import dataclasses

from .errors import Problem
from .model import CALENDAR_TEXTS, EVENT_TEXTS, Calendar, Event, Registry, Topic, Translations

NAMES = {"lv": "latviešu", "en": "English"}  # each language's name in itself, for the switch


def view(registry: Registry, language: str) -> Registry:
    """Return `registry` with its texts in `language`, falling back to the default."""
    calendar = registry.calendar
    if language == calendar.default_language:
        return registry
    if language not in calendar.published_languages:
        raise ValueError(f"{language!r} is not one of the registry's languages")
    events = tuple(_event(event, language) for event in registry.events)
    return Registry(_calendar(calendar, language), registry.topics, events, registry.source)


def prefix(calendar: Calendar, language: str | None = None) -> str:
    """Return the path prefix of `language` (default: the calendar's): "" or "en/"."""
    chosen = language or calendar.language
    return "" if chosen == calendar.default_language else f"{chosen}/"


def name(language: str) -> str:
    """Return a language's name in that language (its code when unknown)."""
    return NAMES.get(language, language)


def topic_fallback(topic: Topic, calendar: Calendar) -> bool:
    """Return whether `topic`'s title shows in the default language in the calendar's view."""
    if calendar.language == calendar.default_language:
        return False
    return not topic.has_title(calendar.language)


def missing(registry: Registry) -> list[Problem]:
    """Return a warning per event with a text not translated into every language, and a count."""
    calendar = registry.calendar
    others = calendar.published_languages[1:]
    warnings: list[Problem] = []
    for language in others:
        lacking = []
        for event in registry.events:
            absent = [
                field
                for field in EVENT_TEXTS
                if getattr(event, field) is not None and event.translation(language, field) is None
            ]
            if absent:
                lacking.append(event.id)
                warnings.append(
                    Problem(
                        registry.source,
                        event.line,
                        event.column,
                        f"event '{event.id}' has no '{language}' text for {', '.join(absent)}",
                        f"write it as '{absent[0]}: {{{calendar.default_language}: …, "
                        f"{language}: …}}'; "
                        f"until then the {language} calendar shows the "
                        f"{calendar.default_language} text",
                        severity="warning",
                    )
                )
        if lacking:
            warnings.append(
                Problem(
                    registry.source,
                    1,
                    1,
                    f"{len(lacking)} of {len(registry.events)} events lack a translation "
                    f"into '{language}': {', '.join(lacking)}",
                    severity="warning",
                )
            )
    return warnings


def _event(event: Event, language: str) -> Event:
    changes, fallback = _texts(event, EVENT_TEXTS, event.translations, language)
    return dataclasses.replace(event, fallback=fallback, **changes)  # type: ignore[arg-type]


def _calendar(calendar: Calendar, language: str) -> Calendar:
    changes, fallback = _texts(calendar, CALENDAR_TEXTS, calendar.translations, language)
    return dataclasses.replace(
        calendar,
        language=language,
        fallback=fallback,
        **changes,  # type: ignore[arg-type]
    )


def _texts(
    item: object, fields: tuple[str, ...], translations: Translations, language: str
) -> tuple[dict[str, str], frozenset[str]]:
    """Return `item`'s texts given in `language`, and the fields that fall back."""
    given = {key: text for lang, key, text in translations if lang == language}
    present = [field for field in fields if getattr(item, field) is not None]
    changes = {field: given[field] for field in present if field in given}
    return changes, frozenset(field for field in present if field not in given)
