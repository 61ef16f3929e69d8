"""No English on a Latvian editor page (#25 item 6): every word the editor's pages and
messages ask the catalog for, on every page both roles reach, has a Latvian translation."""

from __future__ import annotations

import html
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from flask import Flask

import icalpub
from icalpub.i18n import translations
from icalpub.live import Live
from icalpub.service import create_service
from icalpub.web import language

from .conftest import require
from .editing import add_editor, form_of, hidden, log_in

EVENT = "es-diena-2018"


def _latvian() -> set[str]:
    po = Path(icalpub.__file__).parent / "locale" / "lv" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as handle:
        found = [m for m in read_po(handle) if m.id and m.string]
    return {m.id[0] if isinstance(m.id, tuple) else str(m.id) for m in found}


class Recorder:
    """The Latvian catalog, noting every message asked of it."""

    def __init__(self, asked: set[str]) -> None:
        self.asked = asked
        self.catalog = translations("lv")

    def gettext(self, message: str) -> str:
        self.asked.add(message)
        return self.catalog.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        self.asked.add(singular)
        return self.catalog.ngettext(singular, plural, n)


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    found: set[str] = set()
    recorder = Recorder(found)
    monkeypatch.setattr(language, "translations", lambda code: recorder)
    return found


def test_every_editor_page_and_message_in_latvian_is_in_the_catalog(
    site: Path, asked: set[str]
) -> None:
    require("git")
    folder = site.parent
    for args in (("init", "-q"), ("add", "events.yaml", "events.lock")):
        subprocess.run(["git", *args], cwd=folder, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start"],
        cwd=folder,
        check=True,
    )
    add_editor(site)
    add_editor(site, "ilze", "ilze@example.lv", role="author")
    app: Flask = create_service(live=Live(site, background=False))
    app.config["TESTING"] = True
    publisher, author, stranger = app.test_client(), app.test_client(), app.test_client()
    stranger.get("/edit/login")
    stranger.post("/edit/login", data={"login": "x", "password": "y"})  # no CSRF token
    assert log_in(publisher).status_code == 302 and log_in(author, "ilze").status_code == 302
    seen: list[Any] = []

    def visit(client: Any, url: str, data: dict[str, Any] | None = None) -> str:
        response = client.post(url, data=data) if data is not None else client.get(url)
        assert response.status_code < 500, url
        seen.append(response)
        return str(response.get_data(as_text=True))

    # An author drafts, proposes, meets what only publishers may do.
    form = form_of(visit(author, "/edit/new"))
    form.update(title="Mācības", start_date="2026-12-10", allday="1")
    visit(author, "/edit/new", form)
    visit(author, "/edit/new", {**form, "title": ""})  # no title, no id: 422 on the id field
    visit(author, "/edit/new", {**form, "id": EVENT})  # a taken id
    visit(author, "/edit/?when=all")
    visit(author, "/edit/events/macibas-2026-12/preview")
    draft = form_of(visit(author, "/edit/events/macibas-2026-12"))
    visit(author, "/edit/events/macibas-2026-12", {k: v for k, v in draft.items() if k != "draft"})
    page = visit(author, f"/edit/events/{EVENT}")
    edited = {**form_of(page), "location": "Rīga"}
    visit(author, f"/edit/events/{EVENT}", edited)
    proposal = re.search(r"/edit/proposals/([a-z0-9]{12})", visit(author, "/edit/proposals"))
    assert proposal
    visit(author, f"/edit/proposals/{proposal.group(1)}?proposed=1")
    visit(author, "/edit/settings")
    token = hidden(page, "csrf_token")
    visit(author, f"/edit/events/{EVENT}/delete")
    # A publisher reviews, declines one, approves another, reads the history.
    visit(publisher, "/edit/proposals")
    review = visit(publisher, f"/edit/proposals/{proposal.group(1)}")
    approve = {"csrf_token": hidden(review, "csrf_token")}
    visit(publisher, f"/edit/proposals/{proposal.group(1)}/approve", approve)
    visit(author, f"/edit/events/{EVENT}", {**edited, "location": "Cēsis"})  # stale: both shown
    fresh = form_of(visit(author, f"/edit/events/{EVENT}"))
    visit(author, f"/edit/events/{EVENT}", {**fresh, "location": "Cēsis"})
    listed = visit(publisher, "/edit/proposals")
    second = [
        p for p in re.findall(r"/edit/proposals/([a-z0-9]{12})", listed) if p != proposal.group(1)
    ]
    assert second
    visit(
        publisher,
        f"/edit/proposals/{second[0]}/decline",
        {"csrf_token": hidden(review, "csrf_token"), "note": "Nē"},
    )
    visit(author, f"/edit/proposals/{second[0]}")
    history = visit(publisher, f"/edit/events/{EVENT}/history")
    commit = re.search(r'name="commit" value="([0-9a-f]{40})"', history)
    assert commit
    visit(publisher, f"/edit/events/{EVENT}/history/{commit.group(1)}")
    visit(publisher, "/edit/settings")
    visit(publisher, f"/edit/events/{EVENT}/delete")
    visit(publisher, f"/edit/events/{EVENT}/delete", {"csrf_token": token, "confirm": "x"})
    visit(publisher, "/edit/events/nope/history")
    english = re.compile(r"\b(?:the|you|was|nothing|since|cannot|is not)\b", re.I)
    for response in seen:  # and no English reached a page some other way
        if 300 <= response.status_code < 400:
            continue  # werkzeug's redirect body, which browsers never show
        words = re.sub(
            r"<[^>]+>",
            " ",
            re.sub(r"<(script|style|textarea)\b.*?</\1>", "", response.text, flags=re.S),
        )
        found = english.findall(html.unescape(words))
        where = [words[m.start() - 80 : m.end() + 80] for m in english.finditer(words)]
        assert found == [], (response.request.path, where)
    assert len(asked) > 100  # the pages were rendered through the catalog
    missing = sorted(asked - _latvian())
    assert missing == []


def test_every_validator_message_the_form_translates_is_in_the_catalog() -> None:
    from icalpub.editor.said import PATTERNS

    missing = sorted(message for _, message in PATTERNS if message not in _latvian())
    assert missing == []


@pytest.mark.parametrize(
    ("english", "latvian"),
    [
        ("event 'a' ends before it starts", "Beigas ir pirms sākuma"),
        ("an event start '2026-02-30' is not a real date", "“2026-02-30” nav īsts datums"),
        ("event 'a' title has no text in 'lv', the default language", "valodā (lv)"),
        ("event 'a' url 'ftp://x' is not an absolute http(s) URL", "“ftp://x” nav tīmekļa"),
        (
            "event 'a' start: 2026-03-29 03:30 does not exist in Europe/Riga (the clocks skip "
            "it when daylight saving time starts)",
            "2026-03-29 03:30 laika joslā Europe/Riga nepastāv",
        ),
        ("event 'a' has the unknown topic 'trainig'", "“trainig” nav šī kalendāra tēma"),
    ],
)
def test_the_readers_messages_are_said_in_latvian_on_their_field(
    english: str, latvian: str
) -> None:
    from icalpub.editor.refusals import FieldProblem
    from icalpub.editor.said import said

    found = said(FieldProblem("end", english, "an English hint"), translations("lv").gettext)
    assert latvian in found.text and found.field == "end"
    assert "English" not in found.text  # an untranslated hint is left out
