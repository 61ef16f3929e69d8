"""An event's history: the versions that changed it, a preview of one, and restoring one
(as a new save)."""

from __future__ import annotations

from flask import abort, g, render_template, request

from .changes import LABELS, diff
from .event_history import rows, when_text
from .event_pages import Answer, message_page, preview_of, save_or_page
from .guard import login_required, publisher_required
from .listing import default_text as plain
from .pages import blueprint
from .parts import languages, message, named, not_here
from .refusals import Refused
from .setup import editing
from .store import Change
from .yamltext import EditError, Fields, read_bytes


@blueprint.get("/events/<event_id>/history")
@login_required
def history(event_id: str) -> str:
    """List the versions of this event (every commit that changed it), what changed in
    each and who; the current one marked, the others to preview and restore."""
    store = editing().store()
    state = store.state()
    item = state.document.item(event_id)
    if item is None:
        abort(404)
    codes = languages(state)
    found = rows(
        store.history.file_versions(store.path), event_id, codes, state.document.values(item)
    )
    zone = state.registry.calendar.timezone if state.registry else "UTC"
    return render_template(
        "editor/history.html",
        event_id=event_id,
        title=plain(state.document.values(item).get("title"), codes),
        rows=found,
        when=lambda row: when_text(row.when, zone, g.lang),
        labels=LABELS,
        language_names={code: name for code, name, _ in named(codes)} if len(codes) > 1 else {},
        # without git (an audit log) only the saves are listed, and none can be restored
        versions=[] if found else store.history.versions(store.path, event_id),
        version=item.version,
        restorable=not item.shared,
    )


@blueprint.get("/events/<event_id>/history/<commit>")
@login_required
def version(event_id: str, commit: str) -> Answer:
    """Show an earlier version of the event as readers would see it, before restoring it."""
    store = editing().store()
    state = store.state()
    item = state.document.item(event_id)
    old = _old_values(store.history.file_at(store.path, commit), event_id)
    if item is None or isinstance(old, tuple):
        return old if isinstance(old, tuple) else message("That version is not kept.", 404)
    change = Change("edit", event_id, old, item.version, verb="Restore")
    try:
        registry = store.preview(change)
    except Refused as exc:
        return message(str(exc), 409)
    event = registry.event(event_id)
    codes = languages(state)
    return render_template(
        "editor/version.html",
        event_id=event_id,
        commit=commit,
        preview=preview_of(registry, event) if event is not None else None,
        changes=diff(state.document.values(item), old, codes),
        labels=LABELS,
        language_names={code: name for code, name, _ in named(codes)} if len(codes) > 1 else {},
        version=item.version,
        restorable=not item.shared and g.editor.publishes,
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
    values = _old_values(
        store.history.file_at(store.path, request.form.get("commit", "")), event_id
    )
    if isinstance(values, tuple):
        return values
    change = Change("edit", event_id, values, request.form.get("version", ""), verb="Restore")
    return save_or_page(change, message_page)


def _old_values(data: bytes | None, event_id: str) -> Fields | tuple[str, int]:
    """Return the event as written in an earlier version of the file, or the page saying why
    it cannot be had."""
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
    return document.values(old)
