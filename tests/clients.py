"""Models of calendar clients, each keeping its own copy of a subscription by UID.

Each model polls one URL the way its client is documented to and keeps what
that client would show: per UID the title (SUMMARY), start, status and
categories. Every answer is parsed with icalendar and must parse with vobject
too; `Watch` checks the stamps of every answer against all earlier ones.

How each client behaves, and where that is written:

- Google Calendar ("Google-Calendar-Importer"): a full GET on every poll, no
  conditional request. It keeps its stored copy of an event unless the new
  one is a newer revision (RFC 5546 §2.1.5: a higher SEQUENCE, or the same
  SEQUENCE with a later stamp), and drops UIDs that are gone. Seen in the
  field: https://adangel.org/2024/12/15/ical-and-google-calendar-sync and
  https://nsulistiyawan.github.io/icalendar-fix-google-calendar-does.html;
  SPEC §5 and issue #23 describe the same.
- Apple Calendar: revalidates with If-Modified-Since only (the Last-Modified
  of its last 200); a 200 replaces the whole calendar, a 304 keeps it (SPEC §5,
  issue #23).
- Thunderbird: If-None-Match with the last ETag (If-Modified-Since only when
  there was no ETag); a 304 keeps the memory calendar, a 200 makes a new one
  from the body (mozilla/releases-comm-central,
  calendar/providers/ics/CalICSCalendar.sys.mjs: httpHooks.onBeforeGet,
  onAfterGet, #createMemoryCalendar).
- Outlook: a full GET on every poll; the body replaces the calendar.
"""

from __future__ import annotations

import datetime as dt
import gzip
import http.client
import http.cookiejar
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, NamedTuple

import icalendar
import lxml.html
import vobject

from .editing import PASSWORD


class Shown(NamedTuple):
    """What a person sees of one event in their calendar."""

    title: str
    start: str
    status: str
    categories: tuple[str, ...]


View = dict[str, Shown]


@dataclass(frozen=True)
class Answer:
    """One HTTP answer to a poll, and the moment it was received (UTC, by the wall clock).

    `url` names the representation: "<port><path>", with " gzip" when it came gzipped
    (nginx sends the .gz twin, a file with its own modification time).
    """

    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    at: dt.datetime


