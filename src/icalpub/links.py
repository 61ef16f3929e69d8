"""Links that hand an event or a subscription to Google Calendar, Outlook.com and Office 365."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote, urlencode

from .model import Event
from .text import to_plain

DETAILS_LIMIT = 1000  # characters of description in a link; browsers cap URLs near 8 KB
OUTLOOK_HOSTS = {"outlook.com": "outlook.live.com", "office365": "outlook.office.com"}


def webcal(url: str) -> str:
    """Return the webcal:// form of an http(s) calendar URL (opens the calendar app)."""
    return "webcal://" + url.split("://", 1)[1]


def google_subscribe(url: str) -> str:
    """Return the Google Calendar link that offers to subscribe to `url`."""
    return "https://calendar.google.com/calendar/render?cid=" + quote(webcal(url), safe="")


def outlook_subscribe(url: str, name: str, service: str) -> str:
    """Return the Outlook.com or Office 365 link that offers to subscribe to `url`."""
    query = urlencode(
        {"path": "/calendar/action/compose", "rru": "addsubscription", "url": url, "name": name}
    )
    return f"https://{OUTLOOK_HOSTS[service]}/owa?{query}"


def outlook_add_from_web(service: str) -> str:
    """Return Outlook's "Subscribe from web" form, where the address is pasted (always works)."""
    return f"https://{OUTLOOK_HOSTS[service]}/calendar/0/addfromweb"


def google_event(event: Event, title: str, page: str) -> str:
    """Return the Google Calendar "create event" link for the event's first occurrence."""
    start, end = _span(event)
    if event.all_day:
        dates = f"{start:%Y%m%d}/{end:%Y%m%d}"
    else:
        dates = f"{_utc(start):%Y%m%dT%H%M%SZ}/{_utc(end):%Y%m%dT%H%M%SZ}"
    params = {"action": "TEMPLATE", "text": title, "dates": dates, "details": _details(event, page)}
    if event.location:
        params["location"] = event.location
    if not event.all_day:
        params["ctz"] = event.timezone
    return "https://calendar.google.com/calendar/render?" + urlencode(params)


def outlook_event(event: Event, title: str, page: str, service: str) -> str:
    """Return the Outlook.com or Office 365 "new event" link for the event's first occurrence."""
    start, end = _span(event)
    if event.all_day:
        first, last, all_day = start.isoformat(), end.isoformat(), "true"
    else:
        first = f"{_utc(start):%Y-%m-%dT%H:%M:%SZ}"
        last = f"{_utc(end):%Y-%m-%dT%H:%M:%SZ}"
        all_day = "false"
    params = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": title,
        "startdt": first,
        "enddt": last,
        "allday": all_day,
        "body": _details(event, page),
    }
    if event.location:
        params["location"] = event.location
    return f"https://{OUTLOOK_HOSTS[service]}/calendar/0/deeplink/compose?" + urlencode(params)


def _span(event: Event) -> tuple[dt.date | dt.datetime, dt.date | dt.datetime]:
    if event.all_day:
        last = event.end if event.end is not None else event.start
        return event.start, last + dt.timedelta(days=1)  # exclusive end, as both services want
    end = event.end if event.end is not None else event.start + dt.timedelta(hours=1)
    return event.start, end


def _utc(value: dt.date | dt.datetime) -> dt.datetime:
    assert isinstance(value, dt.datetime)
    return value.astimezone(dt.UTC)


def _details(event: Event, page: str) -> str:
    text = to_plain(event.description) if event.description else (event.summary or "")
    if len(text) > DETAILS_LIMIT:
        text = text[: DETAILS_LIMIT - 1].rsplit(" ", 1)[0] + "…"
    return f"{text}\n\n{page}" if text else page
