"""The editor's first page: the list of events, filtered (see `listing`)."""

from __future__ import annotations

from flask import render_template, request

from ..schedule import is_published
from .guard import login_required
from .listing import Filters, rows
from .pages import blueprint
from .parts import file_problems, history_problem, languages, today, topics
from .roles import is_draft
from .setup import editing, now
from .store import State


@blueprint.get("/")
@login_required
def events() -> str:
    """List the events: search by title, filter by topic, upcoming or past."""
    state = editing().store().state()
    filters = Filters(
        query=request.args.get("q", "").strip(),
        topic=request.args.get("topic", ""),
        period=request.args.get("when", "upcoming"),
    )
    found = rows(state.document, state.registry, filters, today(state), languages(state))
    titles = dict(topics(state))
    shown = [
        {
            "id": row.id,
            "title": row.title,
            "start": row.start,
            "topics": [titles.get(t, t) for t in row.topics],
            "cancelled": row.cancelled,
            "repeats": row.repeats,
            "shared": row.shared,
            "draft": row.draft,
            "scheduled": row.publish_at if _scheduled(state, row.id) else "",
        }
        for row in found
    ]
    return render_template(
        "editor/list.html",
        rows=shown,
        query=filters.query,
        topic=filters.topic,
        period=filters.period,
        topic_choices=topics(state),
        problems=file_problems(state),
        saved_draft=_draft(state, request.args.get("saved", "")),
        history_problem=history_problem(),
    )


def _scheduled(state: State, event_id: str) -> bool:
    """Return whether the event waits for its `publish_at` (not a draft, not published yet)."""
    event = state.registry.event(event_id) if state.registry is not None else None
    return event is not None and not event.draft and not is_published(event, now())


def _draft(state: State, event_id: str) -> bool:
    """Return whether the event just saved is a draft (its save reached no subscriber)."""
    item = state.document.item(event_id) if event_id else None
    return item is not None and is_draft(state.document.values(item))
