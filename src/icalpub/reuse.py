"""When a reload may take an event from the last read instead of checking it again.

An event's value depends on its own text, the column it starts at (YAML
indentation), the calendar's default zone, its languages and the declared
topics: the key is those, hashed. An alias lets text outside the item shape it, so the reader
passes no text at all when the file has one, and nothing is reused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from .yamlsafe import Node


def event_key(
    text: str | None,
    item: Node,
    following: Node | None,
    zone: str,
    declared: Sequence[str],
    languages: Sequence[str] = (),
) -> bytes | None:
    """Return what an event item's value depends on, hashed; None when it cannot be reused.

    An item's text runs to where the next item starts, so the last item (no
    known end) and a file with aliases (`text` None) are never reused.
    """
    if text is None or following is None:
        return None
    digest = hashlib.blake2b(text[item.index : following.index].encode(), digest_size=16)
    digest.update(f"\0{item.column}\0{zone}\0{' '.join(declared)}".encode())
    digest.update(f"\0{' '.join(languages)}".encode())  # even one: it may be switched
    return digest.digest()
