"""An event's history: the saves that changed it, and restoring one (as a new save)."""

from __future__ import annotations

from flask import abort, render_template, request

from .event_pages import Answer, message_page, save_or_page
from .guard import login_required, publisher_required
from .listing import default_text as plain
from .pages import blueprint
from .parts import languages, message, not_here
from .setup import editing
from .store import Change
from .yamltext import EditError, read_bytes


@blueprint.get("/events/<event_id>/history")
@login_required
def history(event_id: str) -> str:
    """List the saves that changed this event, with a way to restore each."""
    store = editing().store()
    state = store.state()
    item = state.document.item(event_id)
    if item is None:
        abort(404)
    versions = store.history.versions(store.path, event_id)
    return render_template(
        "editor/history.html",
        event_id=event_id,
        title=plain(state.document.values(item).get("title"), languages(state)),
        versions=versions,
        version=item.version,
        restorable=not item.shared
        and bool(versions)
        and store.history.file_at(store.path, versions[0].commit) is not None,
    )


@blueprint.post("/events/<event_id>/restore")
@login_required
@publisher_required
def restore(event_id: str) -> Answer:
    """Save the event as it was after an earlier save (a new save; nothing is rewritten)."""
    store = editing().store()
    item = store.state().document.item(event_id)
    if item is not None and item.shared:
        return not_here(event_id, item.shared)
    data = store.history.file_at(store.path, request.form.get("commit", ""))
    if data is None:
        return message("That version is not kept.", 404)
    try:
        document = read_bytes(data)
    except EditError:
        return message(
            "That version of the file cannot be read as a registry, so it cannot be restored.",
            409,
        )
    old = document.item(event_id)
    if old is None:
        return message("That version is not kept.", 404)
    values = document.values(old)
    change = Change("edit", event_id, values, request.form.get("version", ""), verb="Restore")
    return save_or_page(change, message_page)
