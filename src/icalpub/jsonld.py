"""An event as schema.org `Event` JSON-LD, the data search engines read from its page.

Pure: the event (in the page's language), the occurrence shown and the page's
address are passed in. Follows the properties Google documents for events:
required `name`, `startDate`, `location` (a `Place` with its `address`, or a
`VirtualLocation` with its `url`); recommended `description`, `endDate`,
`eventStatus` (with `previousStartDate` when rescheduled),
`eventAttendanceMode`, `organizer`. The registry has no images, offers or
performers, so those are left out rather than made up.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import nh3
from markupsafe import Markup

from .agenda import fold
from .model import Calendar, Event
from .occurrences import Occurrence
from .text import to_plain

SCHEMA = "https://schema.org/"
# A place that is one of these words is online (folded: no case, no accents).
ONLINE = re.compile(
    r"\b(online|tiessaist\w*|zoom|ms teams|teams|webex|webinar\w*|vebinar\w*|"
    r"virtual\w*|attalinat\w*|videokonferenc\w*|video conferenc\w*)\b"
)


def online(event: Event) -> bool:
    """Return whether the event's place, in any of its languages, says it is online."""
    places = [event.location or ""]
    places += [text for _, name, text in event.translations if name == "location"]
    return any(ONLINE.search(fold(place)) for place in places if place)


def event_data(
    event: Event,
    occurrence: Occurrence | None,
    calendar: Calendar,
    page: str,
    language: str,
    previous_start: dt.date | dt.datetime | None = None,
) -> dict[str, object]:
    """Return the schema.org `Event` of `event` as it happens at `occurrence` (else its first).

    `previous_start` is the start the event had before it was moved (the
    ledger's record): the status is then `EventRescheduled`.
    """
    start = occurrence.start if occurrence is not None else event.start
    end = occurrence.end if occurrence is not None else event.end
    end_text: str | None
    if not isinstance(start, dt.datetime):  # all-day: dates, `end` inclusive
        last = occurrence.last_day if occurrence is not None else (end or start)
        start_text, end_text = start.isoformat(), _date(last).isoformat()
    else:
        start_text = start.isoformat()
        end_text = end.isoformat() if isinstance(end, dt.datetime) else None
    data: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": event.title,
        "startDate": start_text,
    }
    if end_text is not None:
        data["endDate"] = end_text
    data.update(_status(event, previous_start))
    is_online = online(event)
    data["eventAttendanceMode"] = SCHEMA + (
        "OnlineEventAttendanceMode" if is_online else "OfflineEventAttendanceMode"
    )
    if is_online:
        data["location"] = {"@type": "VirtualLocation", "url": event.url or page}
    elif event.location:
        data["location"] = {
            "@type": "Place",
            "name": event.location,
            "address": {"@type": "PostalAddress", "streetAddress": event.location},
        }
    description = to_plain(event.description) if event.description else event.summary
    if description:
        # Plain text: HTML written into the Markdown is dropped, not shown as tags.
        data["description"] = html.unescape(nh3.clean(description, tags=set())).strip()
    data["organizer"] = _organizer(event, calendar)
    # A title left in the default language is in that language.
    data["inLanguage"] = calendar.default_language if "title" in event.fallback else language
    data["url"] = page
    return data


def _status(event: Event, previous_start: dt.date | dt.datetime | None) -> dict[str, object]:
    """Return the event's schema.org status (and the start it had, when it was moved)."""
    if event.status == "cancelled":
        return {"eventStatus": SCHEMA + "EventCancelled"}
    if previous_start is not None and previous_start != event.start:
        return {
            "eventStatus": SCHEMA + "EventRescheduled",
            "previousStartDate": previous_start.isoformat(),
        }
    return {"eventStatus": SCHEMA + "EventScheduled"}


def _organizer(event: Event, calendar: Calendar) -> dict[str, object]:
    """Return who organises the event: its own contact a person, the calendar's an organisation."""
    contact = event.contact or calendar.contact
    organizer: dict[str, object] = {
        "@type": "Person" if event.contact and event.contact.name else "Organization",
        "name": (contact.name if contact and contact.name else None) or calendar.title,
    }
    if organizer["@type"] == "Organization":
        organizer["url"] = calendar.base_url
    if contact and contact.phone:
        organizer["telephone"] = contact.phone
    if contact and contact.email:
        organizer["email"] = contact.email
    return organizer


def script(data: dict[str, object]) -> Markup:
    """Return `data` as a `<script type="application/ld+json">` element, safe inside HTML."""
    text = json.dumps(data, ensure_ascii=False, indent=1)
    # `<`, `>` and `&` as JSON escapes: no text can close the element or open a comment.
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup('<script type="application/ld+json">\n{}\n</script>').format(Markup(text))


def _date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value
