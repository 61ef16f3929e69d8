"""The editor's pages: log in, the list of events, the event form, cancel, delete, history.

Every page is `no-store`, carries the strict CSP (no inline script) and works
without JavaScript; every form has a CSRF token. A save goes through the
store, which refuses a change to an event that changed since the form was
opened: the page then shows both versions and offers the editor's own changes
applied to the current one, to review and save again.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from babel.dates import get_day_names
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf.csrf import CSRFError, CSRFProtect
from markupsafe import Markup
from werkzeug.wrappers import Response as WerkzeugResponse

from ..display import when
from ..i18n import locale
from ..languages import name as language_name
from ..model import Event, Registry
from ..text import to_html
from ..web.headers import secure
from ..web.language import gettext
from ..zones import known_zones, today_in
from . import accounts as accounts_module
from .accounts import Editor
from .auth import client_address, proxy_editor, session_editor, start_session
from .form import (
    KINDS,
    WEEKDAYS,
    control,
    from_form,
    next_dates,
    text_controls,
    text_value,
    to_form,
)
from .history import Author
from .setup import editing, now
from .store import (
    Broken,
    Busy,
    CalendarChange,
    Change,
    Conflict,
    Edit,
    Exists,
    FieldProblem,
    Invalid,
    NotFound,
    Refused,
    State,
    TopicChange,
    Unsaved,
)
from .yamltext import EditError, Fields, Value

blueprint = Blueprint("editor", __name__, url_prefix="/edit", template_folder="templates")
View = TypeVar("View", bound=Callable[..., Any])
BUSY = (
    "The file kept changing while saving (someone edited it by hand or ran git pull). "
    "Nothing was saved; send the form again."
)
UNSAVED = (
    "The change could not be written to the disk, so nothing was saved. "
    "Tell the server's operator, then send the form again."
)
# The form control a registry field's message is shown beside.
CONTROLS = {
    "start": "start_date",
    "end": "end_date",
    "repeat": "repeat_kind",
    "contact": "contact_name",
}


@blueprint.before_request
def _guard() -> None:
    editing()  # 404 while the editor is off
    if request.method == "POST":
        cast(CSRFProtect, current_app.extensions["csrf"]).protect()


@blueprint.after_request
def _headers(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return secure(response)


@blueprint.errorhandler(CSRFError)
def _csrf_failed(error: CSRFError) -> tuple[str, int]:
    message = "The form has expired or did not come from this site. Open the page again."
    return render_template("editor/message.html", message=message), 400


def login_required(view: View) -> View:
    """Let only a logged-in editor through; send others to the login page."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        editor = _current_editor()
        if editor is None:
            return redirect(url_for("editor.login", next=request.full_path.rstrip("?")))
        g.editor = editor
        return view(*args, **kwargs)

    return cast(View, wrapper)


# -- logging in -------------------------------------------------------------------


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> WerkzeugResponse | tuple[str, int] | str:
    """Ask for name (or email) and password; slow down repeated failures."""
    target = _safe_next(request.values.get("next", ""))
    if request.method == "GET":
        if _current_editor() is not None:
            return redirect(target)
        return render_template("editor/login.html", next=target, error="")
    state = editing()
    accounts = state.accounts()
    name = request.form.get("login", "")[:200]
    address = client_address(request, accounts)
    wait = state.throttle.wait(address, name)
    if wait > 0:
        page = render_template(
            "editor/login.html", next=target, error="Too many attempts; wait a little.", login=name
        )
        response = make_response(page, 429)
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    editor, rehash = accounts.verify(name, request.form.get("password", "")[:1024])
    if editor is None:
        state.throttle.failed(address, name)
        current_app.logger.warning("failed editor login for %r from %s", name, address)
        page = render_template(
            "editor/login.html", next=target, error="Wrong name or password.", login=name
        )
        return page, 401
    state.throttle.succeeded(address, name)
    if rehash:
        accounts_module.save(state.editors, accounts_module.set_hash(accounts, editor.name, rehash))
        editor = state.accounts().editors[editor.name]
    start_session(editor, now())
    current_app.logger.info("editor %s logged in from %s", editor.name, address)
    return redirect(target)


