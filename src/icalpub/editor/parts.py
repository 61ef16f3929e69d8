"""What the editor's pages are made of: the registry's languages and topics as the page
shows them, today, the author of a save, a field as text, and the common answers."""

from __future__ import annotations

import datetime as dt

from flask import g, render_template

from ..languages import name as language_name
from ..web.language import gettext
from ..zones import today_in
from .accounts import Editor
from .form import control
from .history import Author
from .setup import editing, now
from .store import State


def topics(state: State) -> list[tuple[str, str]]:
    """Return (id, title in the interface's language) of every topic."""
    registry = state.registry
    if registry is None:
        return []
    return [(t.id, t.title(g.get("lang", "en"))) for t in registry.topics]


def not_here(event_id: str, why: str) -> tuple[str, int]:
    """Refuse an action on an event the editor cannot change as text, saying why."""
    message = gettext("Event '{id}' cannot be changed here: {why}")
    message = message.format(id=event_id, why=gettext(why))
    return render_template("editor/message.html", message=message), 409


def message(text: str, status: int) -> tuple[str, int]:
    """Answer with a short page saying `text` (translated when the catalog has it)."""
    return render_template("editor/message.html", message=text), status


def history_problem() -> str:
    """Return why saves are not all in history or pushed yet ("" when they are)."""
    store = editing().store()
    return store.history.problem(store.path)


def file_problems(state: State) -> list[str]:
    """Return the registry's errors as `icalpub validate` prints them."""
    return [str(p) for p in state.source.problems if p.severity == "error"]


def today(state: State) -> dt.date:
    """Return today in the calendar's zone."""
    zone = state.registry.calendar.timezone if state.registry else "UTC"
    return today_in(zone, now())


def author() -> Author:
    """Return the logged-in editor as the author of a save."""
    editor: Editor = g.editor
    return Author(editor.name, editor.email)


def languages(state: State) -> tuple[str, ...]:
    """Return the registry's languages, the default first (read from the text if need be)."""
    if state.registry is not None:
        return state.registry.calendar.published_languages
    calendar = state.document.section_values("calendar")
    listed = calendar.get("languages")
    if isinstance(listed, list) and listed:
        return tuple(listed)
    language = calendar.get("language")
    return (language if isinstance(language, str) and language else "lv",)


def named(codes: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """Return (code, name, form-control suffix) of each language, the default's suffix ""."""
    return [(code, language_name(code), control("", code, codes)) for code in codes]
