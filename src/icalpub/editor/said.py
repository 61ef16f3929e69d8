"""The validator's messages in the interface's language, on the form's fields. Pure.

The registry's reader speaks English (`icalpub validate` is for people at a
terminal and in CI logs); on the form each message sits on its field, so the
event and field it names ("event 'x' end …") are dropped and the rest is said
from the catalog. A message no pattern knows is kept as the reader wrote it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from .refusals import FieldProblem

_WHAT = r"(?:event '[^']*'|an event)(?: [a-z_]+(?: \([a-z-]+\))?)?"
# (the reader's message, the catalog's message with the same {names})
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(rf"{_WHAT}{pattern}$"), message)
    for pattern, message in (
        (r" ends before it starts", "The end is before the start"),
        (
            r" starts with a date only, so its end must be a date only too",
            "An all-day event ends on a date: leave the end time empty",
        ),
        (
            r" starts with a date and time, so its end must be a date and time too",
            "The event starts at a time, so its end needs a time too",
        ),
        (r" '(?P<value>[^']*)' is not a real date", "“{value}” is not a real date"),
        (
            r" '(?P<value>[^']*)' is not a real date and time",
            "“{value}” is not a real date and time",
        ),
        (
            r" '(?P<value>[^']*)' is not a date or a date and time",
            "“{value}” is not a date (YYYY-MM-DD) or a date and time (YYYY-MM-DD HH:MM)",
        ),
        (r" is empty", "This field cannot be empty"),
        (r" has no '(?P<name>[a-z_]+)'", "This is required"),
        (
            r" '(?P<value>[^']*)' is not a valid id",
            "“{value}” cannot be an id: use lower-case Latin letters, digits and hyphens",
        ),
        (
            r" '(?P<value>[^']*)' is not an absolute http\(s\) URL",
            "“{value}” is not a web address starting with https:// or http://",
        ),
        (
            r" email '(?P<value>[^']*)' is not an e-mail address",
            "“{value}” is not an e-mail address",
        ),
        (
            r" has no text in '(?P<language>[a-z-]+)', the default language",
            "Write this in the default language ({language}) too",
        ),
        (
            r" repeat is not a valid RRULE: no date matches all its BY parts.*",
            "No date matches this repeat rule (like 30 February)",
        ),
        (r" repeat is not a valid RRULE: .*", "The repeat rule is not valid"),
        (
            r" except (?P<day>\d{4}-\d{2}-\d{2}) is not an occurrence of the repeat rule",
            "{day} is not one of the event's dates",
        ),
        (r" has 'except' but no 'repeat'", "Only a repeating event can skip dates"),
        (
            r": (?P<wall>[\d-]+ [\d:]+) does not exist in (?P<zone>\S+) \(.*",
            "{wall} does not exist in {zone}: the clocks skip that hour when summer time starts",
        ),
        (
            r": (?P<wall>[\d-]+ [\d:]+) happens twice in (?P<zone>\S+) \(.*",
            "{wall} happens twice in {zone} (the clocks go back): edit the time in the file "
            "with its offset",
        ),
        (r" '(?P<value>[^']*)' is not an IANA time zone name", "“{value}” is not a time zone"),
        (
            r" has the unknown topic '(?P<value>[^']*)'",
            "“{value}” is not a topic of this calendar",
        ),
        (r" '(?P<value>[^']*)' is not true or false", "“{value}” is not true or false"),
        (r" must be one line", "This must be one line"),
    )
)


def said(problem: FieldProblem, gettext: Callable[[str], str]) -> FieldProblem:
    """Return `problem` in the interface's language (`gettext`), when a pattern knows it;
    its hint is then the catalog's too, or left out (the message says what to do)."""
    for pattern, message in PATTERNS:
        found = pattern.match(problem.message)
        if found:
            text = gettext(message).format(**found.groupdict())
            hint = gettext(problem.hint) if problem.hint else ""
            return replace(problem, message=text, hint=hint if hint != problem.hint else "")
    return problem