def fetch(port: int, path: str, headers: dict[str, str] | None = None) -> Answer:
    """GET `path` from 127.0.0.1:`port`; the body is decoded when it came gzipped."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    at = dt.datetime.now(dt.UTC)
    found = {k.lower(): v for k, v in response.getheaders()}
    url = f"{port}{path}"
    if found.get("content-encoding") == "gzip":
        body, url = gzip.decompress(body), f"{url} gzip"
    return Answer(url, response.status, found, body, at)


def parse(answer: Answer) -> icalendar.Calendar:
    """Return the calendar of a 200 answer, which must parse with icalendar and vobject."""
    text = answer.body.decode("utf-8")
    calendar = icalendar.Calendar.from_ical(text)
    other = vobject.readOne(text)
    uids = {str(e["UID"]) for e in calendar.walk("VEVENT")}
    assert {e.uid.value for e in other.contents.get("vevent", [])} == uids, answer.url
    return calendar


def shown(calendar: icalendar.Calendar) -> View:
    """Return what a calendar shows per UID."""
    view: View = {}
    for event in calendar.walk("VEVENT"):
        categories: list[str] = []
        found = event.get("CATEGORIES")
        for entry in found if isinstance(found, list) else [found] if found else []:
            categories.extend(str(c) for c in entry.cats)
        view[str(event["UID"])] = Shown(
            str(event["SUMMARY"]),
            event.decoded("DTSTART").isoformat(),
            str(event.get("STATUS", "")),
            tuple(sorted(categories)),
        )
    return view


def check_headers(answer: Answer) -> None:
    """Last-Modified is never later than Date (RFC 9110 §8.8.2.1)."""
    if "last-modified" in answer.headers:
        date = parsedate_to_datetime(answer.headers["date"])
        assert last_modified(answer) <= date, (answer.url, answer.headers)


def last_modified(answer: Answer) -> dt.datetime:
    return parsedate_to_datetime(answer.headers["last-modified"])


@dataclass
class Watch:
    """Per UID across every answer: stamps never in the future, SEQUENCE and
    LAST-MODIFIED never back, CREATED never changed."""

    sequence: dict[str, int] = field(default_factory=dict)
    modified: dict[str, dt.datetime] = field(default_factory=dict)
    created: dict[str, dt.datetime] = field(default_factory=dict)
    bodies: dict[str, tuple[bytes, dt.datetime]] = field(default_factory=dict)
    answers: int = 0

    def check(self, answer: Answer, calendar: icalendar.Calendar) -> None:
        """Check one answer's events against the moment it came and all earlier answers."""
        self.answers += 1
        # Per URL, HTTP Last-Modified never goes back and is later for other bytes (SPEC §3).
        body, modified = self.bodies.get(answer.url, (answer.body, last_modified(answer)))
        if body == answer.body:
            assert last_modified(answer) >= modified, (answer.url, "Last-Modified went back")
        else:
            assert last_modified(answer) > modified, (answer.url, "Last-Modified did not move")
        self.bodies[answer.url] = answer.body, last_modified(answer)
        for event in calendar.walk("VEVENT"):
            uid = str(event["UID"])
            where = f"{answer.url} {uid}"
            for name in ("DTSTAMP", "CREATED", "LAST-MODIFIED"):
                stamp = event.decoded(name)
                assert stamp <= answer.at, f"{where}: {name} {stamp} is after the poll {answer.at}"
            sequence, modified = int(event.decoded("SEQUENCE")), event.decoded("LAST-MODIFIED")
            created = event.decoded("CREATED")
            assert sequence >= self.sequence.get(uid, sequence), f"{where}: SEQUENCE went back"
            assert modified >= self.modified.get(uid, modified), f"{where}: LAST-MODIFIED back"
            assert created == self.created.get(uid, created), f"{where}: CREATED changed"
            self.sequence[uid] = sequence
            self.modified[uid] = modified
            self.created[uid] = created


class Client:
    """A subscriber's calendar: polls one URL and keeps a copy of its events by UID."""

    name: ClassVar[str] = "client"
    encoding: ClassVar[dict[str, str]] = {"Accept-Encoding": "gzip"}

    def __init__(self, port: int, path: str, watch: Watch) -> None:
        self.port, self.path, self.watch = port, path, watch
        self.events: dict[str, tuple[Shown, int, dt.datetime]] = {}
        self.statuses: list[int] = []

    def __repr__(self) -> str:
        return f"{self.name}({self.port}{self.path})"

    @property
    def view(self) -> View:
        """Return what the person sees in this client now."""
        return {uid: kept[0] for uid, kept in self.events.items()}

    def poll(self) -> None:
        """Ask once, as the client does, and update the copy."""
        answer = fetch(self.port, self.path, {**self.encoding, **self.conditions()})
        check_headers(answer)
        self.statuses.append(answer.status)
        if answer.status == 304:
            return
        assert answer.status == 200, (self, answer.status, answer.body[:300])
        calendar = parse(answer)
        self.watch.check(answer, calendar)
        self.remember(answer)
        view = shown(calendar)
        incoming = {}
        for event in calendar.walk("VEVENT"):
            uid = str(event["UID"])
            revision = int(event.decoded("SEQUENCE")), event.decoded("LAST-MODIFIED")
            incoming[uid] = (view[uid], *revision)
        self.events = self.merge(incoming)

    def conditions(self) -> dict[str, str]:
        """Return the conditional headers of the next poll."""
        return {}

    def remember(self, answer: Answer) -> None:
        """Keep what the next poll's conditions need from a 200."""

    def merge(
        self, incoming: dict[str, tuple[Shown, int, dt.datetime]]
    ) -> dict[str, tuple[Shown, int, dt.datetime]]:
        """Return the copy after a 200 (by default the body replaces everything)."""
        return incoming


