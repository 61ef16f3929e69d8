"""A new event's id, suggested from its title and date. Pure.

`Mācības par cilvēku tirdzniecību` starting 2026-12-10 → `macibas-par-cilveku-tirdzniecibu-2026-12`:
python-slugify transliterates (text-unidecode maps ā, č, ē, ģ, ī, ķ, ļ, ņ, š, ū, ž to their
Latin letters, as Latvian readers expect in an address), lower-cases, joins words with
hyphens and cuts at a word boundary, so the id fits SPEC §1's `[a-z0-9][a-z0-9-]{0,79}`.
An id someone has, or had (a deleted event's), gets `-2`, `-3`, ….
"""

from __future__ import annotations

import re
from collections.abc import Container

from slugify import slugify

ID = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")
RULE = (
    "The id is part of the event's address and never changes once saved: lower-case Latin "
    "letters, digits and hyphens, at most 80. Leave it empty to use the one made from the "
    "title and the date."
)
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def suggest(title: str, start: str, taken: Container[str] = ()) -> str:
    """Return an id made of the title's words and the start's year and month, not `taken`
    ("" when the title has no letters or digits)."""
    month = _MONTH.match(start.strip())
    tail = f"-{month.group(1)}-{month.group(2)}" if month else ""
    words = slugify(title, max_length=72 - len(tail), word_boundary=True, save_order=True)
    if not words:
        return ""
    found = f"{words}{tail}"
    number = 2
    while found in taken:
        found = f"{words}{tail}-{number}"
        number += 1
    return found
