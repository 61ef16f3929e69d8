"""The one mapping from events, topics and feeds to paths and absolute URLs."""

from __future__ import annotations

from collections.abc import Iterable

from .languages import prefix
from .model import Calendar

FORMATS = ("ics", "rss", "atom", "json")
_WHOLE = {"ics": "calendar.ics", "rss": "feed.rss", "atom": "feed.atom", "json": "feed.json"}
# An event or topic id, as it appears in a path (SPEC §1).
ID = "[a-z0-9][a-z0-9-]{0,79}"
# A language's prefix in a path (a BCP 47 tag, as calendar.languages accepts).
LANGUAGE = "[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*"
# The folders of single files: one per topic, one per event.
FOLDERS = ("topics", "events")


def feed_path(fmt: str, topics: Iterable[str] = ()) -> str:
    """Return the path of a calendar or feed: everything, one topic, or a query for several."""
    chosen = canonical_topics(topics)
    if not chosen:
        return _WHOLE[fmt]
    if len(chosen) == 1:
        return f"topics/{chosen[0]}.{fmt}"
    return _WHOLE[fmt] + "?" + "&".join(f"topic={t}" for t in chosen)


def canonical_topics(topics: Iterable[str]) -> tuple[str, ...]:
    """Return a topic set in its one canonical form: sorted, without repeats."""
    return tuple(sorted(set(topics)))


def page_path(topics: Iterable[str] = ()) -> str:
    """Return the path of the HTML calendar page, filtered to `topics` when given."""
    chosen = canonical_topics(topics)
    return "?" + "&".join(f"topic={t}" for t in chosen) if chosen else ""


def event_ics_path(event_id: str) -> str:
    """Return the path of one event's own .ics file."""
    return f"events/{event_id}.ics"


def event_page_path(event_id: str) -> str:
    """Return the path of an event's HTML page."""
    return f"events/{event_id}"


def absolute(calendar: Calendar, path: str = "", language: str | None = None) -> str:
    """Return `path` as an absolute URL in the calendar's (or `language`'s) publication.

    The default language is at base_url, every other under its prefix (`en/`).
    """
    return calendar.base_url + prefix(calendar, language) + path


def uid(calendar: Calendar, event_id: str) -> str:
    """Return the event's UID, stable forever: `<id>@<host of base_url>`."""
    return f"{event_id}@{calendar.host}"


def whole_names() -> tuple[str, ...]:
    """Return the stems of the whole-registry files: `calendar`, `feed`."""
    return tuple(sorted({name.split(".")[0] for name in _WHOLE.values()}))


def published_pattern() -> str:
    """Return a regular expression for every path a publication has (not index.json)."""
    formats = "|".join(FORMATS)
    files = rf"(?:(?:{'|'.join(whole_names())})|(?:{'|'.join(FOLDERS)})/{ID})\.(?:{formats})"
    return rf"(?:{LANGUAGE}/)?{files}"