@blueprint.post("/logout")
def logout() -> WerkzeugResponse:
    """End the session."""
    from flask import session

    session.clear()
    return redirect(url_for("editor.login"))


def _safe_next(target: str) -> str:
    """Return `target` if it is a path of the editor on this site, else the list."""
    parts = urlsplit(target)
    if (
        target.startswith("/edit/")
        and not parts.scheme
        and not parts.netloc
        and "\\" not in target
        and not target.startswith("//")
        and all(ord(c) > 31 for c in target)
    ):
        return target
    return url_for("editor.events")


def _current_editor() -> Editor | None:
    accounts = editing().accounts()
    return proxy_editor(request, accounts) or session_editor(accounts, now())


# -- the list ---------------------------------------------------------------------


@blueprint.get("/")
@login_required
def events() -> str:
    """List the events: search by title, filter by topic, upcoming or past."""
    state = editing().store().state()
    query = request.args.get("q", "").strip()
    topic = request.args.get("topic", "")
    period = request.args.get("when", "upcoming")
    today = _today(state)
    languages = _languages(state)
    rows = []
    for item in state.document.items:
        values = state.document.values(item)
        title = _plain(values.get("title"), languages)
        start = _text(values.get("start"))
        last = _text(values.get("end")) or start
        topics = values.get("topics")
        topics = topics if isinstance(topics, list) else [topics] if isinstance(topics, str) else []
        written = values.get("title")
        texts = list(written.values()) if isinstance(written, dict) else [title]
        if query and not any(query.casefold() in text.casefold() for text in texts):
            continue
        if topic and topic not in topics:
            continue
        upcoming = last[:10] >= today.isoformat() or bool(values.get("repeat"))
        if (period == "upcoming" and not upcoming) or (period == "past" and upcoming):
            continue
        rows.append(
            {
                "id": item.id,
                "title": title,
                "start": start,
                "topics": topics,
                "cancelled": values.get("status") == "cancelled",
                "repeats": bool(values.get("repeat")),
                "shared": item.shared,
            }
        )
    rows.sort(key=lambda r: (str(r["start"]).replace("T", " "), str(r["id"])))
    titles = dict(_topics(state))
    for row in rows:
        row["topics"] = [titles.get(t, t) for t in cast(list[str], row["topics"])]
    return render_template(
        "editor/list.html",
        rows=rows,
        query=query,
        topic=topic,
        period=period,
        topic_choices=_topics(state),
        problems=_file_problems(state),
        history_problem=_history_problem(),
    )


# -- the event form ---------------------------------------------------------------


@blueprint.route("/new", methods=["GET", "POST"])
@login_required
def new() -> WerkzeugResponse | str | tuple[str, int]:
    """A new event, empty or as a copy of ?from=<id> (its zone, topics and contact)."""
    state = editing().store().state()
    if request.method == "GET":
        copied: Fields = {}
        source = state.document.item(request.args.get("from", ""))
        if source is not None:
            values = state.document.values(source)
            copied = {k: v for k, v in values.items() if k in ("timezone", "topics", "contact")}
            copied["title"] = values.get("title", "")
        return _form_page(state, None, copied, {}, version="")
    fields = _submitted(state, {})
    event_id = _text(fields.get("id"))
    if request.form.get("action") == "preview":
        return _preview_page(state, Change("add", event_id, fields), None, fields, "")
    try:
        editing().store().save(Change("add", event_id, fields), _author(), now())
    except Invalid as exc:
        return _form_page(state, None, fields, {}, "", problems=exc.problems), 422
    except (Exists, Refused, EditError) as exc:
        problem = FieldProblem("id", str(exc))
        return _form_page(state, None, fields, {}, "", problems=[problem]), 409
    return redirect(url_for("editor.events", saved=event_id))


