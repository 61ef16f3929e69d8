"""Helpers for the editor's tests: an editors file, a logged-in client, form tokens."""

from __future__ import annotations

import datetime as dt
import difflib
import html
import re
from pathlib import Path
from typing import Any

from icalpub.editor import accounts
from icalpub.editor.history import Author
from icalpub.editor.store import Change, Store
from icalpub.editor.yamltext import read_bytes

PASSWORD = "correct horse battery"


def add_editor(
    site: Path, name: str = "anna", email: str = "anna@example.lv", role: str = "publisher"
) -> str:
    """Add an editor to the editors file beside `site`; return a new API token of theirs."""
    path = site.parent / "editors.toml"
    found = accounts.load(path)
    found = accounts.add(found, name, email, PASSWORD, role)
    found, token = accounts.new_token(found, name)
    accounts.save(path, found)
    return token


def hidden(page: str, name: str) -> str:
    """Return the value of the (first) hidden input `name` in a page."""
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', page)
    assert match, f"no hidden {name} in the page"
    return html.unescape(match.group(1))


def log_in(client: Any, name: str = "anna", password: str = PASSWORD) -> Any:
    """Log `client` in through the login form; return the response."""
    page = client.get("/edit/login").get_data(as_text=True)
    response = client.post(
        "/edit/login",
        data={"login": name, "password": password, "csrf_token": hidden(page, "csrf_token")},
    )
    return response


def form_of(page: str) -> dict[str, Any]:
    """Return what a browser would submit from the event form in `page` (no JavaScript)."""
    form = page[page.index('class="editor-form"') :]
    form = form[: form.index("</form>")]
    data: dict[str, Any] = {}

    def put(name: str, value: str) -> None:
        if name in data:
            existing = data[name]
            data[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            data[name] = value

    for tag in re.findall(r"<input [^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if not name:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        kind = re.search(r'type="([^"]+)"', tag)
        if kind and kind.group(1) == "checkbox" and " checked" not in tag:
            continue
        put(name.group(1), html.unescape(value.group(1)) if value else "")
    for name, body in re.findall(
        r'<select id="[^"]*" name="([^"]+)"[^>]*>(.*?)</select>', form, re.S
    ):
        chosen = re.search(r'<option(?: value="([^"]*)")? selected>([^<]*)<', body)
        if chosen:
            put(
                name,
                html.unescape(chosen.group(1) if chosen.group(1) is not None else chosen.group(2)),
            )
        else:
            first = re.search(r'<option(?: value="([^"]*)")?>([^<]*)<', body)
            assert first
            put(
                name,
                html.unescape(first.group(1) if first.group(1) is not None else first.group(2)),
            )
    for name, body in re.findall(
        r'<textarea [^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S
    ):
        put(name, html.unescape(body))
    data["action"] = "save"
    return data


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """Return the removed and the added lines of a line diff."""
    removed, added = [], []
    for line in difflib.ndiff(before.splitlines(True), after.splitlines(True)):
        if line.startswith("- "):
            removed.append(line[2:])
        elif line.startswith("+ "):
            added.append(line[2:])
    return removed, added


def title_save(store: Store, event_id: str, title: str, who: Author) -> str:
    """Save a new title for `event_id` as `who`; return the history error ("" when recorded)."""
    document = read_bytes(store.path.read_bytes())
    item = document.item(event_id)
    assert item is not None
    fields = dict(document.values(item), title=title)
    now = dt.datetime.now(dt.UTC)
    return store.save(Change("edit", event_id, fields, item.version), who, now).history_error
