"""Words and dates in the publication's language: gettext catalogs and CLDR data via Babel."""

from __future__ import annotations

import datetime as dt
import functools
import gettext
from importlib import resources

from babel import Locale
from babel.dates import format_date, format_time

LANGUAGES = ("lv", "en")
COMPILE = "pybabel compile -d src/icalpub/locale -D messages"  # after editing a .po


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """Return the catalog for `language` (its primary subtag), English source text otherwise.

    Read compiled (`messages.mo`, shipped beside its `messages.po`; a test says
    when the two differ): parsing the .po at every start cost each build,
    command and worker boot 15–20 ms (Babel's PO parser and the email package it imports).
    """
    primary = language.split("-")[0].lower()
    if primary not in LANGUAGES:
        return gettext.NullTranslations()
    mo = resources.files("icalpub").joinpath(f"locale/{primary}/LC_MESSAGES/messages.mo")
    with mo.open("rb") as handle:
        return gettext.GNUTranslations(handle)


def _(language: str, message: str) -> str:
    """Return `message` translated into `language`."""
    return translations(language).gettext(message)


def locale(language: str) -> Locale:
    """Return the Babel locale for `language`, English when CLDR does not know it."""
    try:
        return Locale.parse(language.replace("-", "_"))
    except (ValueError, LookupError):
        return Locale.parse("en")


def date_range(first: dt.date, last: dt.date, language: str) -> str:
    """Format an inclusive day range: '2018. gada 25.–26. septembris', 'September 25 – 26, 2018'."""
    loc = locale(language)
    if first == last:
        return format_date(first, "long", locale=loc)
    # CLDR has interval patterns for yMMMd only; per UTS #35 a requested MMMM
    # widens the month field of the matched pattern.
    formats = loc.interval_formats.get("yMMMd")
    if not formats:
        return f"{format_date(first, 'long', locale=loc)} – {format_date(last, 'long', locale=loc)}"
    field = "y" if first.year != last.year else "M" if first.month != last.month else "d"
    head, tail = (part.replace("MMM", "MMMM") for part in formats[field])
    return format_date(first, head, locale=loc) + format_date(last, tail, locale=loc)


def time_range(start: dt.datetime, end: dt.datetime | None, language: str) -> str:
    """Format a day's time span: '10:00–12:30' in the locale's own clock style."""
    loc = locale(language)
    first = format_time(start, "short", locale=loc)
    if end is None:
        return first
    return f"{first}–{format_time(end, 'short', locale=loc)}"
