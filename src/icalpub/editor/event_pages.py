"""The event pages: a new event, the form, cancel and delete.

A save goes through the store, which refuses a change to an event that
changed since the form was opened: the page then shows both versions and
offers the editor's own changes applied to the current one, to review and
save again. `save_or_page` is every page's way to save: the list on success,
else the page again with what went wrong on its field.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from babel.dates import get_day_names
from flask import abort, g, jsonify, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response as WerkzeugResponse

from ..display import when
from ..i18n import locale
from ..model import Event, Registry
from ..text import to_html
from ..web.language import gettext
from ..zones import known_zones
from . import incoming
from .form import KINDS, WEEKDAYS, from_form, next_dates, to_form
from .guard import login_required, publisher_required
from .ids import RULE, suggest
from .listing import default_text as plain
from .listing import text_of as text
from .pages import blueprint
from .parts import author, languages, named, not_here, today, topics
from .refusals import Conflict, Exists, FieldProblem, Invalid, Refused
from .review import proposals_of, propose
from .roles import decide, is_draft
from .said import said
from .setup import editing, now
from .store import Change, Edit, State
from .yamltext import EditError, Fields, Item, Value

# The form control a registry field's message is shown beside.
CONTROLS = {
    "start": "start_date",
    "end": "end_date",
    "repeat": "repeat_kind",
    "contact": "contact_name",
    "publish_at": "publish_date",
}
Page = Callable[[list[FieldProblem]], str]
CHANGED = "Someone else changed this event since you opened it; nothing was saved."
GONE = "Someone else deleted this event since you opened it; nothing was saved."
NO_ID = "Give the event a title (its id is made from it) or type an id."
TAKEN = (
    "An event has, or had, this id (a deleted event's id stays with its subscribers): "
    "choose another id."
)
Answer = WerkzeugResponse | str | tuple[str, int]


def save_or_page(
    change: Edit,
    page: Page,
    refused_on: str = "",
    conflict: Callable[[Conflict], str] | None = None,
) -> Answer:
    """Save `change` and go to the list; or show `page` with why not (422 when the
    event is invalid, 409 when it was refused — on the field `refused_on`)."""
    try:
        editing().store().save(change, author(), now())
    except Conflict as exc:
        if conflict is not None:
            return conflict(exc), 409
        return page([FieldProblem(refused_on, str(exc))]), 409
    except Invalid as exc:
        return page(exc.problems), 422
    except Exists:
        return page([FieldProblem(refused_on, gettext(TAKEN))]), 409
    except (Refused, EditError) as exc:
        return page([FieldProblem(refused_on, str(exc))]), 409
    done = "deleted" if isinstance(change, Change) and change.action == "delete" else "saved"
    event_id = change.event_id if isinstance(change, Change) else ""
    if done == "deleted":
        return redirect(url_for("editor.events", deleted=event_id))
    return redirect(url_for("editor.events", saved=event_id))


def refused(fields: Mapping[str, Any]) -> list[FieldProblem]:
    """Return why submitted values cannot be written at all (line breaks in one-line fields,
    control characters YAML cannot hold, …), beside their fields; the validator judges the
    rest."""
    found = incoming.problems(fields)
    return [FieldProblem(name, text) for name, texts in found.items() for text in texts]


def message_page(problems: list[FieldProblem]) -> str:
    """Return a short page saying what went wrong (for actions without a form)."""
    said = "; ".join(p.text for p in problems)
    return render_template("editor/message.html", message=said)


@blueprint.route("/new", methods=["GET", "POST"])
@login_required
def new() -> Answer:
    """A new event, empty or as a copy of ?from=<id> (its zone, topics and contact)."""
    state = editing().store().state()
    if request.method == "GET":
        copied: Fields = {}
        source = state.document.item(request.args.get("from", ""))
        if source is not None:
            values = state.document.values(source)
            copied = {k: v for k, v in values.items() if k in ("timezone", "topics", "contact")}
            copied["title"] = values.get("title", "")
        return form_page(state, None, copied, {}, version="")
    fields = submitted(state, {})
    if not g.editor.publishes:
        fields["draft"] = "true"  # an author's new event is a draft
    if not text(fields.get("id")).strip():
        taken = {*(i.id for i in state.document.items), *state.source.ledger.entries}
        title = plain(fields.get("title"), languages(state))
        fields["id"] = suggest(title, request.form.get("start_date", ""), taken)
    if not fields["id"]:
        problems = [FieldProblem("id", gettext(NO_ID))]
        return form_page(state, None, fields, {}, "", problems), 422
    change = Change("add", text(fields.get("id")), fields)
    problems = refused(fields)
    if problems:
        return form_page(state, None, fields, {}, "", problems), 422
    if request.form.get("action") == "preview":
        return preview_page(state, change, None, fields, "")
    return save_or_page(
        change, lambda problems: form_page(state, None, fields, {}, "", problems), "id"
    )


@blueprint.get("/suggest-id")
@login_required
def suggest_id() -> WerkzeugResponse:
    """The id a new event would get from ?title= and ?start= (the form shows it as it is
    typed; the same as a save without an id makes)."""
    state = editing().store().state()
    taken = {*(i.id for i in state.document.items), *state.source.ledger.entries}
    found = suggest(request.args.get("title", "")[:500], request.args.get("start", ""), taken)
    return jsonify(id=found)


@blueprint.route("/events/<event_id>", methods=["GET", "POST"])
@login_required
def edit(event_id: str) -> Answer:
    """Edit one event; a save on a version that is no longer current is refused."""
    state = editing().store().state()
    item = state.document.item(event_id)
    if request.method == "GET":
        if item is None:
            abort(404)
        values = state.document.values(item)
        return form_page(state, event_id, values, values, item.version)
    opened = opened_fields()
    fields = submitted(state, opened)
    version = request.form.get("version", "")
    change = Change("edit", event_id, fields, version)
    problems = refused(fields)
    if problems:
        return form_page(state, event_id, fields, opened, version, problems), 422
    if request.form.get("action") == "preview":
        return preview_page(state, change, event_id, opened, version)
    current = state.document.values(item) if item is not None else None
    decision, why = decide(g.editor.publishes, "edit", current, fields)
    if decision == "forbidden":
        problems = [FieldProblem("draft", gettext(why))]
        return form_page(state, event_id, fields, opened, version, problems), 403
    if decision == "propose":
        return propose_or_page(state, event_id, fields, opened, version)
    return save_or_page(
        change,
        lambda problems: form_page(state, event_id, fields, opened, version, problems),
        conflict=lambda exc: conflict_page(state, event_id, fields, opened, exc),
    )


@blueprint.get("/events/<event_id>/preview")
@login_required
def preview(event_id: str) -> Answer:
    """The event as its page will show it: for a draft or a scheduled event, before anyone
    else sees it (behind the login; `no-store`, as every editor page)."""
    state = editing().store().state()
    event = state.registry.event(event_id) if state.registry is not None else None
    if event is None or state.registry is None:
        abort(404)
    item = state.document.item(event_id)
    written = state.document.values(item) if item is not None else {}
    return render_template(
        "editor/preview.html",
        preview=preview_of(state.registry, event),
        draft=event.draft,
        publish_at=text(written.get("publish_at")),
    )


@blueprint.post("/events/<event_id>/status")
@login_required
@publisher_required
def status(event_id: str) -> Answer:
    """Cancel the event, or undo the cancelling."""
    state = editing().store().state()
    item = _changeable(state, event_id)
    if not isinstance(item, Item):
        return item
    values = dict(state.document.values(item))
    cancel = request.form.get("status") == "cancelled"
    if cancel:
        values["status"] = "cancelled"
    else:
        values.pop("status", None)
    verb = "Cancel" if cancel else "Un-cancel"
    change = Change("edit", event_id, values, request.form.get("version", ""), verb=verb)
    return save_or_page(change, message_page)


@blueprint.route("/events/<event_id>/delete", methods=["GET", "POST"])
@login_required
@publisher_required
def delete(event_id: str) -> Answer:
    """Delete after the editor types the event's id; the id is never used again."""
    state = editing().store().state()
    item = _changeable(state, event_id)
    if not isinstance(item, Item):
        return item
    title = plain(state.document.values(item).get("title"), languages(state))
    if request.method == "GET":
        return render_template(
            "editor/delete.html", event_id=event_id, title=title, version=item.version, error=""
        )
    if request.form.get("confirm", "").strip() != event_id:
        page = render_template(
            "editor/delete.html",
            event_id=event_id,
            title=title,
            version=request.form.get("version", ""),
            error="Type the event's id exactly to delete it.",
        )
        return page, 422
    change = Change("delete", event_id, version=request.form.get("version", ""))
    return save_or_page(change, message_page)