@blueprint.route("/events/<event_id>", methods=["GET", "POST"])
@login_required
def edit(event_id: str) -> WerkzeugResponse | str | tuple[str, int]:
    """Edit one event; a save on a version that is no longer current is refused."""
    state = editing().store().state()
    item = state.document.item(event_id)
    if request.method == "GET":
        if item is None:
            abort(404)
        values = state.document.values(item)
        return _form_page(state, event_id, values, values, item.version)
    opened = _opened()
    fields = _submitted(state, opened)
    version = request.form.get("version", "")
    change = Change("edit", event_id, fields, version)
    if request.form.get("action") == "preview":
        return _preview_page(state, change, event_id, opened, version)
    try:
        editing().store().save(change, _author(), now())
    except Conflict as exc:
        return _conflict_page(state, event_id, fields, opened, exc), 409
    except Invalid as exc:
        page = _form_page(state, event_id, fields, opened, version, problems=exc.problems)
        return page, 422
    except (NotFound, Refused, EditError) as exc:
        problem = FieldProblem("", str(exc))
        page = _form_page(state, event_id, fields, opened, version, problems=[problem])
        return page, 409
    return redirect(url_for("editor.events", saved=event_id))


@blueprint.post("/events/<event_id>/status")
@login_required
def status(event_id: str) -> WerkzeugResponse | tuple[str, int]:
    """Cancel the event, or undo the cancelling."""
    state = editing().store().state()
    item = state.document.item(event_id)
    if item is None:
        abort(404)
    if item.shared:
        return _not_here(event_id, item.shared)
    values = dict(state.document.values(item))
    cancel = request.form.get("status") == "cancelled"
    if cancel:
        values["status"] = "cancelled"
    else:
        values.pop("status", None)
    verb = "Cancel" if cancel else "Un-cancel"
    change = Change("edit", event_id, values, request.form.get("version", ""), verb=verb)
    try:
        editing().store().save(change, _author(), now())
    except (Refused, EditError) as exc:
        return render_template("editor/message.html", message=str(exc)), 409
    return redirect(url_for("editor.events", saved=event_id))


@blueprint.route("/events/<event_id>/delete", methods=["GET", "POST"])
@login_required
def delete(event_id: str) -> WerkzeugResponse | str | tuple[str, int]:
    """Delete after the editor types the event's id; the id is never used again."""
    state = editing().store().state()
    item = state.document.item(event_id)
    if item is None:
        abort(404)
    if item.shared:
        return _not_here(event_id, item.shared)
    title = _plain(state.document.values(item).get("title"), _languages(state))
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
    try:
        editing().store().save(change, _author(), now())
    except (Refused, EditError) as exc:
        return render_template("editor/message.html", message=str(exc)), 409
    return redirect(url_for("editor.events", deleted=event_id))


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
        title=_plain(state.document.values(item).get("title"), _languages(state)),
        versions=versions,
        version=item.version,
        restorable=not item.shared
        and bool(versions)
        and store.history.file_at(store.path, versions[0].commit) is not None,
    )


@blueprint.post("/events/<event_id>/restore")
@login_required
def restore(event_id: str) -> WerkzeugResponse | tuple[str, int]:
    """Save the event as it was after an earlier save (a new save; nothing is rewritten)."""
    from .yamltext import read_bytes

    store = editing().store()
    item = store.state().document.item(event_id)
    if item is not None and item.shared:
        return _not_here(event_id, item.shared)
    data = store.history.file_at(store.path, request.form.get("commit", ""))
    if data is None:
        return render_template("editor/message.html", message="That version is not kept."), 404
    try:
        document = read_bytes(data)
    except EditError:
        message = "That version of the file cannot be read as a registry, so it cannot be restored."
        return render_template("editor/message.html", message=message), 409
    old = document.item(event_id)
    if old is None:
        return render_template("editor/message.html", message="That version is not kept."), 404
    values = document.values(old)
    change = Change("edit", event_id, values, request.form.get("version", ""), verb="Restore")
    try:
        store.save(change, _author(), now())
    except (Refused, EditError) as exc:
        return render_template("editor/message.html", message=str(exc)), 409
    return redirect(url_for("editor.events", saved=event_id))


# -- the calendar's settings and topics --------------------------------------------

REFRESH = ("PT1H", "PT3H", "PT6H", "PT12H", "P1D")
SETTINGS = ("title", "description", "refresh", "feed_items", "keep_past")


