"""RFC 5545 content lines: TEXT values escaped, lines folded at 75 octets, components
serialised with CRLF line ends (`ical` writes calendars and VEVENTs with them)."""

from __future__ import annotations

from icalendar import Component, vText


class Text(vText):
    """A TEXT value escaped exactly by RFC 5545 §3.3.11.

    icalendar 7's own escaping first turns a literal backslash-N into a
    newline, so an editor's "\\N" would change meaning; this escapes the
    backslash first and nothing else.
    """

    def to_ical(self) -> bytes:
        """Return the escaped value."""
        return escape_text(str(self)).encode("utf-8")


def escape_text(value: str) -> str:
    """Escape backslash, semicolon, comma and line breaks for an iCalendar TEXT value."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def serialize(component: Component) -> bytes:
    """Return a component's content lines, each folded by `fold`, with CRLF line ends."""
    return b"".join(fold(str(line)) + b"\r\n" for line in component.content_lines() if line)


def fold(line: str) -> bytes:
    """Fold a content line at 75 octets (RFC 5545 §3.1) without splitting a UTF-8 character.

    icalendar's own folding walks the line character by character in Python;
    most lines are short, and a long one is cut on bytes, stepping back over
    UTF-8 continuation bytes (10xxxxxx) to the start of a character.
    """
    data = line.encode("utf-8")
    return data if len(data) <= 75 else fold_bytes(data)


def fold_bytes(data: bytes) -> bytes:
    """Fold UTF-8 bytes longer than 75 octets (see `fold`)."""
    pieces = []
    start, limit = 0, 75
    while len(data) - start > limit:
        cut = start + limit
        while data[cut] & 0xC0 == 0x80:
            cut -= 1
        pieces.append(data[start:cut])
        start, limit = cut, 74  # a continuation line begins with a space
    pieces.append(data[start:])
    return b"\r\n ".join(pieces)
