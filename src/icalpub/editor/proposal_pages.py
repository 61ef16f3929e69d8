"""The proposals' pages: an author's changes waiting for a publisher, field by field.

A publisher approves (the normal save, as the author's change approved by
the publisher; when the event changed since, the conflict page shows both)
or declines with a note. An author sees their own proposals and the notes.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, g, redirect, render_template, request, url_for

from ..errors import BuildError
from .changes import LABELS, diff, missing_translations
from .event_history import when_text
from .event_pages import Answer, conflict_page
from .guard import login_required, publisher_required
from .listing import default_text as plain
from .pages import blueprint
from .parts import author, languages, message, named
from .proposals import Proposal
from .refusals import Conflict, Invalid, Refused
from .review import Decided, approve, decline, proposals_of, visible
from .setup import editing, now
from .yamltext import EditError


@blueprint.get("/proposals")
@login_required
def proposals() -> str:
    """List the proposals this editor may see, open ones first."""
    found = visible(proposals_of(editing().registry).all(), g.editor)
    found.sort(key=lambda p: (p.status != "open", p.created))
    return render_template("editor/proposals.html", proposals=found, when=_when)


@blueprint.get("/proposals/<proposal_id>")
@login_required
def proposal(proposal_id: str) -> str:
    """Show what the proposal changes, field by field and per language."""
    return review_page(_visible(proposal_id))


@blueprint.post("/proposals/<proposal_id>/approve")
@login_required
@publisher_required
def approve_page(proposal_id: str) -> Answer:
    """Save the proposal as its author's change, approved by this publisher."""
    found = _visible(proposal_id)
    store = editing().store()
    try:
        approve(store, proposals_of(store.path), found, author(), now())
    except Conflict as exc:
        state = store.state()
        return conflict_page(state, found.event_id, found.after, found.before, exc), 409
    except Invalid as exc:
        return review_page(found, [p.text for p in exc.problems]), 422
    except (Decided, Refused, EditError) as exc:
        return review_page(found, [str(exc)]), 409
    except BuildError as exc:
        return message(str(exc), 507)
    return redirect(url_for("editor.events", saved=found.event_id))


@blueprint.post("/proposals/<proposal_id>/decline")
@login_required
@publisher_required
def decline_page(proposal_id: str) -> Answer:
    """Decline the proposal with a note its author sees."""
    found = _visible(proposal_id)
    try:
        decline(
            proposals_of(editing().registry), found, author(), request.form.get("note", ""), now()
        )
    except Decided as exc:
        return review_page(found, [str(exc)]), 409
    except BuildError as exc:
        return message(str(exc), 507)
    return redirect(url_for("editor.proposals"))


def review_page(found: Proposal, problems: list[str] | None = None) -> str:
    """Render a proposal: each changed field's old and new text, the translations it leaves
    behind, and whether the event changed since it was proposed."""
    state = editing().store().state()
    codes = languages(state)
    item = state.document.item(found.event_id)
    current = state.document.values(item) if item is not None else None
    names = dict((code, name) for code, name, _ in named(codes))
    return render_template(
        "editor/proposal.html",
        proposal=found,
        title=plain((current or found.before).get("title"), codes),
        rows=diff(found.before, found.after, codes),
        missing=missing_translations(found.before, found.after, codes),
        changed_since=found.status == "open" and (item is None or item.version != found.version),
        since=diff(found.before, current, codes) if current is not None else [],
        labels=LABELS,
        language_names=names if len(codes) > 1 else {},
        problems=problems or [],
        when=_when,
    )


def _when(stamp: str) -> str:
    """Return a proposal's UTC stamp in the calendar's zone and the interface's language."""
    state = editing().store().state()
    zone = state.registry.calendar.timezone if state.registry else "UTC"
    return when_text(dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")), zone, g.lang)


def _visible(proposal_id: str) -> Proposal:
    found = proposals_of(editing().registry).get(proposal_id)
    if found is None or not visible([found], g.editor):
        abort(404)
    return found
