"""The API's proposals: `GET /edit/api/proposals[/<id>]`, and for publishers
`POST /edit/api/proposals/<id>/approve` and `…/decline` (a JSON `note`).

An author sees their own proposals (with the publisher's note once declined);
a publisher sees all. Approving is the normal save: 409 with the event as it
is now and as proposed when it changed since the proposal was made.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from ..errors import BuildError
from . import api
from .accounts import Editor
from .history import Author
from .proposals import Proposal, proposal_json
from .refusals import Broken, Busy, Conflict, Refused, Unsaved
from .review import Decided, approve, decline, proposals_of, visible
from .roles import ONLY_PUBLISHERS
from .setup import editing, now
from .yamltext import EditError

blueprint = Blueprint("editor_proposals_api", __name__, url_prefix="/edit/api/proposals")
blueprint.before_request(api._authenticate)
blueprint.after_request(api._headers)
blueprint.register_error_handler(Broken, api._broken)
blueprint.register_error_handler(Unsaved, api._unsaved)
blueprint.register_error_handler(Busy, api._busy)


@blueprint.get("")
def list_proposals() -> Response:
    """Return the proposals this editor may see, oldest first (`?status=open` filters)."""
    wanted = request.args.get("status", "")
    found = visible(proposals_of(editing().registry).all(), _editor())
    return jsonify(proposals=[proposal_json(p) for p in found if not wanted or p.status == wanted])


@blueprint.get("/<proposal_id>")
def get_proposal(proposal_id: str) -> Response:
    """Return one proposal (an author: only their own)."""
    found = _proposal(proposal_id)
    return found if isinstance(found, Response) else jsonify(proposal_json(found))


@blueprint.post("/<proposal_id>/approve")
def approve_proposal(proposal_id: str) -> Response:
    """Save the proposal as its author's change, approved by this publisher."""
    found = _decidable(proposal_id)
    if isinstance(found, Response):
        return found
    store = editing().store()
    try:
        saved = approve(store, proposals_of(store.path), found, _author(), now())
    except Conflict as exc:
        response = jsonify(
            error=str(exc),
            fields={},
            current=exc.current,
            proposed=found.after,
            proposal=proposal_json(found),
        )
        response.status_code = 409
        return response
    except Decided as exc:
        return api._error(409, str(exc))
    except BuildError as exc:
        return api._error(507, f"the proposal was saved but could not be marked approved: {exc}")
    except (Refused, EditError) as exc:
        return api._refused(exc)
    answer = jsonify(proposal_json(proposals_of(store.path).get(found.id) or found))
    if saved.version:
        answer.set_etag(saved.version)
    api._tell_history(answer, saved)
    return answer


@blueprint.post("/<proposal_id>/decline")
def decline_proposal(proposal_id: str) -> Response:
    """Decline the proposal with a note (`{"note": "…"}`) its author sees."""
    found = _decidable(proposal_id)
    if isinstance(found, Response):
        return found
    data = request.get_json(silent=True)
    note = data.get("note", "") if isinstance(data, dict) else ""
    if not isinstance(note, str):
        return api._error(422, "'note' must be text", {"note": ["'note' must be text"]})
    try:
        declined = decline(proposals_of(editing().registry), found, _author(), note, now())
    except Decided as exc:
        return api._error(409, str(exc))
    except BuildError as exc:
        return api._error(507, f"the decision could not be kept: {exc}")
    return jsonify(proposal_json(declined))


def _editor() -> Editor:
    found: Editor = request.environ["icalpub.editor"]
    return found


def _author() -> Author:
    found: Author = request.environ["icalpub.author"]
    return found


def _proposal(proposal_id: str) -> Proposal | Response:
    found = proposals_of(editing().registry).get(proposal_id)
    if found is None or not visible([found], _editor()):
        return api._error(404, f"there is no proposal '{proposal_id}'")
    return found


def _decidable(proposal_id: str) -> Proposal | Response:
    if not _editor().publishes:
        return api._error(403, ONLY_PUBLISHERS)
    return _proposal(proposal_id)