class Google(Client):
    """Full GET; an event's stored copy changes only for a newer revision; gone UIDs go."""

    name = "google"

    def merge(
        self, incoming: dict[str, tuple[Shown, int, dt.datetime]]
    ) -> dict[str, tuple[Shown, int, dt.datetime]]:
        kept = {}
        for uid, new in incoming.items():
            old = self.events.get(uid)
            newer = old is None or new[1] > old[1] or (new[1] == old[1] and new[2] > old[2])
            kept[uid] = new if newer or old is None else old
        return kept


class Apple(Client):
    """If-Modified-Since only; a 200 replaces the calendar, a 304 keeps it."""

    name = "apple"

    def __init__(self, port: int, path: str, watch: Watch) -> None:
        super().__init__(port, path, watch)
        self.last_modified = ""

    def conditions(self) -> dict[str, str]:
        return {"If-Modified-Since": self.last_modified} if self.last_modified else {}

    def remember(self, answer: Answer) -> None:
        self.last_modified = answer.headers.get("last-modified", "")


class Thunderbird(Client):
    """If-None-Match with the last ETag (else If-Modified-Since); a 200 replaces."""

    name = "thunderbird"

    def __init__(self, port: int, path: str, watch: Watch) -> None:
        super().__init__(port, path, watch)
        self.etag = self.last_modified = ""

    def conditions(self) -> dict[str, str]:
        if self.etag:
            return {"If-None-Match": self.etag}
        return {"If-Modified-Since": self.last_modified} if self.last_modified else {}

    def remember(self, answer: Answer) -> None:
        self.etag = answer.headers.get("etag", "")
        self.last_modified = answer.headers.get("last-modified", "")


class Outlook(Client):
    """A full GET every time; the body replaces the calendar."""

    name = "outlook"
    encoding: ClassVar[dict[str, str]] = {}


MODELS: tuple[type[Client], ...] = (Google, Apple, Thunderbird, Outlook)


# -- an editor at work, over real HTTP -----------------------------------------------


class Browser:
    """A person's browser on the editor: cookies, forms as lxml submits them, no JavaScript."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect()
        )

    def get(self, path: str) -> tuple[int, str]:
        """Return the status and text of a page."""
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, data: dict[str, Any] | list[tuple[str, str]]) -> tuple[int, str]:
        """Send a form; return the status and text of the answer (a redirect is not followed)."""
        body = urllib.parse.urlencode(data, doseq=True).encode()
        return self._open(urllib.request.Request(self.base + path, data=body, method="POST"))

    def log_in(self, name: str = "anna") -> None:
        """Log in through the login form."""
        form = self.form("/edit/login")
        form.update({"login": name, "password": PASSWORD})
        status, page = self.post("/edit/login", form)
        assert status == 302, page

    def form(self, path: str, pick: str = "") -> dict[str, Any]:
        """Return what submitting the page's first form containing `pick` would send."""
        forms = self.forms(path, pick)
        assert forms, f"no form with {pick!r} in {path}"
        return forms[0]

    def forms(self, path: str, pick: str = "") -> list[dict[str, Any]]:
        """Return what submitting each of the page's forms containing `pick` would send."""
        status, page = self.get(path)
        assert status == 200, (path, status, page[:2000])
        found = []
        for form in lxml.html.fromstring(page).forms:
            if pick not in lxml.html.tostring(form, encoding="unicode"):
                continue
            values: dict[str, Any] = {}
            for name, value in form.form_values():
                if name not in values:
                    values[name] = value
                elif isinstance(values[name], list):
                    values[name].append(value)
                else:
                    values[name] = [values[name], value]
            found.append(values)
        return found

    def _open(self, request: urllib.request.Request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")


def api(
    port: int, token: str, method: str, path: str, body: Any = None, etag: str = ""
) -> tuple[int, dict[str, str], Any]:
    """Call the editor's API as a script does: status, lower-cased headers, JSON (or None)."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if etag:
        headers["If-Match"] = etag
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        data = json.dumps(body).encode() if body is not None else None
        connection.request(method, "/edit/api" + path, body=data, headers=headers)
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    found = {k.lower(): v for k, v in response.getheaders()}
    return response.status, found, json.loads(raw) if raw else None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None