def propose_or_page(
    state: State, event_id: str, fields: Fields, opened: Fields, version: str
) -> Answer:
    """Keep an author's change of a published event as a proposal and show it; or the form
    again with why not (422 invalid, 409 changed since)."""
    store = editing().store()
    try:
        proposal = propose(
            store, proposals_of(store.path), author(), event_id, version, fields, now()
        )
    except Conflict as exc:
        return conflict_page(state, event_id, fields, opened, exc), 409
    except Invalid as exc:
        return form_page(state, event_id, fields, opened, version, exc.problems), 422
    except (Refused, EditError) as exc:
        return form_page(
            state, event_id, fields, opened, version, [FieldProblem("", str(exc))]
        ), 409
    return redirect(url_for("editor.proposal", proposal_id=proposal.id, proposed=1))


def _changeable(state: State, event_id: str) -> Item | tuple[str, int]:
    """Return the event to act on (404 when there is none), or the page saying why it
    cannot be changed here (written with anchors)."""
    item = state.document.item(event_id)
    if item is None:
        abort(404)
    if item.shared:
        return not_here(event_id, item.shared)
    return item


# -- rendering --------------------------------------------------------------------


def form_page(
    state: State,
    event_id: str | None,
    shown: Mapping[str, Value],
    opened: Fields,
    version: str,
    problems: list[FieldProblem] | None = None,
    preview: dict[str, Any] | None = None,
    conflict: dict[str, Any] | None = None,
) -> str:
    """Render the event form showing the fields `shown` (each text in its language's field)."""
    codes = languages(state)
    registry = state.registry
    zone = registry.calendar.timezone if registry else "UTC"
    item = state.document.item(event_id) if event_id else None
    event = registry.event(event_id) if registry and event_id else None
    dates = next_dates(event, today(state)) if event is not None else []
    if g.get("lang", "en") != "en":  # the reader's messages are English already
        problems = [said(p, gettext) for p in problems or []]
    by_field: dict[str, list[str]] = {}
    for problem in problems or []:
        control = CONTROLS.get(problem.field, problem.field)  # the form control it belongs to
        by_field.setdefault(control, []).append(problem.text)
    return render_template(
        "editor/form.html",
        event_id=event_id,
        form=to_form(shown, codes),
        opened=json.dumps(opened, ensure_ascii=False, sort_keys=True),
        version=version,
        problems=problems or [],
        by_field=by_field,
        controls=CONTROLS,
        zones=sorted(known_zones()),
        calendar_zone=zone,
        topic_choices=topics(state),
        text_languages=named(codes),
        weekdays=WEEKDAYS,
        weekday_names=[get_day_names("wide", locale=locale(g.lang))[i] for i in range(7)],
        kinds=KINDS,
        dates=dates,
        read_only=item.shared if item else "",
        id_rule=RULE,
        stored_draft=item is None or is_draft(state.document.values(item)),  # new: a draft
        preview=preview,
        conflict=conflict,
    )


