"""The Flask application factory: the public service over an already assembled state."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Flask, Response, g

from .polls import Polls
from .state import KEY, AppState


def create_app(state: AppState, rooms: Iterable[Callable[[Flask], None]] = ()) -> Flask:
    """Create the app serving `state`'s live publication: feeds, pages, /healthz.

    Each of `rooms` adds its blueprints to the app (the composition root,
    `icalpub.service`, passes the editor's); this factory reads no setting.
    """
    from . import agenda, feeds, health, language, pages

    app = Flask(__name__)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions[KEY] = state
    agenda.install(app, state.embed_ancestors)
    language.install(app)  # before the blueprints: their /<lang> rules use its converter
    app.register_blueprint(feeds.blueprint)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(pages.blueprint)
    # Every other language of the registry: the same addresses under /<lang>/.
    app.register_blueprint(feeds.blueprint, name="feeds_lang", url_prefix="/<language:lang>")
    app.register_blueprint(pages.blueprint, name="pages_lang", url_prefix="/<language:lang>")
    for room in rooms:
        room(app)
    language.choose_for(app)
    # Unchanged polls of published files are answered before Flask (the hot path).
    app.wsgi_app = Polls(app.wsgi_app, state)  # type: ignore[method-assign]
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.errorhandler(404)
    def not_found(error: Exception) -> Response:
        if g.get("view") is None:  # no page of ours, or refused before its language was known
            language.for_unknown_address()
        return pages.not_found(g.view)

    return app
