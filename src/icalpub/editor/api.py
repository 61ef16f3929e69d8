"""The editor's HTTP API for scripts: the form's rules, as JSON, with API tokens.

An event is one JSON object with SPEC §1's event keys and the values a person
writes in YAML ("2022-01-12 10:00"); what GET returns, PUT takes back whole.
Each event's ETag is its version: PUT and DELETE need If-Match (428 without,
412 when the event changed since). Invalid events are 422 with the
validator's messages per field. Only `Authorization: Bearer` counts — the
session cookie is ignored here, so no CSRF token is needed or accepted.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from ..errors import BuildError
from ..registry import EVENT_KEYS
from ..values import closest
from . import incoming, yamltext
from .accounts import Editor
from .auth import token_editor
from .history import Author
from .proposals import proposal_json
from .refusals import Broken, Busy, Conflict, Invalid, NotFound, Refused, Unsaved
from .review import proposals_of, propose
from .roles import ONLY_PUBLISHERS, decide
from .setup import Editing, editing, now
from .store import Change, Saved
from .yamltext import EditError

blueprint = Blueprint("editor_api", __name__, url_prefix="/edit/api")


@blueprint.before_request
def _authenticate() -> Response | None:
    state = editing()
    editor = token_editor(request, state.accounts())
    if editor is None:
        response = _error(401, "send a valid API token: Authorization: Bearer <token>")
        response.headers["WWW-Authenticate"] = 'Bearer realm="icalpub editor"'
        return response
    request.environ["icalpub.author"] = Author(editor.name, editor.email)
    request.environ["icalpub.editor"] = editor
    return None


@blueprint.after_request
def _headers(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blueprint.errorhandler(Broken)
def _broken(error: Broken) -> Response:
    """The file cannot be edited as it is: say where, as `icalpub validate` does."""
    problems = [
        {"line": p.line, "column": p.column, "message": p.message, "hint": p.hint}
        for p in error.problems
    ]
    message = "the registry file has errors; fix them in the file first, nothing was saved"
    response = jsonify(error=message, fields={}, problems=problems)
    response.status_code = 409
    return response


@blueprint.errorhandler(Unsaved)
def _unsaved(error: Unsaved) -> Response:
    return _error(507, f"the disk refused the write, nothing was saved: {error}")


@blueprint.errorhandler(Busy)
def _busy(error: Busy) -> Response:
    response = _error(503, str(error))
    response.headers["Retry-After"] = "1"
    return response


@blueprint.get("/events")
def list_events() -> Response:
    """Return every event as written, with each one's version."""
    state = editing().store().state()
    document = state.document
    return jsonify(
        events=[document.values(item) for item in document.items],
        versions={item.id: item.version for item in document.items},
    )


@blueprint.get("/events/<event_id>")
def get_event(event_id: str) -> Response:
    """Return one event as written; its ETag is its version."""
    document = editing().store().state().document
    item = document.item(event_id)
    if item is None:
        return _error(404, f"there is no event '{event_id}'")
    response = jsonify(document.values(item))
    response.set_etag(item.version)
    if item.shared:
        response.headers["X-Icalpub-Read-Only"] = item.shared
    return response


@blueprint.put("/events/<event_id>")
def put_event(event_id: str) -> Response:
    """Replace one event whole; needs If-Match with its current version."""
    body = _body(event_id)
    if isinstance(body, Response):
        return body
    version = _if_match(event_id)
    if isinstance(version, Response):
        return version
    return _save(Change("edit", event_id, body, version), 200)


@blueprint.delete("/events/<event_id>")
def delete_event(event_id: str) -> Response:
    """Delete one event; needs If-Match. Its id stays in the ledger, never reused."""
    version = _if_match(event_id)
    if isinstance(version, Response):
        return version
    return _save(Change("delete", event_id, version=version), 204)


@blueprint.post("/events")
def post_event() -> Response:
    """Add an event; its `id` must be new (never used before, even by a deleted event)."""
    body = _body(None)
    if isinstance(body, Response):
        return body
    event_id = body.get("id")
    if not isinstance(event_id, str) or not event_id.strip():
        return _error(422, "the event needs an 'id'", {"id": ["the event needs an 'id'"]})
    return _save(Change("add", event_id.strip(), body), 201)


# -- helpers ----------------------------------------------------------------------