@blueprint.route("/settings", methods=["GET", "POST"])
@login_required
def settings() -> WerkzeugResponse | str | tuple[str, int]:
    """The calendar's title, description, contact, refresh; its topics and their titles."""
    store = editing().store()
    state = store.state()
    if request.method == "GET":
        return _settings_page(state)
    form = request.form
    what = form.get("what", "")
    try:
        if what == "calendar":
            fields: dict[str, Any] = dict(state.document.section_values("calendar"))
            languages = _languages(state)
            for key in SETTINGS:
                texts = key in ("title", "description")  # per language; the rest one value
                fields[key] = text_value(key, form, languages, fields.get(key), translated=texts)
            contact = {k: form.get(f"contact_{k}", "").strip() for k in ("name", "phone", "email")}
            fields["contact"] = {k: v for k, v in contact.items() if v}
            change: Edit = CalendarChange(fields, form.get("version", ""))
        elif what == "topic":
            topic_id = form.get("topic", "").strip()
            topics = state.document.section_values("topics")
            before = topics.get(topic_id) if isinstance(topics, dict) else None
            before = before if isinstance(before, dict) else {}
            titles = {
                lang: form.get(f"title_{lang}", "")
                for lang in _topic_languages(state, before.get("title"))
            }
            version = form.get("version") if form.get("existing") else None
            # The page edits titles only: the description stays exactly as written.
            description = before.get("description") or ""
            change = TopicChange(topic_id, titles, description, version)
        else:
            abort(400)
        store.save(change, _author(), now())
    except Invalid as exc:
        return _settings_page(store.state(), [p.text for p in exc.problems]), 422
    except (Refused, EditError) as exc:
        return _settings_page(store.state(), [str(exc)]), 409
    return redirect(url_for("editor.settings", saved=what))


def _settings_page(state: State, problems: list[str] | None = None) -> str:
    calendar = state.document.section_values("calendar")
    contact = calendar.get("contact")
    languages = _languages(state)
    topics = []
    for topic_id, value in state.document.section_values("topics").items():
        title = value.get("title", "") if isinstance(value, dict) else ""
        titles = title if isinstance(title, dict) else {languages[0]: title}
        description = value.get("description", "") if isinstance(value, dict) else ""
        topics.append(
            {
                "id": topic_id,
                "titles": titles,
                "languages": _topic_languages(state, title),
                "descriptions": text_controls("description", description, languages),
            }
        )
    return render_template(
        "editor/settings.html",
        section=calendar,
        calendar_texts={
            **text_controls("title", calendar.get("title", ""), languages),
            **text_controls("description", calendar.get("description", ""), languages),
        },
        text_languages=_named(languages),
        calendar_contact=contact if isinstance(contact, dict) else {},
        topics=topics,
        languages=languages,
        refresh_choices=REFRESH,
        calendar_version=state.document.section_version("calendar"),
        topics_version=state.document.section_version("topics"),
        problems=problems or [],
    )


# -- rendering --------------------------------------------------------------------


