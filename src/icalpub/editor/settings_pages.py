"""The calendar's settings and its topics: their own blueprint, guarded as every page.

`base_url`, `timezone` and `language` are not offered (they change every UID
or time for subscribers). Texts are edited in the registry's languages; a
topic's description is kept exactly as written when its title changes.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from . import incoming
from .form import text_controls, text_value
from .guard import login_required, protect, publisher_required
from .parts import author, languages, named
from .refusals import Invalid, Refused
from .setup import editing, now
from .store import CalendarChange, Edit, State, TopicChange
from .yamltext import EditError

blueprint = protect(
    Blueprint("editor_settings", __name__, url_prefix="/edit", template_folder="templates")
)
REFRESH = ("PT1H", "PT3H", "PT6H", "PT12H", "P1D")
SETTINGS = ("title", "description", "refresh", "feed_items", "keep_past")


@blueprint.route("/settings", methods=["GET", "POST"])
@login_required
@publisher_required
def settings() -> WerkzeugResponse | str | tuple[str, int]:
    """The calendar's title, description, contact, refresh; its topics and their titles."""
    store = editing().store()
    state = store.state()
    if request.method == "GET":
        return settings_page(state)
    what = request.form.get("what", "")
    if what == "calendar":
        change: Edit = _calendar_change(state)
    elif what == "topic":
        change = _topic_change(state)
    else:
        abort(400)
    values: dict[str, Any] = {}
    if isinstance(change, CalendarChange):
        values = dict(change.fields)
    elif isinstance(change, TopicChange):
        values = {"id": change.topic, "title": dict(change.titles)}
    problems = incoming.problems(values)
    if problems:
        return settings_page(state, [t for texts in problems.values() for t in texts]), 422
    try:
        store.save(change, author(), now())
    except Invalid as exc:
        return settings_page(store.state(), [p.text for p in exc.problems]), 422
    except (Refused, EditError) as exc:
        return settings_page(store.state(), [str(exc)]), 409
    return redirect(url_for("editor_settings.settings", saved=what))


def _calendar_change(state: State) -> CalendarChange:
    form = request.form
    fields: dict[str, Any] = dict(state.document.section_values("calendar"))
    codes = languages(state)
    for key in SETTINGS:
        texts = key in ("title", "description")  # per language; the rest one value
        fields[key] = text_value(key, form, codes, fields.get(key), translated=texts)
    contact = {k: form.get(f"contact_{k}", "").strip() for k in ("name", "phone", "email")}
    fields["contact"] = {k: v for k, v in contact.items() if v}
    return CalendarChange(fields, form.get("version", ""))


def _topic_change(state: State) -> TopicChange:
    form = request.form
    topic_id = form.get("topic", "").strip()
    topics = state.document.section_values("topics")
    before = topics.get(topic_id) if isinstance(topics, dict) else None
    before = before if isinstance(before, dict) else {}
    titles = {
        lang: form.get(f"title_{lang}", "") for lang in topic_languages(state, before.get("title"))
    }
    version = form.get("version") if form.get("existing") else None
    # The page edits titles only: the description stays exactly as written.
    return TopicChange(topic_id, titles, before.get("description") or "", version)


def settings_page(state: State, problems: list[str] | None = None) -> str:
    """Render the settings, each text in the registry's languages."""
    calendar = state.document.section_values("calendar")
    contact = calendar.get("contact")
    codes = languages(state)
    topics = []
    for topic_id, value in state.document.section_values("topics").items():
        title = value.get("title", "") if isinstance(value, dict) else ""
        titles = title if isinstance(title, dict) else {codes[0]: title}
        description = value.get("description", "") if isinstance(value, dict) else ""
        topics.append(
            {
                "id": topic_id,
                "titles": titles,
                "languages": topic_languages(state, title),
                "descriptions": text_controls("description", description, codes),
            }
        )
    return render_template(
        "editor/settings.html",
        section=calendar,
        calendar_texts={
            **text_controls("title", calendar.get("title", ""), codes),
            **text_controls("description", calendar.get("description", ""), codes),
        },
        text_languages=named(codes),
        calendar_contact=contact if isinstance(contact, dict) else {},
        topics=topics,
        languages=codes,
        refresh_choices=REFRESH,
        calendar_version=state.document.section_version("calendar"),
        topics_version=state.document.section_version("topics"),
        problems=problems or [],
    )


def topic_languages(state: State, title: object) -> tuple[str, ...]:
    """Return the languages a topic's title is edited in: the registry's, and any
    other its title already has (a one-language registry may keep tagged titles)."""
    codes = languages(state)
    extra = [k for k in title if k not in codes] if isinstance(title, dict) else []
    return (*codes, *extra)