def _body(event_id: str | None) -> dict[str, Any] | Response:
    if not request.is_json:
        return _error(400, "the body must be one JSON object (Content-Type: application/json)")
    try:
        data = incoming.parse_json(request.get_data(cache=False))
    except incoming.BodyError as exc:
        return _error(400, f"{exc} (send one JSON object, Content-Type: application/json)")
    unknown = [key for key in data if key not in EVENT_KEYS]
    if unknown:
        fields = {key: [f"unknown key '{key}'" + _suggest(key)] for key in unknown}
        return _error(422, "the event has unknown keys: " + ", ".join(unknown), fields)
    refused = incoming.problems(data)
    if refused:
        return _error(
            422, "the event has values that cannot be written; nothing was saved", refused
        )
    if event_id is not None and data.get("id", event_id) != event_id:
        message = "the id cannot be changed; add a new event and delete this one"
        return _error(422, message, {"id": [message]})
    return data


def _suggest(key: str) -> str:
    hint = closest(key, list(EVENT_KEYS))
    return f"; {hint}" if hint else ""


def _if_match(event_id: str) -> str | Response:
    if not request.if_match:
        return _error(428, "send If-Match with the event's ETag (from GET), so no edit is lost")
    document = editing().store().state().document
    item = document.item(event_id)
    if item is None:
        return _error(404, f"there is no event '{event_id}'")
    if not request.if_match.contains(item.version) and not request.if_match.star_tag:
        response = _error(412, f"event '{event_id}' changed since that version; GET it again")
        response.set_etag(item.version)
        return response
    return item.version


def _propose(change: Change) -> Response:
    """Keep an author's change of a published event as a proposal: 202 with its address."""
    author: Author = request.environ["icalpub.author"]
    store = editing().store()
    try:
        proposal = propose(
            store,
            proposals_of(store.path),
            author,
            change.event_id,
            change.version or "",
            dict(change.fields),
            now(),
        )
    except BuildError as exc:
        return _error(507, f"the proposal could not be kept: {exc}")
    except (Refused, EditError) as exc:
        return _refused(exc)
    response = jsonify(proposal=proposal_json(proposal))
    response.status_code = 202
    response.headers["Location"] = f"/edit/api/proposals/{proposal.id}"
    return response


def _save(change: Change, status: int) -> Response:
    state = editing()
    author: Author = request.environ["icalpub.author"]
    editor: Editor = request.environ["icalpub.editor"]
    document = state.store().state().document
    item = document.item(change.event_id)
    before = document.values(item) if item is not None else None
    try:
        decision, why = decide(
            editor.publishes, change.action, before, yamltext.normalize(change.fields)
        )
    except EditError as exc:
        return _refused(exc)
    if decision == "propose":
        return _propose(change)  # an author's change of a published event waits for review
    if decision == "forbidden":
        return _error(403, why or ONLY_PUBLISHERS)
    try:
        saved = state.store().save(change, author, now())
    except (Refused, EditError) as exc:
        return _refused(exc)
    return _saved(saved, status)


def _refused(exc: Refused | EditError) -> Response:
    """Answer a change that was not saved: 422 per field, 412 stale, 409 taken, 404 gone."""
    if isinstance(exc, Invalid):
        fields: dict[str, list[str]] = {}
        for problem in exc.problems:
            fields.setdefault(problem.field, []).append(problem.text)
        return _error(422, "the event is not valid; nothing was saved", fields)
    if isinstance(exc, Conflict):
        response = _error(412, str(exc))
        if exc.version:
            response.set_etag(exc.version)
        return response
    if isinstance(exc, NotFound):
        return _error(404, str(exc))
    return _error(409, str(exc))


def _tell_history(response: Response, saved: Saved) -> None:
    """Say whether the save is in git's history yet (a header: the body is the event)."""
    response.headers["Icalpub-History"] = "pending" if saved.history_error else "recorded"
    if saved.history_error:
        response.headers["Icalpub-History-Error"] = saved.history_error.replace("\n", " ")[:500]


def _saved(saved: Saved, status: int) -> Response:
    if status == 204:
        response = Response(status=204)
        _tell_history(response, saved)
        return response
    response = jsonify(saved.fields or {})  # as saved (the file may have moved on since)
    response.status_code = status
    if saved.version:
        response.set_etag(saved.version)
    _tell_history(response, saved)
    if status == 201:
        response.headers["Location"] = f"/edit/api/events/{saved.event_id}"
    return response


def _error(status: int, message: str, fields: dict[str, list[str]] | None = None) -> Response:
    response = jsonify(error=message, fields=fields or {})
    response.status_code = status
    return response


__all__ = ["Editing", "blueprint"]