def _form_page(
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
    languages = _languages(state)
    registry = state.registry
    zone = registry.calendar.timezone if registry else "UTC"
    item = state.document.item(event_id) if event_id else None
    event = registry.event(event_id) if registry and event_id else None
    dates = next_dates(event, _today(state)) if event is not None else []
    by_field: dict[str, list[str]] = {}
    for problem in problems or []:
        control = CONTROLS.get(problem.field, problem.field)  # the form control it belongs to
        by_field.setdefault(control, []).append(problem.text)
    return render_template(
        "editor/form.html",
        event_id=event_id,
        form=to_form(shown, languages),
        opened=json.dumps(opened, ensure_ascii=False, sort_keys=True),
        version=version,
        problems=problems or [],
        by_field=by_field,
        controls=CONTROLS,
        zones=sorted(known_zones()),
        calendar_zone=zone,
        topic_choices=_topics(state),
        text_languages=_named(languages),
        weekdays=WEEKDAYS,
        weekday_names=[get_day_names("wide", locale=locale(g.lang))[i] for i in range(7)],
        kinds=KINDS,
        dates=dates,
        read_only=item.shared if item else "",
        preview=preview,
        conflict=conflict,
    )


def _preview_page(
    state: State, change: Change, event_id: str | None, opened: Fields, version: str
) -> str | tuple[str, int]:
    shown = change.fields
    try:
        registry = editing().store().preview(change)
    except Invalid as exc:
        page = _form_page(state, event_id, shown, opened, version, problems=exc.problems)
        return page, 422
    except Refused as exc:
        page = _form_page(state, event_id, shown, opened, version, [FieldProblem("", str(exc))])
        return page, 409
    event = registry.event(change.event_id)
    preview = _preview(registry, event) if event else None
    return _form_page(state, event_id, shown, opened, version, preview=preview)


def _preview(registry: Registry, event: Event) -> dict[str, Any]:
    zone = registry.calendar.timezone
    return {
        "event": event,
        "when": when(event, g.lang, zone),
        "description": Markup(to_html(event.description)) if event.description else None,
    }


def _conflict_page(
    state: State, event_id: str, mine: Fields, opened: Fields, conflict: Conflict
) -> str:
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
    return _form_page(
        state,
        event_id,
        merged,
        current,
        conflict.version or "",
        problems=[FieldProblem("", str(conflict))],
        conflict=details,
    )


# -- helpers ----------------------------------------------------------------------


def _submitted(state: State, original: Fields) -> Fields:
    zone = state.registry.calendar.timezone if state.registry else "UTC"
    values = {k: v for k, v in request.form.items()}
    lists = {k: request.form.getlist(k) for k in ("topics", "repeat_days", "except")}
    return from_form(values, lists, original, zone, _languages(state))


def _opened() -> Fields:
    try:
        found = json.loads(request.form.get("opened", "{}"))
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _topics(state: State) -> list[tuple[str, str]]:
    registry = state.registry
    if registry is None:
        return []
    return [(t.id, t.title(g.get("lang", "en"))) for t in registry.topics]


def _not_here(event_id: str, why: str) -> tuple[str, int]:
    """Refuse an action on an event the editor cannot change as text, saying why."""
    message = gettext("Event '{id}' cannot be changed here: {why}")
    message = message.format(id=event_id, why=gettext(why))
    return render_template("editor/message.html", message=message), 409


def _history_problem() -> str:
    store = editing().store()
    return store.history.problem(store.path)


@blueprint.errorhandler(Broken)
def _broken(error: Broken) -> tuple[str, int]:
    """The file cannot be edited as it is: show its problems instead of any page."""
    page = render_template("editor/broken.html", problems=error.problems)
    return page, 200 if request.method == "GET" else 409


@blueprint.errorhandler(Unsaved)
@blueprint.errorhandler(Busy)
def _unsaved(error: Unsaved | Busy) -> tuple[str, int]:
    """The disk or the file refused the save; nothing was saved, so the form can be sent again."""
    if isinstance(error, Busy):
        message = BUSY
        return render_template("editor/message.html", message=message), 503
    return render_template("editor/message.html", message=UNSAVED, detail=str(error)), 507


def _file_problems(state: State) -> list[str]:
    return [str(p) for p in state.source.problems if p.severity == "error"]


def _today(state: State) -> dt.date:
    zone = state.registry.calendar.timezone if state.registry else "UTC"
    return today_in(zone, now())


def _author() -> Author:
    editor: Editor = g.editor
    return Author(editor.name, editor.email)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _languages(state: State) -> tuple[str, ...]:
    """Return the registry's languages, the default first (read from the text if need be)."""
    if state.registry is not None:
        return state.registry.calendar.published_languages
    calendar = state.document.section_values("calendar")
    listed = calendar.get("languages")
    if isinstance(listed, list) and listed:
        return tuple(listed)
    language = calendar.get("language")
    return (language if isinstance(language, str) and language else "lv",)


def _topic_languages(state: State, title: object) -> tuple[str, ...]:
    """Return the languages a topic's title is edited in: the registry's, and any
    other its title already has (a one-language registry may keep tagged titles)."""
    languages = _languages(state)
    extra = [k for k in title if k not in languages] if isinstance(title, dict) else []
    return (*languages, *extra)


def _named(languages: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """Return (code, name, form-control suffix) of each language, the default's suffix ""."""
    return [(code, language_name(code), control("", code, languages)) for code in languages]


def _plain(value: object, languages: tuple[str, ...]) -> str:
    """Return a text field in the default language (a person's name for the event)."""
    if isinstance(value, dict):
        found = value.get(languages[0]) or next(iter(value.values()), "")
        return found if isinstance(found, str) else ""
    return _text(value)