def preview_page(
    state: State, change: Change, event_id: str | None, opened: Fields, version: str
) -> str | tuple[str, int]:
    """Render the form with the event as readers will see it (nothing is saved)."""
    shown = change.fields
    try:
        registry = editing().store().preview(change)
    except Invalid as exc:
        page = form_page(state, event_id, shown, opened, version, problems=exc.problems)
        return page, 422
    except Refused as exc:
        page = form_page(state, event_id, shown, opened, version, [FieldProblem("", str(exc))])
        return page, 409
    event = registry.event(change.event_id)
    preview = preview_of(registry, event) if event else None
    return form_page(state, event_id, shown, opened, version, preview=preview)


def preview_of(registry: Registry, event: Event) -> dict[str, Any]:
    zone = registry.calendar.timezone
    return {
        "event": event,
        "when": when(event, g.lang, zone),
        "description": Markup(to_html(event.description)) if event.description else None,
    }


def conflict_page(
    state: State, event_id: str, mine: Fields, opened: Fields, conflict: Conflict
) -> str:
    """Render both versions, with this editor's changes applied to the current one."""
    current = conflict.current or {}
    merged = dict(current)
    for key in sorted({*mine, *opened}):
        if mine.get(key) != opened.get(key):  # what this editor changed, applied to the current
            if key in mine:
                merged[key] = mine[key]
            else:
                merged.pop(key, None)
    keys = [k for k in sorted({*mine, *current}) if mine.get(k) != current.get(k)]
    details = {
        "deleted": conflict.current is None,
        "rows": [(k, current.get(k), mine.get(k)) for k in keys],
    }
    return form_page(
        state,
        event_id,
        merged,
        current,
        conflict.version or "",
        problems=[FieldProblem("", gettext(GONE if conflict.current is None else CHANGED))],
        conflict=details,
    )


def submitted(state: State, original: Fields) -> Fields:
    """Return the event's fields as the form sent them."""
    zone = state.registry.calendar.timezone if state.registry else "UTC"
    values = {k: v for k, v in request.form.items()}
    lists = {k: request.form.getlist(k) for k in ("topics", "repeat_days", "except")}
    return from_form(values, lists, original, zone, languages(state))


def opened_fields() -> Fields:
    """Return the event as it was when the form was opened (sent back with the form)."""
    try:
        found = json.loads(request.form.get("opened", "{}"))
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
